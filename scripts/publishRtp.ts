import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { SignalingClient, WebSocketLike } from '../signaling/SignalingClient';
import { spawnBoundToParent } from './boundChild';

/**
 * A plain-RTP publisher (bots, tests, gst-launch senders): joins a channel over signaling, creates a
 * PlainTransport per kind (comedia: the server learns our address from the first packet) and runs
 * gst-launch-1.0 sending VP8 + Opus test media into them.
 *
 * CLI: node dist/scripts/publishRtp.js --url ws://localhost:8080/ws --channel demo --token <token>
 *        [--color ff0000] [--freq 440] [--name bot]
 *      From another machine: --url wss://server:8080/ws [--ca server-cert.pem] (a self-signed server's
 *      var/tls/self-signed-cert.pem; RTP then goes to the server's announced address).
 */

export interface PublishOptions {
  client: SignalingClient;
  /** 0xRRGGBB colour of the solid test picture. */
  color?: number;
  /** Tone frequency in Hz. */
  frequency?: number;
  width?: number;
  height?: number;
  fps?: number;
  video?: boolean;
  audio?: boolean;
  /** Send RTP for this producer? false makes a producer that never sends a packet. */
  sendMedia?: boolean;
  /** Moving content (ball pattern) instead of a solid colour. */
  moving?: boolean;
  /**
   * Declare PLI feedback on the video producer, so mediasoup passes the key-frame requests of its
   * consumers on to this publisher (gst-launch ignores them; tests watch them leave the producer).
   */
  keyFrameRequests?: boolean;
}

export interface Publication {
  videoProducerId?: string;
  audioProducerId?: string;
  process?: ChildProcess;
  stop(): Promise<void>;
}

const VIDEO_PT = 101;
const AUDIO_PT = 100;

export async function publishTestMedia(options: PublishOptions): Promise<Publication> {
  const { client, color = 0xff0000, frequency = 440, width = 320, height = 240, fps = 15, video = true, audio = true, sendMedia = true } = options;
  const ssrcBase = 10_000_000 + Math.floor(Math.random() * 1_000_000_000);
  const pipelines: string[] = [];
  const publication: Publication = { stop: async () => undefined };

  if (video) {
    const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
    const { producerId } = await client.request('produce', {
      transportId: transport.transportId,
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000, ...(options.keyFrameRequests ? { rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] } : {}) }],
        encodings: [{ ssrc: ssrcBase }],
      },
    });
    publication.videoProducerId = producerId;
    const source = options.moving
      ? `videotestsrc is-live=true pattern=ball motion=wavy background-color=0xff${hex(color)}`
      : `videotestsrc is-live=true pattern=solid-color foreground-color=0xff${hex(color)}`;
    pipelines.push(
      `${source} ! video/x-raw,width=${width},height=${height},framerate=${fps}/1 ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=${fps} target-bitrate=300000 ` +
        `! rtpvp8pay pt=${VIDEO_PT} ssrc=${ssrcBase} picture-id-mode=2 mtu=1200 ! udpsink host=${transport.ip} port=${transport.port} sync=false`,
    );
  }
  if (audio) {
    const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
    const { producerId } = await client.request('produce', {
      transportId: transport.transportId,
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2, parameters: { 'sprop-stereo': 1 } }],
        encodings: [{ ssrc: ssrcBase + 1 }],
      },
    });
    publication.audioProducerId = producerId;
    pipelines.push(
      `audiotestsrc is-live=true wave=sine freq=${frequency} volume=0.4 ! audio/x-raw,rate=48000,channels=2 ! opusenc bitrate=48000 ` +
        `! rtpopuspay pt=${AUDIO_PT} ssrc=${ssrcBase + 1} ! udpsink host=${transport.ip} port=${transport.port} sync=false`,
    );
  }
  if (sendMedia && pipelines.length > 0) {
    const child = spawnBoundToParent('gst-launch-1.0', ['-q', ...pipelines.join(' ').split(/\s+/)], { stdio: ['ignore', 'ignore', 'pipe'] });
    publication.process = child;
    publication.stop = () => stopProcess(child);
  }
  return publication;
}

function hex(color: number): string {
  return color.toString(16).padStart(6, '0');
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** `ca`: a PEM certificate to trust for wss:// (a server's self-signed one); verification stays on. */
export function nodeWebSocket(url: string, tls: { ca?: string } = {}): WebSocketLike {
  return new WebSocket(url, tls) as unknown as WebSocketLike;
}

/**
 * The CLI's life: it ends (and takes gst-launch with it) when asked to (SIGINT/SIGTERM, exit 0), when
 * the server closes the channel or the connection, or when gst-launch dies (exit 1, with the reason on
 * stderr). A SIGKILL of this process kills gst-launch through spawnBoundToParent.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'ws://localhost:8080/ws' },
      channel: { type: 'string', default: 'demo' },
      token: { type: 'string' },
      name: { type: 'string', default: 'rtp-bot' },
      color: { type: 'string', default: 'ff0000' },
      freq: { type: 'string', default: '440' },
      ca: { type: 'string' },
    },
  });
  if (!values.token) {
    console.error('--token is required (npm run token -- --channel <channel> --uid <uid>)');
    process.exit(2);
  }
  let publication: Publication | undefined;
  let client: SignalingClient | undefined;
  let ending = false;
  const end = async (code: number, message?: string): Promise<void> => {
    if (ending) return;
    ending = true;
    if (message) (code === 0 ? console.log : console.error)(`publishRtp: ${message}`);
    await publication?.stop();
    client?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void end(0, 'stopped (SIGINT)'));
  process.on('SIGTERM', () => void end(0, 'stopped (SIGTERM)'));

  const ca = values.ca ? fs.readFileSync(values.ca, 'utf8') : undefined;
  client = await SignalingClient.connect(values.url!, (url) => nodeWebSocket(url, ca ? { ca } : {}));
  client.on('channelClosed', ({ channelId, reason, code }) => void end(1, `the server closed channel ${channelId}: ${reason} (${code})`));
  client.onClose((code, reason) => void end(1, `the connection to the server closed (${code}${reason ? ` ${reason}` : ''})`));
  await client.request('join', { channelId: values.channel!, displayName: values.name!, token: values.token });
  publication = await publishTestMedia({ client, color: parseInt(values.color!, 16), frequency: Number(values.freq) });
  publication.process?.once('exit', (code, signal) => void end(1, `gst-launch-1.0 exited (${signal ?? `code ${code}`})`));
  console.log(`publishing VP8 + Opus into channel ${values.channel} (Ctrl-C to stop)`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(String(error));
    process.exit(1);
  });
}
