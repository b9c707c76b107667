/**
 * What a server process did between two marks, counted in ways that do not depend on how busy the
 * machine is (bench/src/probe.ts reads it over IPC): bytes allocated on the V8 heap and outside it
 * (Buffers), garbage collections by kind with their pauses, CPU time, and RSS / heap growth.
 *
 * Allocation is not counted by V8 itself; it is what the heap grew by between collections: the used
 * size before each collection less the used size after the previous one (or at the start), plus
 * the growth since the last one. `v8.GCProfiler` gives both sizes for every collection.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { PerformanceObserver, constants, monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';

/** A property read as what it is here (a GC entry's `detail` is typed `any`): a value checked before use. */
const fieldOf: (target: object, key: string) => unknown = Reflect.get;

export interface GcKind {
  count: number;
  /** Sum of the pauses (ms). */
  ms: number;
  /** Longest pause (ms). */
  maxMs: number;
  /**
   * Bytes the collections of this kind kept in the young generation (`new_space` after) and moved to
   * the old one (old and large-object spaces' growth): what a scavenge copies, which its pause follows
   * more than the garbage it frees. Counted for every kind; meaningful for Scavenge.
   */
  survived: number;
  promoted: number;
}

export interface ProbeReport {
  type: 'probe';
  /** Bytes allocated on the JS heap between the marks. */
  heapAllocated: number;
  /** Bytes allocated outside the heap (ArrayBuffers, Buffers) between the marks. */
  externalAllocated: number;
  gc: Record<string, GcKind>;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssGrowth: number;
  heapUsedGrowth: number;
  /**
   * How late the event loop ran a 1 ms timer (ms): the longest stretch the server spent on one
   * piece of work (a fan-out, a heartbeat pass). Inflated on a busy machine, but a pass that
   * touches every connection at once stands out from one spread over its period.
   */
  loopDelay: { p99: number; max: number };
}

interface Sizes {
  usedHeapSize: number;
  externalMemory: number;
}

interface SpaceSize {
  spaceName: string;
  spaceUsedSize: number;
}

interface GcStatistic {
  gcType: string;
  cost: number;
  beforeGC: { heapStatistics: Sizes; heapSpaceStatistics: SpaceSize[] };
  afterGC: { heapStatistics: Sizes; heapSpaceStatistics: SpaceSize[] };
}

/** Where a scavenge leaves what survives it, and where it promotes to (V8's heap space names). */
const YOUNG_SPACES: ReadonlySet<string> = new Set(['new_space', 'new_large_object_space']);
const OLD_SPACES: ReadonlySet<string> = new Set(['old_space', 'large_object_space']);

function used(spaces: readonly SpaceSize[], names: ReadonlySet<string>): number {
  let bytes = 0;
  for (const s of spaces) if (names.has(s.spaceName)) bytes += s.spaceUsedSize;
  return bytes;
}

export class ProbeAgent {
  private profiler: GCProfiler | null = null;
  private startSizes: Sizes = { usedHeapSize: 0, externalMemory: 0 };
  private cpu = process.cpuUsage();
  private rss = 0;
  private delay: IntervalHistogram | null = null;
  /** With `BENCH_ALLOC_PROF=FILE`: V8's sampling heap profiler between the marks, garbage included. */
  private allocations: Session | null = null;

  start(): void {
    // With BENCH_TRACE_GC set: V8's line per collection between the marks (what a scavenge kept:
    // new_space_survived, promoted). Not in NODE_OPTIONS, which refuses the flag.
    if (process.env.BENCH_TRACE_GC) setFlagsFromString('--trace-gc-nvp');
    this.startAllocations();
    this.delay?.disable();
    this.delay = monitorEventLoopDelay({ resolution: 1 });
    this.delay.enable();
    this.profiler?.stop();
    this.profiler = new GCProfiler();
    const h = getHeapStatistics();
    this.startSizes = { usedHeapSize: h.used_heap_size, externalMemory: h.external_memory };
    this.rss = process.memoryUsage.rss();
    this.cpu = process.cpuUsage();
    this.profiler.start();
  }

