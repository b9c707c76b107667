/**
 * Message payloads carry their send time, and subscribers find them by a marker instead of parsing
 * each frame: `~BM` + 13 digits of microseconds on the generator's monotonic clock + padding. The
 * marker survives every wire format used here (JSON strings, MessagePack str, Bayeux, engine.io
 * packets), so one scanner counts deliveries and latencies for every stack, also when a frame or
 * a poll response carries many messages.
 */
import { Histogram } from './histogram.js';

const MARKER = Buffer.from('~BM', 'latin1');
const DIGITS = 13;
const ZERO = 48;
const START = process.hrtime();

/** Microseconds since this process started (monotonic). */
export function nowUs(): number {
  const [s, ns] = process.hrtime(START);
  return s * 1e6 + Math.floor(ns / 1e3);
}

/** A payload of exactly `size` characters stamped with the current time. */
export function makePayload(size: number, padding: string): string {
  const stamp = String(nowUs()).padStart(DIGITS, '0');
  return `~BM${stamp}~${padding.slice(0, Math.max(0, size - MARKER.length - DIGITS - 1))}`;
}

export function paddingFor(size: number): string {
  return 'x'.repeat(size);
}

/** Counts deliveries and their latencies for all subscribers of one generator. */
export class Sink {
  delivered = 0;
  readonly latency = new Histogram();
  /** When false, deliveries are counted but latencies not recorded. */
  recording = true;

  /** Scans a complete message (frame, line or response body) for payloads; returns how many. */
  scan(buf: Uint8Array): number {
    let pos = indexOf(buf, 0);
    if (pos < 0) return 0;
    const at = nowUs();
    let found = 0;
    while (pos >= 0) {
      const start = pos + MARKER.length;
      if (start + DIGITS > buf.length) break;
      let sent = 0;
      for (let i = start; i < start + DIGITS; i++) sent = sent * 10 + (buf[i]! - ZERO);
      if (this.recording) this.latency.record(at - sent);
      found++;
      pos = indexOf(buf, start + DIGITS);
    }
    this.delivered += found;
    return found;
  }
}

function indexOf(buf: Uint8Array, from: number): number {
  return Buffer.isBuffer(buf)
    ? buf.indexOf(MARKER, from)
    : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf(MARKER, from);
}
