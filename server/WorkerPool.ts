import os from 'node:os';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { Logger } from './logger';
import { TypedEmitter } from './TypedEmitter';

const logger = new Logger('WorkerPool');

export interface WorkerPoolOptions {
  /** 0 → one per CPU core. */
  numWorkers: number;
  logLevel: ms.WorkerLogLevel;
  rtcMinPort: number;
  rtcMaxPort: number;
}

export type WorkerPoolEvents = {
  /** A worker died (it is already being replaced); its routers have closed. */
  workerDied: [worker: ms.Worker, error: Error];
  workerReplaced: [worker: ms.Worker];
};

/**
 * The mediasoup workers: one per core by default, handed out round-robin. A worker that dies is
 * replaced; the process never exits because of it.
 */
export class WorkerPool extends TypedEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #workers: ms.Worker[] = [];
  #next = 0;
  #closed = false;
  #respawnFailures = 0;

  private constructor(options: WorkerPoolOptions) {
    super();
    this.#options = options;
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const count = options.numWorkers > 0 ? options.numWorkers : os.cpus().length;
    try {
      for (let index = 0; index < count; index++) pool.#workers.push(await pool.#spawn());
    } catch (error) {
      pool.close();
      throw error;
    }
    logger.info(`create() | ${count} mediasoup worker(s) running [version:${mediasoup.version}]`);
    return pool;
  }

  get workers(): readonly ms.Worker[] {
    return this.#workers;
  }

  /** The next live worker, round-robin. */
  nextWorker(): ms.Worker {
    const live = this.#workers.filter((worker) => !worker.closed);
    if (live.length === 0) throw new Error('no mediasoup worker is running');
    const worker = live[this.#next % live.length]!;
    this.#next = (this.#next + 1) % Math.max(live.length, 1);
    return worker;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers) worker.close();
    this.#workers.length = 0;
  }

  async #spawn(): Promise<ms.Worker> {
    const worker = await mediasoup.createWorker({
      logLevel: this.#options.logLevel,
      rtcMinPort: this.#options.rtcMinPort,
      rtcMaxPort: this.#options.rtcMaxPort,
    });
    worker.on('died', (error) => this.#onDied(worker, error));
    return worker;
  }

  #onDied(worker: ms.Worker, error: Error): void {
    logger.error(`worker died [pid:${worker.pid}]: ${error.message}; replacing it`);
    const index = this.#workers.indexOf(worker);
    if (index >= 0) this.#workers.splice(index, 1);
    this.safeEmit('workerDied', worker, error);
    if (this.#closed) return;
    void this.#replace();
  }

  async #replace(): Promise<void> {
    // Back off when workers keep dying at start so a broken binary does not spin the CPU.
    const delayMs = Math.min(30_000, this.#respawnFailures === 0 ? 0 : 500 * 2 ** this.#respawnFailures);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (this.#closed) return;
    try {
      const replacement = await this.#spawn();
      if (this.#closed) {
        replacement.close();
        return;
      }
      this.#respawnFailures = 0;
      this.#workers.push(replacement);
      logger.info(`worker replaced [pid:${replacement.pid}]`);
      this.safeEmit('workerReplaced', replacement);
    } catch (spawnError) {
      this.#respawnFailures++;
      logger.error(`cannot start a replacement worker: ${String(spawnError)}`);
      void this.#replace();
    }
  }
}
