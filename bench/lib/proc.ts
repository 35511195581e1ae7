/**
 * CPU and memory of processes from /proc: utime+stime of a process and every live descendant (threads
 * are inside their process's figures), plus cutime+cstime (children already waited for), in seconds.
 */
import fs from 'node:fs';
import { procStatFields } from '../../server/procStat';

const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux

interface StatLine {
  pid: number;
  ppid: number;
  cpuS: number;
  childrenCpuS: number;
}

function readStat(pid: number): StatLine | undefined {
  const field = procStatFields(pid);
  if (!field) return undefined;
  const num = (index: number): number => Number(field(index));
  return { pid, ppid: num(4), cpuS: (num(14) + num(15)) / CLOCK_TICKS, childrenCpuS: (num(16) + num(17)) / CLOCK_TICKS };
}

function allStats(): StatLine[] {
  const lines: StatLine[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) lines.push(stat);
  }
  return lines;
}

/** CPU seconds of each root's tree (the root, its live descendants, and their waited-for children). */
export function treeCpuSeconds(roots: readonly number[]): Map<number, number> {
  const stats = allStats();
  const children = new Map<number, StatLine[]>();
  for (const stat of stats) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  const byPid = new Map(stats.map((stat) => [stat.pid, stat]));
  const result = new Map<number, number>();
  for (const root of roots) {
    const top = byPid.get(root);
    if (!top) {
      result.set(root, NaN);
      continue;
    }
    let total = 0;
    const stack = [top];
    while (stack.length > 0) {
      const stat = stack.pop()!;
      total += stat.cpuS + stat.childrenCpuS;
      stack.push(...(children.get(stat.pid) ?? []));
    }
    result.set(root, total);
  }
  return result;
}

/** Peak resident set (VmHWM) in MB, or NaN when the process is gone. */
export function peakRssMb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Busy share of all cores over an interval, from /proc/stat (the whole machine, other users included). */
export class MachineLoad {
  #start = MachineLoad.#read();
  static #read(): { busy: number; total: number } {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  }
  reset(): void {
    this.#start = MachineLoad.#read();
  }
  /** Cores busy on average since construction/reset (0..cores). */
  coresBusy(cores: number): number {
    const now = MachineLoad.#read();
    const total = now.total - this.#start.total;
    return total > 0 ? ((now.busy - this.#start.busy) / total) * cores : NaN;
  }
}

/** A CPU meter over a set of process trees between start() and stop(). */
export class CpuMeter {
  readonly #roots: number[];
  #start = new Map<number, number>();
  #startAt = 0;
  constructor(roots: readonly number[]) {
    this.#roots = [...roots];
  }
  start(): void {
    this.#start = treeCpuSeconds(this.#roots);
    this.#startAt = performance.now();
  }
  /** CPU seconds per root over the interval, and the interval's wall seconds. */
  stop(): { perRoot: Map<number, number>; totalS: number; wallS: number } {
    const end = treeCpuSeconds(this.#roots);
    const wallS = (performance.now() - this.#startAt) / 1000;
    const perRoot = new Map<number, number>();
    let totalS = 0;
    for (const root of this.#roots) {
      const used = (end.get(root) ?? NaN) - (this.#start.get(root) ?? NaN);
      perRoot.set(root, used);
      if (Number.isFinite(used)) totalS += used;
    }
    return { perRoot, totalS, wallS };
  }
}
