/**
 * The recorder decodes only what the canvas shows: a simulcast producer (3 VP8 encodings, 160×90 /
 * 320×180 / 640×360 at 30 fps, 3 temporal layers each) in a 4-tile 640×360@15 composite. Real server, real mediasoup, a real recorder, and
 * gst-launch publishers; the layers are read from the recorder's own mediasoup consumer and the
 * size from the frames the recorder decodes.
 */
import { spawn } from 'node:child_process';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import t from 'tap';
import { publishTestMedia, stopProcess, type Publication } from '../../scripts/publishRtp';
import type { SignalingClient } from '../../signaling/SignalingClient';
import { startBackendServer } from '../backend/support';
import { sleep, until } from '../support/recordingServer';
import { Vp8LayerTagger } from '../support/vp8LayerTagger';

/**
 * A 640×360@30 camera as three VP8 encodings (160×90, 320×180, 640×360; the top size told in the
 * producer's declared videoSize) with L1T3 temporal layers (TL0 7.5, TL1 15, TL2 30 fps): key frames only from
 * gst-launch, tagged with their layers by Vp8LayerTagger (why: see there).
 */
async function publishLayeredSimulcast(client: SignalingClient): Promise<{ producerId: string; stop: () => Promise<void> }> {
  const transport = await client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
  const ssrcs = [32_000_001, 32_000_002, 32_000_003];
  const { producerId } = await client.request('produce', {
    transportId: transport.transportId,
    kind: 'video',
    rtpParameters: {
      codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
      encodings: [4, 2, 1].map((scaleResolutionDownBy, index) => ({ ssrc: ssrcs[index]!, scaleResolutionDownBy, scalabilityMode: 'L1T3' })),
    },
    videoSize: { width: 640, height: 360 },
  });
  const tagger = await Vp8LayerTagger.start({ ip: transport.ip, port: transport.port });
  // rtpbin sends each stream's sender reports: mediasoup switches a consumer between simulcast
  // streams only once it can map their timestamps onto each other (NTP in the SRs).
  const encode = (width: number, height: number, ssrc: number, session: number): string =>
    `t. ! queue ! videoscale ! video/x-raw,width=${width},height=${height} ! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=1 target-bitrate=${width * 2000} ` +
    `! rtpvp8pay pt=101 ssrc=${ssrc} picture-id-mode=2 mtu=1200 ! rb.send_rtp_sink_${session} rb.send_rtp_src_${session} ! f. rb.send_rtcp_src_${session} ! f.`;
  const launch =
    `rtpbin name=rb videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 ! tee name=t ` +
    `funnel name=f ! udpsink host=127.0.0.1 port=${tagger.port} sync=false async=false ` +
    `${encode(160, 90, ssrcs[0]!, 0)} ${encode(320, 180, ssrcs[1]!, 1)} ${encode(640, 360, ssrcs[2]!, 2)}`;
  let stderr = '';
  const child = spawn('gst-launch-1.0', ['-q', ...launch.split(/\s+/)], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', (code) => {
    if (code) t.comment(`simulcast publisher exited ${code}: ${stderr}`);
  });
  return {
    producerId,
    stop: async () => {
      await stopProcess(child);
      tagger.close();
    },
  };
}

/** Every consumer the server's mediasoup creates (this process runs the server). */
function watchConsumers(): ms.Consumer[] {
  const consumers: ms.Consumer[] = [];
  mediasoup.observer.on('newworker', (worker) =>
    worker.observer.on('newrouter', (router) =>
      router.observer.on('newtransport', (transport) => transport.observer.on('newconsumer', (consumer) => consumers.push(consumer))),
    ),
  );
  return consumers;
}

