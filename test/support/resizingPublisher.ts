/**
 * A one-stream VP8 camera whose picture size changes while it sends, as Chromium's does when it
 * adapts to CPU load or bandwidth: moving SMPTE bars (the whole picture scrolls) encoded by a
 * GStreamer pipeline in this process, so the size can be set while it plays (gst-launch cannot).
 * A key frame carries every new size.
 */
import { Pipeline } from 'gstreamer-superficial';
import type { SignalingClient } from '../../signaling/SignalingClient';

const PAYLOAD_TYPE = 101;

export class ResizingPublisher {
  readonly producerId: string;
  readonly #pipeline: Pipeline;
  #stopped = false;

  private constructor(producerId: string, pipeline: Pipeline) {
    this.producerId = producerId;
    this.#pipeline = pipeline;
  }

  static async start(client: SignalingClient, size: { width: number; height: number }): Promise<ResizingPublisher> {
    const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
    const ssrc = 40_000_000 + Math.floor(Math.random() * 1_000_000_000);
    const { producerId } = await client.request('produce', {
      transportId: transport.transportId,
      kind: 'video',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: PAYLOAD_TYPE, clockRate: 90000 }], encodings: [{ ssrc }] },
      videoSize: size,
    });
    const pipeline = new Pipeline(
      `videotestsrc is-live=true pattern=smpte horizontal-speed=8 ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 ` +
        `! videoscale ! capsfilter name=size caps=video/x-raw,width=${size.width},height=${size.height} ` +
        `! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=30 target-bitrate=800000 ` +
        `! rtpvp8pay pt=${PAYLOAD_TYPE} ssrc=${ssrc} picture-id-mode=2 mtu=1200 ! udpsink host=${transport.ip} port=${transport.port} sync=false async=false`,
    );
    pipeline.play();
    return new ResizingPublisher(producerId, pipeline);
  }

  /** Sends pictures of this size from the next frame on. */
  resize(size: { width: number; height: number }): void {
    const filter = this.#pipeline.findChild('size');
    if (filter) filter.caps = `video/x-raw,width=${size.width},height=${size.height}`;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#pipeline.stop();
  }
}
