/**
 * Per-fan-out trace (opt-in bench tool; bench/README "Per-fan-out trace"). Loaded into every node
 * process of a bench run with `NODE_OPTIONS=--import=<abs>/bench/dist/fanout-trace.js` and switched
 * on by `BENCH_TRACE_FANOUT=<dir>`; without that variable, or in a process that is neither a server
 * (`servers/main.js`) nor a generator (`generator.js`), it does nothing.
 *
 * It records, per payload stamp (payload.ts: `~BM` + 13 digits), on CLOCK_MONOTONIC (the same clock
 * in every process of the machine, so one timeline):
 *   - in a server: the first read carrying the stamp (the publish; a masked WebSocket frame is
 *     unmasked to find it) and the first and last socket write carrying it (the fan-out), counted;
 *   - in the generator: the publisher's socket write carrying it (the send), and the first and last
 *     `Sink.scan` that counted it (the deliveries, read where they were read), counted.
 * Hooks: `net.Socket.prototype.write` / `end` (every write of every stack goes through them),
 * `net.Socket.prototype.push` (what a server reads through node's stream: WebSocket frames), and the
 * generator's `Sink.prototype.scan`. Each costs a marker search per call: the same for every stack,
 * but not nothing (a second scan per delivery in the generator): compare traced runs with traced runs.
 *
 * Records go to `<dir>/<role>-<pid>.tsv` (role `server-<kind>` or `generator-<stack>`), each stamp's
 * line written once the stamp has been quiet for a second, the rest when the process exits (the
 * runner SIGKILLs a generator after its result: its last second may be missing).
 * `node bench/dist/fanout-trace-report.js <dir>` joins them (fanout-trace-report.ts).
 */
import { readField } from '@encke/protocol';
import { appendFileSync, mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Sink } from './payload.js';

const MARKER = Buffer.from('~BM', 'latin1');
const DIGITS = 13;
const ZERO = 48;
/** A stamp's line is written once nothing carried it for this long. */
const QUIET_US = 1_000_000;
const FLUSH_EVERY_MS = 500;
/** The columns of a trace line, after the stamp (µs on CLOCK_MONOTONIC; 0: never). */
export const TRACE_COLUMNS = ['firstRead', 'lastRead', 'reads', 'firstWrite', 'lastWrite', 'writes'] as const;

/** What a server process records per payload stamp: one number per trace column. */
export type StampRecord = Record<(typeof TRACE_COLUMNS)[number], number>;

/** Microseconds on CLOCK_MONOTONIC (process.hrtime's clock: the same in every process). */
export function monoUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

/** Calls `each` with every stamp in `buf` (plain bytes). */
function stampsIn(buf: Uint8Array, each: (stamp: number) => void): void {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = bytes.indexOf(MARKER);
  while (pos >= 0) {
    const start = pos + MARKER.length;
    if (start + DIGITS > bytes.length) return;
    let stamp = 0;
    for (let i = start; i < start + DIGITS; i++) stamp = stamp * 10 + (bytes[i]! - ZERO);
    each(stamp);
    pos = bytes.indexOf(MARKER, start + DIGITS);
  }
}

/**
 * The stamps in `buf`, also inside masked WebSocket frames (a client's: what a publisher writes and
 * a server reads), which are unmasked into a copy to be searched. Anything else is searched as is.
 */
export function tracedStamps(buf: Uint8Array, each: (stamp: number) => void): void {
  let pos = 0;
  let found = false;
  // Client frames: FIN + text/binary/continuation opcode, mask bit set.
  while (buf.length - pos >= 6 && (buf[pos]! & 0x70) === 0 && (buf[pos + 1]! & 0x80) !== 0) {
    let length = buf[pos + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buf.length - pos < 8) break;
      length = (buf[pos + 2]! << 8) | buf[pos + 3]!;
      header = 4;
    } else if (length === 127) break;
    const maskAt = pos + header;
    const start = maskAt + 4;
    if (start + length > buf.length) break;
    const plain = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) plain[i] = buf[start + i]! ^ buf[maskAt + (i & 3)]!;
    stampsIn(plain, (s) => {
      found = true;
      each(s);
    });
    pos = start + length;
  }
  if (!found) stampsIn(buf, each);
}

class Recorder {
  private readonly stamps = new Map<number, StampRecord>();
  private readonly file: string;
  private role: string;
  private headed = false;

  constructor(dir: string, role: string) {
    mkdirSync(dir, { recursive: true });
    this.role = role;
    this.file = join(dir, `${role}-${process.pid}.tsv`);
    setInterval(() => this.flush(monoUs() - QUIET_US), FLUSH_EVERY_MS).unref();
    process.on('exit', () => this.flush(Infinity));
  }

  /** The generator learns its stack from its job. */
  named(role: string): void {
    this.role = role;
  }