t.test('a composite decodes the simulcast layer that fills its tile, at the canvas fps, and re-picks when the tile grows', async (t) => {
  const consumers = watchConsumers();
  const env = await startBackendServer();
  t.teardown(() => env.close());
  const channel = 'layers';

  const sim = await env.join(channel, 'sim');
  const camera = await publishLayeredSimulcast(sim.client);
  t.teardown(camera.stop);
  const others: Publication[] = [];
  for (const [index, uid] of ['u1', 'u2', 'u3'].entries()) {
    const { client } = await env.join(channel, uid);
    others.push(await publishTestMedia({ client, color: [0xff0000, 0x00ff00, 0x0000ff][index], width: 160, height: 90, audio: false }));
  }
  t.teardown(() => Promise.all(others.map((publication) => publication.stop())));
  await sleep(1500);

  const started = await env.api.request('POST', '/recordings', {
    channelName: channel,
    uid: 'backend',
    recordingConfig: { recordingStreamTypes: 'VideoOnly', transcodingConfig: { width: 640, height: 360, fps: 15, layout: 'BestFit' } },
  });
  t.equal(started.status, 201, 'composite started');
  const recordingId: string = started.body.recordingId;
  const recording = env.recording.engine.get(recordingId)!;
  await recording.inputsWired();

  const recorderConsumer = consumers.find((consumer) => consumer.producerId === camera.producerId && !consumer.closed);
  t.ok(recorderConsumer, "the recorder's consumer of the simulcast producer");
  t.equal(recorderConsumer!.type, 'simulcast');
  const layersAre = (spatialLayer: number, temporalLayer: number): boolean =>
    recorderConsumer!.currentLayers?.spatialLayer === spatialLayer && recorderConsumer!.currentLayers?.temporalLayer === temporalLayer;
  const decodedWidth = async (): Promise<number | undefined> => (await recording.decodedSizes()).get(camera.producerId)?.width;

  // BestFit, 4 users on 640×360: 320×180 tiles. The 320×180 layer covers one; 15 fps is TL1 of 30.
  t.ok(await until(() => layersAre(1, 1), 10_000), `consumer sends S1T1 (now ${JSON.stringify(recorderConsumer!.currentLayers)})`);
  t.same(recorderConsumer!.preferredLayers, { spatialLayer: 1, temporalLayer: 1 }, 'preferred: the fitted layer at 15 fps');
  let width: number | undefined;
  t.ok(await until(() => (void decodedWidth().then((w) => (width = w)), width === 320), 10_000), `the recorder decodes 320-wide frames (${width})`);
  t.same((await recording.decodedSizes()).get(camera.producerId), { width: 320, height: 180 }, 'decoded 320×180');

  // Vertical with sim large: its tile is 512×360, which only the 640×360 layer covers.
  const layout = await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'Vertical', maxResolutionUid: 'sim' });
  t.equal(layout.status, 200, 'layout changed');
  t.ok(await until(() => layersAre(2, 1), 10_000), `consumer switches to S2T1 (now ${JSON.stringify(recorderConsumer!.currentLayers)})`);
  t.ok(await until(() => (void decodedWidth().then((w) => (width = w)), width === 640), 10_000), `the recorder decodes 640-wide frames (${width})`);
  t.same((await recording.decodedSizes()).get(camera.producerId), { width: 640, height: 360 }, 'decoded 640×360');

  // Back to small tiles: back to the small layer.
  t.equal((await env.api.request('PUT', `/recordings/${recordingId}/layout`, { layout: 'BestFit' })).status, 200);
  t.ok(await until(() => layersAre(1, 1), 10_000), `back to S1T1 (now ${JSON.stringify(recorderConsumer!.currentLayers)})`);

  // A second camera of sim is not drawn (a user's first video is their tile): it is not even sent.
  const second = await publishTestMedia({ client: sim.client, color: 0xffffff, width: 160, height: 90, audio: false });
  t.teardown(second.stop);
  let hidden: ms.Consumer | undefined;
  t.ok(await until(() => !!(hidden = consumers.find((consumer) => consumer.producerId === second.videoProducerId && !consumer.closed)), 10_000), 'the second video is consumed');
  await recording.inputsWired();
  t.ok(await until(() => hidden!.paused, 5000), 'its consumer stays paused: nothing of it is decoded');
  t.notOk(recorderConsumer!.paused, 'the drawn one flows');

  t.equal((await env.api.request('POST', `/recordings/${recordingId}/stop`)).status, 200, 'stopped');
});
