import { procStatFields } from '../../server/procStat';

/** Linux reports utime/stime in USER_HZ ticks, which the kernel ABI fixes at 100 per second. */
const TICKS_PER_SECOND = 100;

interface Reading {
  /** Process start time in ticks since boot: tells a reused pid from the recorder that had it. */
  startTicks: string;
  seconds: number;
}

/**
 * CPU seconds (user + system) spent by recorder processes, read from /proc/<pid>/stat. A recorder
 * is read at every scrape and, while any runs, every `intervalMs`; once it is gone its last reading
 * moves to the ended total, so the sum never goes down. A recorder's last moments before it exits
 * (at most `intervalMs` of them) are not counted: nothing can be read once the parent reaped it.
 */
export class RecorderCpuMeter {
  readonly #livePids: () => number[];
  readonly #intervalMs: number;
  #live = new Map<number, Reading>();
  #endedSeconds = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(livePids: () => number[], options: { intervalMs?: number } = {}) {
    this.#livePids = livePids;
    this.#intervalMs = options.intervalMs ?? 1000;
  }

  /** Reads every live recorder: how many there are and the CPU seconds of all recorders so far. */
  sample(): { processes: number; totalSeconds: number } {
    const pids = new Set(this.#livePids());
    const now = new Map<number, Reading>();
    for (const pid of pids) {
      const reading = readProcStat(pid);
      if (!reading) continue;
      const previous = this.#live.get(pid);
      if (previous && previous.startTicks !== reading.startTicks) {
        this.#endedSeconds += previous.seconds;
        this.#live.delete(pid);
      }
      now.set(pid, reading);
    }
    for (const [pid, previous] of this.#live) {
      if (!now.has(pid)) this.#endedSeconds += previous.seconds;
    }
    this.#live = now;
    let liveSeconds = 0;
    for (const reading of now.values()) liveSeconds += reading.seconds;
    return { processes: pids.size, totalSeconds: this.#endedSeconds + liveSeconds };
  }

  /** Keeps reading while recorders run (call when one starts); stops by itself when none is left. */
  watch(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.sample().processes === 0) this.#stopTimer();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** utime + stime of a live process, or undefined when there is none (or no /proc). */
function readProcStat(pid: number): Reading | undefined {
  const field = procStatFields(pid);
  if (!field) return undefined;
  const utime = Number(field(14));
  const stime = Number(field(15));
  const startTicks = field(22);
  if (!Number.isFinite(utime) || !Number.isFinite(stime) || startTicks === undefined) return undefined;
  return { startTicks, seconds: (utime + stime) / TICKS_PER_SECOND };
}
