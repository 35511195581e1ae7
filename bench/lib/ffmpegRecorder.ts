/**
 * The baseline most mediasoup users build: consume each producer through a PlainTransport (comedia off,
 * RTCP on rtp+1), describe it in an SDP file and let `ffmpeg -protocol_whitelist file,udp,rtp -i x.sdp`
 * receive it. Composite: scale every participant to the same tiles as ours (computeLayout), xstack +
 * pad to the canvas, amix, libx264 ultrafast at the same size/fps/bitrate, AAC like ours. Copy: one
 * ffmpeg per stream writing WebM without re-encoding.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import type { types as ms } from 'mediasoup';
import { computeLayout, MixedVideoLayout } from '../../plugin/recording/layout';
import { AUDIO_PROFILES } from '../../plugin/recording/recorder/protocol';
import { withoutBandwidthEstimation } from '../../plugin/recording/media/recorderRtpCapabilities';

export interface Canvas {
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

interface Leg {
  transport: ms.PlainTransport;
  consumer: ms.Consumer;
  port: number;
}

const KEY_FRAME_RETRY_MS = [0, 250, 750, 1500, 3000, 5000];

/**
 * An even UDP port P with P and P+1 free, for ffmpeg to bind from the SDP. Taken below the kernel's
 * ephemeral range (where every `port 0` bind — our recorders' udpsrc included — lands), and never
 * handed out twice by this process: ffmpeg binds its inputs one by one, seconds after we chose.
 */
const handedOut = new Set<number>();
const PORT_RANGE = { min: 20000, max: 30000 };
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = PORT_RANGE.min + 2 * Math.floor((Math.random() * (PORT_RANGE.max - PORT_RANGE.min)) / 2);
    if (handedOut.has(base)) continue;
    try {
      const a = await bindUdp(base);
      const b = await bindUdp(base + 1).catch((error) => {
        a.close();
        throw error;
      });
      a.close();
      b.close();
      handedOut.add(base);
      return base;
    } catch {
      // taken: try another
    }
  }
  throw new Error('no free UDP port pair');
}

function bindUdp(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** Ports bound on loopback/any according to /proc/net/udp. */
function boundUdpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (local) ports.add(parseInt(local.split(':')[1]!, 16));
  }
  return ports;
}

