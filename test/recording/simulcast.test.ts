import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { stopProcess } from '../../scripts/publishRtp';
import type { SignalingClient } from '../../signaling/SignalingClient';
import { probe } from '../support/mediaProbe';
import { sleep, startRecordingServer, until } from '../support/recordingServer';

/** A simulcast VP8 producer: 320×180 and 640×360 encodings of one source, two SSRCs, one socket. */
async function publishSimulcast(client: SignalingClient): Promise<() => Promise<void>> {
  const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
  const [low, high] = [31_000_001, 31_000_002];
  await client.request('produce', {
    transportId: transport.transportId,
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
      encodings: [{ ssrc: low }, { ssrc: high }],
    },
  });
  const encode = (width: number, height: number, ssrc: number): string =>
    `t. ! queue ! videoscale ! video/x-raw,width=${width},height=${height} ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=15 target-bitrate=${width * 1000} ` +
    `! rtpvp8pay pt=101 ssrc=${ssrc} picture-id-mode=2 mtu=1200 ! f.`;
  const launch =
    `videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=15/1 ! tee name=t ` +
    `funnel name=f ! udpsink host=${transport.ip} port=${transport.port} sync=false ` +
    `${encode(320, 180, low)} ${encode(640, 360, high)}`;
  const child = spawn('gst-launch-1.0', ['-q', ...launch.split(/\s+/)], { stdio: 'ignore' });
  return () => stopProcess(child);
}

t.test('videoStreamType picks the simulcast layer the recorder consumes', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const host = await env.join('simulcast', 'host');
  const stop = await publishSimulcast(host.client);
  t.teardown(stop);
  await sleep(1500);

  for (const [videoStreamType, expectedWidth] of [['Low', 320], ['High', 640]] as const) {
    const uploaded: string[] = [];
    const recorder = env.recording.createCloudRecorder({ onRecordingUploaded: (_id, fileName) => uploaded.push(fileName) });
    await recorder.startCloudRecording('confrec', 'simulcast', env.token({ channelId: 'simulcast', uid: 'backend' }), 'backend', { recordingMode: 'individual', videoStreamType }, { vendor: 'Local' } as never);
    await sleep(4000);
    await recorder.stopCloudRecording();
    t.ok(await until(() => uploaded.some((name) => name.endsWith('.webm')), 30_000), `${videoStreamType}: the stream file is stored`);
    const file = uploaded.find((name) => name.endsWith('.webm'))!;
    const info = await probe(path.join(env.server.config.recording.recordingsDir, file));
    t.equal(info.video?.width, expectedWidth, `${videoStreamType}: recorded the ${expectedWidth}-wide layer, unre-encoded`);
    await recorder.release();
  }
});
