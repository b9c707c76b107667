/**
 * Where a server process's resident memory is, read from inside it (Linux): `/proc/self/smaps`
 * grouped by kind of mapping, V8's heap spaces (committed, used and resident), and
 * `process.memoryUsage()`, after two full GCs. `npm run rss-breakdown` (rss-breakdown.ts) takes it
 * before and after the connections open, for every stack alike.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

/** glibc's per-thread malloc arenas are reserved as 64 MiB aligned regions (HEAP_MAX_SIZE on 64-bit). */
const ARENA_BYTES = 64 * 1024 * 1024;

/** Resident bytes by kind of mapping. */
export interface MappingKinds {
  /** `[heap]`: the main thread's malloc (node's and libuv's C++ objects). */
  mallocMain: number;
  /** Anonymous 64 MiB-aligned regions: other threads' malloc arenas (V8's compiler and GC helpers). */
  mallocThreads: number;
  /** The rest of the anonymous mappings: V8's heap pages, large mallocs (mmap), thread stacks. */
  anonOther: number;
  /** File-backed mappings: the node binary's and shared libraries' pages touched so far. */
  files: number;
  /** `[stack]`, `[vdso]`, … */
  special: number;
}

export interface SpaceReport {
  name: string;
  /** Committed by V8. */
  size: number;
  used: number;
  /** Resident (touched) of the committed. */
  physical: number;
}

export interface Breakdown {
  type: 'breakdown';
  /** RSS right after the GCs, before `settleMs`. */
  rssAtGc: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  kinds: MappingKinds;
  spaces: SpaceReport[];
  /** Resident bytes of the file-backed mappings, by file. */
  filesByPath: Record<string, number>;
}

interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rss: number;
}

function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      maps.push({
        start: parseInt(head[1]!, 16),
        end: parseInt(head[2]!, 16),
        perms: head[3]!,
        path: head[4]!,
        rss: 0,
      });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length > 0) maps[maps.length - 1]!.rss = Number(rss[1]) * 1024;
  }
  return maps;
}

/** An arena's first mapping starts on a 64 MiB boundary; the rest of its 64 MiB (rw or ---p) follows. */
function arenaMappings(maps: Mapping[]): Set<Mapping> {
  const arenas = new Set<Mapping>();
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    if (m.path !== '' || m.start % ARENA_BYTES !== 0) continue;
    const limit = m.start + ARENA_BYTES;
    for (let j = i; j < maps.length && maps[j]!.path === '' && maps[j]!.end <= limit; j++) arenas.add(maps[j]!);
  }
  return arenas;
}

function kinds(maps: Mapping[]): { kinds: MappingKinds; filesByPath: Record<string, number> } {
  const arenas = arenaMappings(maps);
  const k: MappingKinds = { mallocMain: 0, mallocThreads: 0, anonOther: 0, files: 0, special: 0 };
  const filesByPath: Record<string, number> = {};
  for (const m of maps) {
    if (m.path === '[heap]') k.mallocMain += m.rss;
    else if (m.path.startsWith('[')) k.special += m.rss;
    else if (m.path !== '') {
      k.files += m.rss;
      filesByPath[m.path] = (filesByPath[m.path] ?? 0) + m.rss;
    } else if (arenas.has(m)) k.mallocThreads += m.rss;
    else k.anonOther += m.rss;
  }
  return { kinds: k, filesByPath };
}

/**
 * After two full GCs: V8's figures at once, RSS and the mappings `settleMs` later (V8 gives the
 * pages a GC freed back to the system from a helper thread, some time after the GC; `rssAtGc` is
 * RSS read at once, for comparison).
 */
export async function breakdown(settleMs: number): Promise<Breakdown> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const spaces = getHeapSpaceStatistics().map((s) => ({
    name: s.space_name,
    size: s.space_size,
    used: s.space_used_size,
    physical: s.physical_space_size,
  }));
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  let smaps = '';
  try {
    smaps = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    // not Linux: only V8's numbers
  }
  const dump = process.env.BENCH_SMAPS_DUMP;
  if (dump && smaps) writeFileSync(`${dump}-${process.pid}-${Date.now()}.smaps`, smaps);
  return {
    type: 'breakdown',
    rssAtGc: m.rss,
    rss: process.memoryUsage.rss(),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    ...kinds(parseSmaps(smaps)),
    spaces,
  };
}