  /**
   * Samples every allocation between the marks (one per 1 KB on average), including objects the
   * GC has collected since: where the garbage comes from, not only what stays. With
   * `BENCH_ALLOC_LIVE` set too, only objects still alive at the end mark: what the phase kept,
   * which is what its scavenges copied (survived, then promoted); with `BENCH_ALLOC_LIVE=N` (a
   * number), sampling stops right after the phase's Nth scavenge instead: what was alive then is
   * what that scavenge and the ones before it kept, including what dies before the next one. The
   * in-thread inspector session answers synchronously.
   */
  private startAllocations(): void {
    if (!process.env.BENCH_ALLOC_PROF) return;
    this.allocations?.disconnect();
    const session = (this.allocations = new Session());
    session.connect();
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: !process.env.BENCH_ALLOC_LIVE,
      includeObjectsCollectedByMinorGC: !process.env.BENCH_ALLOC_LIVE,
    });
    const after = Number(process.env.BENCH_ALLOC_LIVE);
    if (after > 0) {
      let seen = 0;
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          const detail = fieldOf(entry, 'detail');
          const kind: unknown = typeof detail === 'object' && detail !== null ? fieldOf(detail, 'kind') : undefined;
          if (kind === constants.NODE_PERFORMANCE_GC_MINOR && ++seen === after) {
            observer.disconnect();
            this.stopAllocations();
          }
        }
      });
      observer.observe({ entryTypes: ['gc'] });
    }
  }

  private stopAllocations(): void {
    const session = this.allocations;
    const file = process.env.BENCH_ALLOC_PROF;
    if (!session || !file) return;
    this.allocations = null;
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
      session.disconnect();
    });
  }

  stop(): ProbeReport {
    if (process.env.BENCH_TRACE_GC) setFlagsFromString('--no-trace-gc-nvp');
    this.stopAllocations();
    const cpu = process.cpuUsage(this.cpu);
    this.delay?.disable();
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const loopDelay = this.delay ? { p99: ms(this.delay.percentile(99)), max: ms(this.delay.max) } : { p99: 0, max: 0 };
    this.delay = null;
    const result = this.profiler?.stop() as unknown as { statistics: GcStatistic[] } | undefined;
    this.profiler = null;
    const h = getHeapStatistics();
    const end: Sizes = { usedHeapSize: h.used_heap_size, externalMemory: h.external_memory };
    let heapAllocated = 0;
    let externalAllocated = 0;
    let previous = this.startSizes;
    const gc: Record<string, GcKind> = {};
    for (const s of result?.statistics ?? []) {
      heapAllocated += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - previous.usedHeapSize);
      externalAllocated += Math.max(0, s.beforeGC.heapStatistics.externalMemory - previous.externalMemory);
      previous = s.afterGC.heapStatistics;
      const kind = (gc[s.gcType] ??= { count: 0, ms: 0, maxMs: 0, survived: 0, promoted: 0 });
      const ms = s.cost / 1000;
      kind.count++;
      kind.survived += used(s.afterGC.heapSpaceStatistics, YOUNG_SPACES);
      kind.promoted += Math.max(
        0,
        used(s.afterGC.heapSpaceStatistics, OLD_SPACES) - used(s.beforeGC.heapSpaceStatistics, OLD_SPACES),
      );
      kind.ms += ms;
      kind.maxMs = Math.max(kind.maxMs, ms);
    }
    heapAllocated += Math.max(0, end.usedHeapSize - previous.usedHeapSize);
    externalAllocated += Math.max(0, end.externalMemory - previous.externalMemory);
    return {
      type: 'probe',
      heapAllocated,
      externalAllocated,
      gc,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssGrowth: process.memoryUsage.rss() - this.rss,
      heapUsedGrowth: end.usedHeapSize - this.startSizes.usedHeapSize,
      loopDelay,
    };
  }
}
