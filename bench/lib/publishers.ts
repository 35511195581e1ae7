/**
 * Replay publishers as the server sees them: each joins a channel over WebSocket signaling, creates a
 * PlainTransport per kind (comedia: the server learns our address from the first packet) and produces
 * VP8 (one encoding; for the `simulcast` clip three, with temporal layers) + Opus; the packets come
 * from the publisher host child process (bench/publisherHost.ts).
 */
import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { SignalingClient } from '../../signaling/SignalingClient';
import type { AddStream, HostCommand } from '../publisherHost';
import type { ClipName } from './content';
import { SIMULCAST_LAYERS, SIMULCAST_SCALABILITY_MODE } from './simulcastClip';
import type { StreamStats } from './replayer';

const VIDEO_PT = 101;
const AUDIO_PT = 100;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class PublisherHost {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;

  static async start(): Promise<PublisherHost> {
    const host = new PublisherHost();
    await new Promise<void>((resolve, reject) => {
      host.#child.once('message', () => resolve());
      host.#child.once('exit', (code) => reject(new Error(`publisher host exited (${code})`)));
    });
    host.#child.on('message', (raw: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const pending = raw.id === undefined ? undefined : host.#pending.get(raw.id);
      if (!pending) return;
      host.#pending.delete(raw.id!);
      if (raw.ok) pending.resolve(raw.result);
      else pending.reject(new Error(raw.error));
    });
    return host;
  }

  private constructor() {
    this.#child = fork(path.join(__dirname, '..', 'publisherHost.js'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  request<T>(request: HostCommand): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#child.send({ ...request, id });
    });
  }

  stats(): Promise<StreamStats[]> {
    return this.request({ op: 'stats' });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export interface ReplayPublisher {
  uid: string;
  videoProducerId: string;
  audioProducerId: string;
  stop(): Promise<void>;
}

let ssrcCounter = 0;

/** Joins `client` (already joined to its channel) as a publisher of `clip`. */
export async function publishReplay(
  host: PublisherHost,
  client: SignalingClient,
  uid: string,
  options: { clip?: ClipName; offsetS?: number; startAtMs?: number } = {},
): Promise<ReplayPublisher> {
  const clip = options.clip ?? 'moving';
  const simulcast = clip === 'simulcast';
  // Video SSRCs first (one per encoding), then audio's.
  const videoSsrcCount = simulcast ? SIMULCAST_LAYERS.length : 1;
  const ssrcBase = 20_000_000 + (process.pid % 1000) * 100_000 + ssrcCounter;
  ssrcCounter += videoSsrcCount + 1;
  const ids: string[] = [];
  const streams: AddStream[] = [];
  const producers: Record<'video' | 'audio', string> = { video: '', audio: '' };
  for (const kind of ['video', 'audio'] as const) {
    const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
    const ssrcs = kind === 'video' ? Array.from({ length: videoSsrcCount }, (_, i) => ssrcBase + i) : [ssrcBase + videoSsrcCount];
    const { producerId } = await client.request('produce', { transportId: transport.transportId, kind, ...producerParameters(kind, ssrcs, simulcast) } as never);
    producers[kind] = producerId;
    ssrcs.forEach((ssrc, index) => {
      const id = `${uid}-${kind}-${ssrc}`;
      ids.push(id);
      streams.push({
        id,
        clip,
        kind,
        ...(simulcast && kind === 'video' ? { spatialLayer: index, socketGroup: `${uid}-video-${ssrcs[0]}` } : {}),
        host: transport.ip,
        port: transport.port,
        ssrc,
        payloadType: kind === 'video' ? VIDEO_PT : AUDIO_PT,
        startAtMs: 0,
        offsetS: options.offsetS ?? 0,
        onPli: clip === 'avsync' ? 'wait' : 'jump',
      });
    });
  }
  // Both kinds start together (clip time 0 at the same wall time), after the signaling round trips.
  const startAtMs = options.startAtMs ?? Date.now() + 50;
  for (const stream of streams) await host.request({ op: 'add', stream: { ...stream, startAtMs } });
  return {
    uid,
    videoProducerId: producers.video,
    audioProducerId: producers.audio,
    async stop() {
      for (const id of ids) await host.request({ op: 'remove', streamId: id }).catch(() => undefined);
    },
  };
}

/**
 * produce's parameters. Simulcast as a browser sends it (rid/ssrc simulcast, one producer): one
 * encoding per layer, lowest first, each scaled down from the declared full-size picture and with
 * L1T3 temporal layers.
 */
function producerParameters(kind: 'video' | 'audio', ssrcs: number[], simulcast: boolean): Record<string, unknown> {
  if (kind === 'audio') {
    return { rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } }], encodings: [{ ssrc: ssrcs[0] }] } };
  }
  const codecs = [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }] }];
  if (!simulcast) return { rtpParameters: { codecs, encodings: [{ ssrc: ssrcs[0] }] } };
  const top = SIMULCAST_LAYERS[SIMULCAST_LAYERS.length - 1]!;
  const encodings = SIMULCAST_LAYERS.map((layer, index) => ({ ssrc: ssrcs[index], scaleResolutionDownBy: top.width / layer.width, scalabilityMode: SIMULCAST_SCALABILITY_MODE }));
  return { rtpParameters: { codecs, encodings }, videoSize: { width: top.width, height: top.height } };
}
