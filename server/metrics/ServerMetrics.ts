import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ChannelRegistry } from '../ChannelRegistry';
import type { WorkerPool } from '../WorkerPool';

/** Something that registered collectors or listeners and lets go of them on close. */
export interface MetricsPart {
  close(): void;
}

/** What the server's own families read: its channels and its mediasoup workers. */
export interface ServerMetricsSource {
  registry: ChannelRegistry;
  pool: WorkerPool;
}

const KINDS = ['audio', 'video'] as const;

/**
 * The Prometheus registry of one server (its own Registry, not prom-client's global one, so several
 * servers in one process do not collide). Gauges read live state when scraped; counters follow
 * events. Features add their families with add().
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #parts: MetricsPart[] = [];
  #closed = false;

  constructor(source: ServerMetricsSource) {
    collectDefaultMetrics({ register: this.registry });
    const { registry: channels, pool } = source;
    const registers = [this.registry];
    new Gauge({
      name: 'confrec_channels',
      help: 'Open channels.',
      registers,
      collect() {
        this.set(channels.size);
      },
    });
    new Gauge({
      name: 'confrec_peers',
      help: 'Peers joined to a channel.',
      registers,
      collect() {
        this.set(channels.list().reduce((sum, channel) => sum + channel.peers().length, 0));
      },
    });
    const countByKind = (pick: 'producers' | 'consumers'): Record<(typeof KINDS)[number], number> => {
      const counts = { audio: 0, video: 0 };
      for (const channel of channels.list()) {
        for (const peer of channel.peers()) for (const item of peer[pick].values()) counts[item.kind]++;
      }
      return counts;
    };
    new Gauge({
      name: 'confrec_producers',
      help: 'Producers of peers, by kind.',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, count] of Object.entries(countByKind('producers'))) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'confrec_consumers',
      help: 'Consumers of peers, by kind (recorders consume apart and are not counted).',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, count] of Object.entries(countByKind('consumers'))) this.set({ kind }, count);
      },
    });
    new Gauge({
      name: 'confrec_mediasoup_workers',
      help: 'Live mediasoup worker processes.',
      registers,
      collect() {
        this.set(pool.workers.filter((worker) => !worker.closed).length);
      },
    });
    const restarts = new Counter({ name: 'confrec_mediasoup_worker_restarts_total', help: 'mediasoup workers that died and were replaced.', registers });
    const onReplaced = (): void => restarts.inc();
    pool.on('workerReplaced', onReplaced);
    this.#parts.push({ close: () => pool.off('workerReplaced', onReplaced) });
  }

  /** Adds a feature's families; its close() runs with ours. */
  add(part: MetricsPart): void {
    if (this.#closed) part.close();
    else this.#parts.push(part);
  }

  /** The text exposition format (what GET /metrics answers). */
  async exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const part of this.#parts.splice(0)) part.close();
  }
}
