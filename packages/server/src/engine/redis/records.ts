/**
 * JSON records read back from Redis (apps, revocations, occupancy reports, a connection's presence
 * channels) are checked before use: Redis is shared, so a record may be corrupt, written by another
 * version of encke, or written by something else under our prefix. One that fails its check is
 * skipped where it is read, and its kind is logged once per node: never the record itself (it may
 * hold secrets), only what kind it was.
 */
import { parseJson } from '@encke/protocol';
import type { Logger } from '../../util/logger.js';

/** The JSON `text` if it parses and passes `is`; undefined otherwise (the caller skips it). */
export function parseRecord<T>(text: string, is: (value: unknown) => value is T): T | undefined {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return undefined;
  }
  return is(value) ? value : undefined;
}

/** Reports skipped records: one warning per kind of record, then silence (a corrupt key is read again and again). */
export class CorruptRecords {
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger) {}

  /** A record of `kind` (`app`, `revocation`, …) failed its check and was skipped. */
  skipped(kind: string): void {
    if (this.logged.has(kind)) return;
    this.logged.add(kind);
    this.logger.warn({ kind }, 'skipped a corrupt record read from redis (logged once per kind)');
  }
}
