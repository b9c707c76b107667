/**
 * V8's tier-up thresholds for the server (packages/server/src/util/v8-tuning.ts), set on import:
 * bin.ts imports this module first, so the flags are in place before the server's code first runs.
 * A bad ENCKE_V8_TUNING is kept here and reported by `serve` as a usage error (cli.ts).
 */
import { tuneV8 } from '@encke/server';

export interface V8Tuning {
  /** The flags set (none when ENCKE_V8_TUNING=off). */
  flags: readonly string[];
  /** Why nothing was set, if ENCKE_V8_TUNING was neither on nor off. */
  problem?: string;
}

function tune(): V8Tuning {
  try {
    return { flags: tuneV8() };
  } catch (err) {
    return { flags: [], problem: err instanceof Error ? err.message : String(err) };
  }
}

export const v8Tuning: V8Tuning = tune();
