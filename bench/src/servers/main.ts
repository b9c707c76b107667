/**
 * One server under test, in its own process (pinned to the server core by the runner). Started as
 * `node servers/main.js <kind> [redis URL]` (encke only: a node of a cluster on that Redis);
 * answers over IPC:
 *   → {type:'ready', port}          once listening on 127.0.0.1 (port 0: a free one)
 *   ← {type:'memory'}  → {type:'memory', rss, heapUsed, …}   after two full GCs (needs --expose-gc), RSS 0.5 s later
 *   ← {type:'breakdown'}  → Breakdown   resident memory by kind of mapping and V8 space (breakdown.ts)
 *   ← {type:'snapshot', file}  → {type:'snapshot', file}   a V8 heap snapshot written to `file`
 *   ← {type:'probe', op:'start'}  ← {type:'probe', op:'stop'}  → ProbeReport   (probe-agent.ts)
 * and exits when the runner disconnects.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { startBareWs } from './bare-ws.js';
import { breakdown } from './breakdown.js';
import { startEncke } from './encke.js';
import { startFaye } from './faye.js';
import { ProbeAgent } from './probe-agent.js';
import { startSocketIo } from './socketio.js';

export type ServerKind = 'encke' | 'bare-ws' | 'socketio' | 'faye';

export interface MemoryReport {
  type: 'memory';
  rss: number;
  heapUsed: number;
  /** The V8 heap's committed size; its young generation (`newSpace`) is empty after the GCs but stays committed. */
  heapTotal: number;
  newSpace: number;
  /** Memory of C++ objects bound to JavaScript ones, as V8 is told of it (Buffers included). */
  external: number;
  /**
   * Resident bytes of the process's `[heap]` mapping (Linux; 0 elsewhere): what the main thread's
   * small mallocs hold (node's and libuv's C++ objects: sockets, HTTP parsers), apart from V8's
   * heap, which V8 maps itself.
   */
  malloc: number;
}

/** The `Rss:` of `[heap]` in /proc/self/smaps, in bytes. */
function mallocResident(): number {
  try {
    const smaps = readFileSync('/proc/self/smaps', 'utf8');
    const at = smaps.indexOf('[heap]\n');
    const rss = at < 0 ? null : /\nRss:\s+(\d+) kB/.exec(smaps.slice(at));
    return rss ? Number(rss[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const starters: Record<ServerKind, (redis?: string) => Promise<number>> = {
  encke: startEncke,
  'bare-ws': () => withHttp(startBareWs),
  socketio: () => withHttp(startSocketIo),
  faye: () => withHttp(startFaye),
};

async function withHttp(attach: (server: Server) => void): Promise<number> {
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * How long after its GCs the server reads RSS and malloc. V8 gives the pages a full GC freed back
 * to the system from a helper thread, which on the pinned server core runs only once the main
 * thread yields: read at once, RSS still held 2-7 MiB of them in about half the reads (and none in
 * the others), more than the 10,000 connections' differences between stacks (bench/README,
 * "Where the rest of the RSS was"). Heap figures are read right after the GCs, before anything
 * else runs.
 */
const MEMORY_SETTLE_MS = 500;

async function memory(): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  await new Promise((resolve) => setTimeout(resolve, MEMORY_SETTLE_MS));
  return {
    type: 'memory',
    rss: process.memoryUsage.rss(),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    newSpace,
    external: m.external,
    malloc: mallocResident(),
  };
}

async function main(): Promise<void> {
  const kind = process.argv[2] as ServerKind;
  const start = starters[kind];
  if (!start || !process.send) throw new Error(`usage: (forked) main.js ${Object.keys(starters).join('|')}`);
  const port = await start(process.argv[3]);
  const probe = new ProbeAgent();
  process.on('message', (msg: { type?: string; op?: string; file?: string; settleMs?: number }) => {
    if (msg.type === 'memory') void memory().then((report) => process.send!(report));
    else if (msg.type === 'breakdown') void breakdown(msg.settleMs ?? MEMORY_SETTLE_MS).then((b) => process.send!(b));
    else if (msg.type === 'snapshot' && msg.file)
      process.send!({ type: 'snapshot', file: writeHeapSnapshot(msg.file) });
    else if (msg.type === 'probe' && msg.op === 'start') {
      probe.start();
      process.send!({ type: 'probe-started' });
    } else if (msg.type === 'probe' && msg.op === 'stop') process.send!(probe.stop());
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
