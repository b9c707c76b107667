/**
 * V8's tier-up thresholds for a message server (docs/deployment.md, "The JavaScript engine").
 *
 * V8 compiles a function to optimised code once it has run enough bytecode (`--interrupt-budget`,
 * 66 KB a tick, three ticks and more for a large function) and, after any of its inline caches
 * changed, another `--minimum-invocations-after-ic-update` (500) calls. A server's per-message code
 * runs once per message: at 20 messages a second a publish's path (the frame's decoding, the
 * validation, the engine, the frame's encoding) was still interpreted two minutes into a run, and
 * took 0.3-0.4 ms from the publish's read to its first fan-out write against 0.22-0.28 ms with the
 * thresholds below (bench/README, "V8's tiers"). The code that runs per delivery is optimised early
 * either way: it runs a thousand times a fan-out.
 *
 * `encke serve` applies them before it loads the server (packages/cli/src/tune.ts); an embedder
 * calls `tuneV8()` first thing, or not at all. `ENCKE_V8_TUNING=off` keeps V8's defaults.
 */
import { setFlagsFromString } from 'node:v8';

/** The flags `tuneV8` sets: a quarter of V8's bytecode budget per tick, and 50 calls after an IC change. */
export const V8_TUNING: readonly string[] = ['--interrupt-budget=16384', '--minimum-invocations-after-ic-update=50'];

/** The environment variable that switches the tuning off (`off`) or on (`on`, the default). */
export const V8_TUNING_ENV = 'ENCKE_V8_TUNING';

/**
 * Sets V8_TUNING's flags in this process, unless ENCKE_V8_TUNING is `off`; returns the flags set.
 * Call it before the code it is for has run much: a function's budget is set when V8 first counts it.
 * Any other value of the variable is a configuration error (thrown), not silently the default.
 */
export function tuneV8(
  env: Readonly<Record<string, string | undefined>> = process.env,
  set: (flags: string) => void = setFlagsFromString,
): readonly string[] {
  const value = env[V8_TUNING_ENV];
  if (value === 'off') return [];
  if (value !== undefined && value !== '' && value !== 'on')
    throw new Error(`${V8_TUNING_ENV} must be "on" or "off", not ${JSON.stringify(value.slice(0, 40))}`);
  for (const flag of V8_TUNING) set(flag);
  return V8_TUNING;
}
