/**
 * Test publishers: gst-launch-1.0 processes that send live RTP to a port, with content a decoder can
 * recognise afterwards — a solid colour for video, a pure tone for audio.
 */
import { ChildProcess, spawn } from 'node:child_process';

export interface RtpTarget {
  port: number;
  host?: string;
  ssrc?: number;
  payloadType?: number;
}

export interface VideoPublisherOptions extends RtpTarget {
  /** 0xRRGGBB */
  color: number;
  /** A videotestsrc pattern (e.g. 'smpte' bars) instead of the solid colour. */
  pattern?: string;
  codec?: 'VP8' | 'H264';
  /** H.264 encoder: x264 writes frame timing into its SPS, OpenH264 (Chromium's software encoder) none. */
  h264Encoder?: 'x264' | 'openh264';
  width?: number;
  height?: number;
  fps?: number;
  /** A key frame every this many frames (no RTCP here, so late receivers wait for the next one). */
  keyFrameInterval?: number;
}

export interface AudioPublisherOptions extends RtpTarget {
  frequency: number;
  /** Sine amplitude, 0–1 (default 0.3); many publishers mixed together need less to stay unclipped. */
  volume?: number;
}

export class RtpPublisher {
  readonly #process: ChildProcess;
  readonly #exited: Promise<void>;
  stderr = '';

  constructor(launch: string) {
    this.#process = spawn('gst-launch-1.0', ['-q', ...splitLaunch(launch)], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#process.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.#exited = new Promise((resolve) => this.#process.once('exit', () => resolve()));
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Idempotent. Resolves once the process is gone. */
  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) this.#process.kill('SIGKILL');
    await this.#exited;
  }
}

/** gst-launch takes the description as argv words; quoted caps stay one word. */
function splitLaunch(launch: string): string[] {
  return launch.match(/(?:[^\s"]+|"[^"]*")+/g)!.map((word) => word.replace(/"/g, ''));
}

function sink(target: RtpTarget): string {
  return `udpsink host=${target.host ?? '127.0.0.1'} port=${target.port} sync=false async=false`;
}

export function videoLaunch(options: VideoPublisherOptions): string {
  const { width = 320, height = 240, fps = 15, codec = 'VP8' } = options;
  const keyInt = options.keyFrameInterval ?? fps;
  const color = (0xff000000 + options.color).toString();
  const source = options.pattern ? `videotestsrc is-live=true pattern=${options.pattern}` : `videotestsrc is-live=true pattern=solid-color foreground-color=${color}`;
  const raw = `${source} ! video/x-raw,width=${width},height=${height},framerate=${fps}/1`;
  const ssrc = options.ssrc ?? 1111;
  const encode =
    codec === 'VP8'
      ? `vp8enc deadline=1 cpu-used=8 keyframe-max-dist=${keyInt} ! rtpvp8pay pt=${options.payloadType ?? 96} ssrc=${ssrc}`
      : `${options.h264Encoder === 'openh264' ? `openh264enc gop-size=${keyInt}` : `x264enc tune=zerolatency speed-preset=ultrafast key-int-max=${keyInt}`} ! rtph264pay pt=${options.payloadType ?? 102} ssrc=${ssrc} config-interval=-1 aggregate-mode=zero-latency`;
  return `${raw} ! ${encode} ! ${sink(options)}`;
}

export function audioLaunch(options: AudioPublisherOptions): string {
  return (
    `audiotestsrc is-live=true wave=sine freq=${options.frequency} volume=${options.volume ?? 0.3} ! audio/x-raw,rate=48000,channels=2 ` +
    `! opusenc ! rtpopuspay pt=${options.payloadType ?? 111} ssrc=${options.ssrc ?? 2222} ! ${sink(options)}`
  );
}

export function startVideoPublisher(options: VideoPublisherOptions): RtpPublisher {
  return new RtpPublisher(videoLaunch(options));
}

export function startAudioPublisher(options: AudioPublisherOptions): RtpPublisher {
  return new RtpPublisher(audioLaunch(options));
}
