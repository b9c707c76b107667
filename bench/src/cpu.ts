/**
 * CPU use from Linux /proc: this process, the server side of a stack (every process of it: one
 * node, or several nodes and redis-server) and the rest of the machine. Null where /proc is absent.
 */
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

/** CPU seconds one process has used, or null when it cannot be read. */
function processCpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** CPU seconds all of `pids` have used together, or null when any cannot be read. */
function serverCpuSeconds(pids: readonly number[]): number | null {
  let sum = 0;
  for (const pid of pids) {
    const s = processCpuSeconds(pid);
    if (s === null) return null;
    sum += s;
  }
  return sum;
}

/** CPU seconds the whole machine has been busy (Linux /proc/stat), or null elsewhere. */
function machineBusySeconds(): number | null {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/);
    const n = fields.map(Number);
    const idle = (n[3] ?? 0) + (n[4] ?? 0);
    return (n.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
  } catch {
    return null;
  }
}

export interface CpuUse {
  generatorCpu: number;
  /** Every server-side process of the stack together (1 = one core). */
  serverCpu: number | null;
  /** Everything else on the machine (other users' work): a busy machine makes a step noisy. */
  otherCpu: number | null;
}

/** Measures CPU use of this process, the server side and the rest of the machine from construction to `read()`. */
export class CpuMeter {
  private cpu = process.cpuUsage();
  private readonly server: number | null;
  private readonly machine: number | null;
  private at = performance.now();

  constructor(private readonly serverPids: readonly number[]) {
    this.server = serverCpuSeconds(serverPids);
    this.machine = machineBusySeconds();
  }

  read(): CpuUse {
    const seconds = (performance.now() - this.at) / 1000;
    const used = process.cpuUsage(this.cpu);
    const server = serverCpuSeconds(this.serverPids);
    const machine = machineBusySeconds();
    const round = (x: number): number => Math.round(x * 100) / 100;
    const generatorCpu = (used.user + used.system) / 1e6 / seconds;
    const serverCpu = server === null || this.server === null ? null : (server - this.server) / seconds;
    const machineCpu = machine === null || this.machine === null ? null : (machine - this.machine) / seconds;
    return {
      generatorCpu: round(generatorCpu),
      serverCpu: serverCpu === null ? null : round(serverCpu),
      otherCpu:
        machineCpu === null || serverCpu === null ? null : round(Math.max(0, machineCpu - serverCpu - generatorCpu)),
    };
  }
}