  private at(stamp: number): StampRecord {
    let r = this.stamps.get(stamp);
    if (r === undefined) {
      r = { firstRead: 0, lastRead: 0, reads: 0, firstWrite: 0, lastWrite: 0, writes: 0 };
      this.stamps.set(stamp, r);
    }
    return r;
  }

  read(stamp: number, now: number): void {
    const r = this.at(stamp);
    if (r.reads++ === 0) r.firstRead = now;
    r.lastRead = now;
  }

  wrote(stamp: number, now: number): void {
    const r = this.at(stamp);
    if (r.writes++ === 0) r.firstWrite = now;
    r.lastWrite = now;
  }

  /** Writes out (and forgets) every stamp last seen before `before`. */
  private flush(before: number): void {
    let text = this.headed ? '' : `# ${this.role} pid ${process.pid}\nstamp\t${TRACE_COLUMNS.join('\t')}\n`;
    for (const [stamp, r] of this.stamps) {
      if (Math.max(r.lastRead, r.lastWrite) >= before) continue;
      text += `${stamp}\t${r.firstRead.toFixed(1)}\t${r.lastRead.toFixed(1)}\t${r.reads}\t`;
      text += `${r.firstWrite.toFixed(1)}\t${r.lastWrite.toFixed(1)}\t${r.writes}\n`;
      this.stamps.delete(stamp);
    }
    if (text === '') return;
    appendFileSync(this.file, text);
    this.headed = true;
  }
}

/** Puts `fn` in place of `proto[name]` (defineProperty: an overloaded method's type is not one signature). */
function replace(proto: object, name: string, fn: (this: Socket, ...args: never[]) => unknown): void {
  Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true });
}

/** Hooks every socket write (and `end` with data) of this process. */
function hookWrites(rec: Recorder): void {
  const proto = Socket.prototype;
  const write = proto.write;
  const end = proto.end;
  const note = (chunk: unknown): void => {
    if (typeof chunk === 'string') {
      if (chunk.includes('~BM')) note(Buffer.from(chunk, 'latin1'));
    } else if (chunk instanceof Uint8Array) {
      const now = monoUs();
      tracedStamps(chunk, (s) => rec.wrote(s, now));
    }
  };
  // Whatever overload a caller used, its arguments are handed on as they came.
  replace(proto, 'write', function (this: Socket, ...args: Parameters<typeof write>): boolean {
    note(args[0]);
    return write.apply(this, args);
  });
  replace(proto, 'end', function (this: Socket, ...args: Parameters<typeof end>): Socket {
    note(args[0]);
    return end.apply(this, args);
  });
}

/** Hooks what a server reads through node's stream (`push`: WebSocket connections after the upgrade). */
function hookReads(rec: Recorder): void {
  const proto = Socket.prototype;
  const push = proto.push;
  replace(proto, 'push', function (this: Socket, ...args: Parameters<typeof push>): boolean {
    // Socket.push types its chunk `any`: read as unknown.
    const chunk = readField(args, 0);
    if (chunk instanceof Uint8Array) {
      const now = monoUs();
      tracedStamps(chunk, (s) => rec.read(s, now));
    }
    return push.apply(this, args);
  });
}

/** Hooks the generator's scan of every delivery (a read's frame, line, chunk or body). */
function hookScans(rec: Recorder): void {
  const scan = Sink.prototype.scan;
  Sink.prototype.scan = function (this: Sink, buf: Uint8Array): number {
    const now = monoUs();
    stampsIn(buf, (s) => rec.read(s, now));
    return scan.call(this, buf);
  };
}

/** The stack of a generator's job message (`{type: 'job', job: {stack}}`), if `m` is one. */
function jobStack(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || !('type' in m) || m.type !== 'job' || !('job' in m)) return undefined;
  const job: unknown = m.job;
  if (typeof job !== 'object' || job === null || !('stack' in job)) return undefined;
  return typeof job.stack === 'string' ? job.stack : undefined;
}

function start(): void {
  const dir = process.env.BENCH_TRACE_FANOUT;
  const main = process.argv[1] ?? '';
  if (dir === undefined || dir === '') return;
  if (/servers[\\/]main\.js$/.test(main)) {
    const rec = new Recorder(dir, `server-${process.argv[2] ?? 'unknown'}`);
    hookWrites(rec);
    hookReads(rec);
  } else if (/generator\.js$/.test(main)) {
    const rec = new Recorder(dir, 'generator');
    hookWrites(rec);
    hookScans(rec);
    // Listening to the job only once the generator does: a 'message' listener of its own from the
    // start would take the job before the generator's module had one (it would never run).
    const watch = (event: string | symbol): void => {
      if (event !== 'message') return;
      process.off('newListener', watch);
      process.on('message', (m: unknown) => {
        const stack = jobStack(m);
        if (stack !== undefined) rec.named(`generator-${stack}`);
      });
    };
    process.on('newListener', watch);
  }
}

start();