async function consumeInto(router: ms.Router, producerId: string, options: { withoutBwe?: boolean } = {}): Promise<Leg> {
  const transport = await router.createPlainTransport({ listenIp: { ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
  const rtpCapabilities = options.withoutBwe ? withoutBandwidthEstimation(router.rtpCapabilities) : router.rtpCapabilities;
  const consumer = await transport.consume({ producerId, rtpCapabilities, paused: true });
  return { transport, consumer, port: await freePortPair() };
}

function sdpFor(legs: Leg[]): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=bench', 'c=IN IP4 127.0.0.1', 't=0 0'];
  for (const { consumer, port } of legs) {
    const codec = consumer.rtpParameters.codecs[0]!;
    const [, name] = codec.mimeType.split('/');
    lines.push(`m=${consumer.kind} ${port} RTP/AVP ${codec.payloadType}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${codec.channels ? `/${codec.channels}` : ''}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface FfmpegRecording {
  pid: number;
  /** The mediasoup consumers feeding it (default layers: a simulcast consumer sends the top one). */
  consumers: ms.Consumer[];
  output: string;
  startedAt: number;
  stop(): Promise<void>;
}

interface FfmpegOptions {
  router: ms.Router;
  /** Per participant, in tile order. */
  participants: Array<{ uid: string; videoProducerId?: string; audioProducerId?: string }>;
  workDir: string;
  /**
   * Consume without claiming transport-cc/REMB (see withoutBandwidthEstimation): a simulcast
   * consumer then sends its default, the top layer, every temporal layer.
   */
  withoutBwe?: boolean;
}

async function launch(options: FfmpegOptions, legsByInput: Leg[][], args: (sdps: string[]) => string[], output: string): Promise<FfmpegRecording> {
  fs.mkdirSync(options.workDir, { recursive: true });
  const sdps = legsByInput.map((legs, index) => {
    const file = path.join(options.workDir, `in${index}.sdp`);
    fs.writeFileSync(file, sdpFor(legs));
    return file;
  });
  const child = spawn('ffmpeg', args(sdps), { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const legs = legsByInput.flat();
  // ffmpeg opens its inputs one after the other, each only after probing the previous one's packets:
  // wire each input's consumers as soon as its sockets are bound (packets sent before are lost).
  for (const inputLegs of legsByInput) {
    const deadline = Date.now() + 15_000;
    while (!inputLegs.every((leg) => boundUdpPorts().has(leg.port))) {
      if (child.exitCode !== null) throw new Error(`ffmpeg exited early: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`ffmpeg did not bind its ports: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const leg of inputLegs) {
      await leg.transport.connect({ ip: '127.0.0.1', port: leg.port, rtcpPort: leg.port + 1 });
      await leg.consumer.resume();
      if (leg.consumer.kind === 'video') for (const delay of KEY_FRAME_RETRY_MS) setTimeout(() => void leg.consumer.requestKeyFrame().catch(() => undefined), delay).unref();
    }
  }
  const startedAt = Date.now();
  return {
    pid: child.pid!,
    consumers: legs.map((leg) => leg.consumer),
    output,
    startedAt,
    async stop() {
      if (child.exitCode === null) {
        child.stdin!.write('q');
        const timer = setTimeout(() => {
          stderr += '\n[bench] ffmpeg did not finish within 15 s of q: killed';
          child.kill('SIGKILL');
        }, 15_000);
        await exited;
        clearTimeout(timer);
      }
      for (const leg of legs) leg.transport.close();
      if (!fs.existsSync(output) || child.signalCode === 'SIGKILL') throw new Error(`ffmpeg did not finish ${output}: ${stderr}`);
    },
  };
}

/** analyzeduration 1 s: with the 5 s default ffmpeg probes each SDP input in turn for seconds before writing. */
const INPUT_ARGS = ['-protocol_whitelist', 'file,udp,rtp', '-analyzeduration', '1000000', '-thread_queue_size', '1024', '-reorder_queue_size', '64'];

/** Composite: same tiles, canvas, encoder family and bitrate as our recorder. */
export async function startFfmpegComposite(options: FfmpegOptions & { canvas: Canvas; layout: MixedVideoLayout; extraArgs?: string[] }): Promise<FfmpegRecording> {
  const { canvas } = options;
  const legsByInput: Leg[][] = [];
  for (const participant of options.participants) {
    const legs: Leg[] = [];
    const consume = { withoutBwe: options.withoutBwe ?? false };
    if (participant.videoProducerId) legs.push(await consumeInto(options.router, participant.videoProducerId, consume));
    if (participant.audioProducerId) legs.push(await consumeInto(options.router, participant.audioProducerId, consume));
    legsByInput.push(legs);
  }
  const tiles = computeLayout(canvas, options.layout, options.participants.map((p) => p.uid));
  const filters: string[] = [];
  const videoLabels: string[] = [];
  const positions: string[] = [];
  tiles.forEach((tile, index) => {
    filters.push(`[${index}:v:0]fps=${canvas.fps},scale=${tile.width}:${tile.height},setsar=1[v${index}]`);
    videoLabels.push(`[v${index}]`);
    positions.push(`${tile.x}_${tile.y}`);
  });
  if (tiles.length === 1) filters.push(`[v0]pad=${canvas.width}:${canvas.height}:${tiles[0]!.x}:${tiles[0]!.y}:black[vout]`);
  else filters.push(`${videoLabels.join('')}xstack=inputs=${tiles.length}:layout=${positions.join('|')}:fill=black,pad=${canvas.width}:${canvas.height}:0:0:black[vout]`);
  const audioInputs = options.participants.map((p, index) => (p.audioProducerId ? `[${index}:a:0]` : '')).filter(Boolean);
  if (audioInputs.length === 1) filters.push(`${audioInputs[0]}anull[aout]`);
  else if (audioInputs.length > 1) filters.push(`${audioInputs.join('')}amix=inputs=${audioInputs.length}:normalize=0[aout]`);
  const profile = AUDIO_PROFILES.MusicStandard;
  const output = path.join(options.workDir, 'ffmpeg.mp4');
  return launch(options, legsByInput, (sdps) => [
    '-hide_banner', '-loglevel', 'error', '-y',
    ...sdps.flatMap((sdp) => [...INPUT_ARGS, '-i', sdp]),
    '-filter_complex', filters.join(';'),
    '-map', '[vout]', ...(audioInputs.length > 0 ? ['-map', '[aout]'] : []),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-b:v', `${canvas.bitrateKbps}k`, '-g', String(canvas.fps * 2), '-r', String(canvas.fps),
    ...(options.extraArgs ?? []),
    '-c:a', 'aac', '-b:a', String(profile.bitrate), '-ar', String(profile.rate), '-ac', String(profile.channels),
    output,
  ], output);
}

/** Per-participant baseline: one `ffmpeg -c copy` per stream into WebM. */
export async function startFfmpegCopy(options: FfmpegOptions & { producerId: string; name: string }): Promise<FfmpegRecording> {
  const leg = await consumeInto(options.router, options.producerId);
  const output = path.join(options.workDir, `${options.name}.webm`);
  return launch({ ...options, workDir: options.workDir }, [[leg]], (sdps) => [
    '-hide_banner', '-loglevel', 'error', '-y', ...INPUT_ARGS, '-i', sdps[0]!, '-c', 'copy', '-f', 'webm', output,
  ], output);
}
