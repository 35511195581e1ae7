// setConsumerRenderSize / setConsumerPreferredLayers against a real mediasoup worker: the layer a
// box needs, what a single-layer or audio consumer answers, and bad input answered with codes on a
// connection that carries on.
import t from 'tap';
import { cameraEncodings } from '../../signaling/client/cameraEncodings';
import type { SignalingClient } from '../../signaling/SignalingClient';
import { fitSpatialLayer, layerSizes } from '../../server/simulcastLayers';
import { startTestServer } from '../support/server';

const VP8 = { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 };

t.test('layer sizes from scaleResolutionDownBy, and the smallest layer that fills a box', async (t) => {
  const layers = layerSizes([{ scaleResolutionDownBy: 4 }, { scaleResolutionDownBy: 2 }, { scaleResolutionDownBy: 1 }], { width: 1280, height: 720 });
  t.same(layers, [{ width: 320, height: 180 }, { width: 640, height: 360 }, { width: 1280, height: 720 }]);
  t.same(layerSizes([{}, {}, {}], { width: 1280, height: 720 }), layers, 'without scales: halving per layer, as browsers do');
  const cases: Array<[number, number, number]> = [
    [240, 180, 0],
    [320, 180, 0],
    [350, 198, 0], // within the tolerance
    [280, 210, 1], // a 4:3 cover box is taller than the 16:9 layer
    [640, 360, 1],
    [1000, 562, 2],
    [4000, 3000, 2], // nothing is that big: the largest
  ];
  for (const [width, height, layer] of cases) t.equal(fitSpatialLayer(layers, { width, height }), layer, `${width}×${height} → layer ${layer}`);
});

t.test('camera encodings: three L1T3 layers at 720p, fewer for smaller pictures, one plain stream below 360 lines', async (t) => {
  const hd = cameraEncodings({ width: 1280, height: 720 })!;
  t.same(hd.map((encoding) => encoding.scaleResolutionDownBy), [4, 2, 1]);
  t.ok(hd.every((encoding) => encoding.scalabilityMode === 'L1T3'), 'temporal layers in each');
  t.ok(hd[0]!.maxBitrate! < hd[1]!.maxBitrate! && hd[1]!.maxBitrate! < hd[2]!.maxBitrate!, `bitrates grow with the layer (${hd.map((e) => e.maxBitrate).join(', ')})`);
  t.same(cameraEncodings({ width: 640, height: 480 })!.map((encoding) => encoding.scaleResolutionDownBy), [2, 1], '480 lines: 240 and 480');
  t.equal(cameraEncodings({ width: 320, height: 240 }), undefined, '240 lines: one stream');
  t.equal(cameraEncodings({}), undefined, 'unknown size: one stream');
});

async function produceVideo(client: SignalingClient, transportId: string, encodings: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<string> {
  const { producerId } = await client.request('produce', { transportId, kind: 'video', rtpParameters: { codecs: [VP8], encodings }, ...extra });
  return producerId;
}

t.test('a receiver sets the layers of its consumers; bad input gets codes and the connection carries on', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const alice = await env.join('layers', 'alice');
  const send = await alice.client.request('createPlainTransport', { direction: 'send', comedia: true, rtcpMux: true });
  const simulcast = await produceVideo(
    alice.client,
    send.transportId,
    [
      { ssrc: 1001, scaleResolutionDownBy: 4, scalabilityMode: 'L1T3' },
      { ssrc: 1002, scaleResolutionDownBy: 2, scalabilityMode: 'L1T3' },
      { ssrc: 1003, scaleResolutionDownBy: 1, scalabilityMode: 'L1T3' },
    ],
    { videoSize: { width: 1280, height: 720 } },
  );
  // Declared 640×360 at full size: its layers are 160×90, 320×180, 640×360; one temporal layer each.
  const smallSimulcast = await produceVideo(alice.client, send.transportId, [{ ssrc: 2001 }, { ssrc: 2002 }, { ssrc: 2003 }], { videoSize: { width: 640, height: 360 }, appData: { videoSize: { width: 1, height: 1 } } });
  const single = await produceVideo(alice.client, send.transportId, [{ ssrc: 3001 }]);
  const { producerId: audio } = await alice.client.request('produce', {
    transportId: send.transportId,
    kind: 'audio',
    rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 4001 }] },
  });

  const bob = await env.join('layers', 'bob');
  const recv = await bob.client.request('createPlainTransport', { direction: 'recv', comedia: false, rtcpMux: true });
  await bob.client.request('connectPlainTransport', { transportId: recv.transportId, ip: '127.0.0.1', port: 9 });
  const consume = async (producerId: string): Promise<{ consumerId: string; type: string }> => bob.client.request('consume', { transportId: recv.transportId, producerId });
  const [hd, small, plain, sound] = [await consume(simulcast), await consume(smallSimulcast), await consume(single), await consume(audio)];
  t.same([hd.type, small.type, plain.type], ['simulcast', 'simulcast', 'simple'], 'consumer types');
  const serverConsumer = (consumerId: string) => env.server.registry.find('layers')!.peers().find((peer) => peer.uid === 'bob')!.consumer(consumerId);

  const renderAt = async (consumerId: string, width: number, height: number) => (await bob.client.request('setConsumerRenderSize', { consumerId, width, height })).preferredLayers;
  t.same(await renderAt(hd.consumerId, 240, 180), { spatialLayer: 0, temporalLayer: 2 }, 'a 240×180 tile: the 320×180 layer, full frame rate');
  t.same(serverConsumer(hd.consumerId).preferredLayers, { spatialLayer: 0, temporalLayer: 2 }, 'the mediasoup consumer prefers it');
  t.same(await renderAt(hd.consumerId, 600, 340), { spatialLayer: 1, temporalLayer: 2 }, 'a 600×340 tile: 640×360');
  t.same(await renderAt(hd.consumerId, 1100, 620), { spatialLayer: 2, temporalLayer: 2 }, 'a 1100×620 tile: 1280×720');
  t.same(await renderAt(small.consumerId, 600, 340), { spatialLayer: 2, temporalLayer: 0 }, 'a 640×360 producer: its top layer fills 600×340 (videoSize, not a spoofed appData key)');
  t.same(await renderAt(small.consumerId, 300, 170), { spatialLayer: 1, temporalLayer: 0 }, '… and its middle one 300×170');
  t.equal(await renderAt(plain.consumerId, 240, 180), null, 'a single-layer producer: nothing to choose (null)');

  const prefer = async (data: Record<string, unknown>) => (await bob.client.request('setConsumerPreferredLayers', data)).preferredLayers;
  t.same(await prefer({ consumerId: hd.consumerId, spatialLayer: 1, temporalLayer: 0 }), { spatialLayer: 1, temporalLayer: 0 }, 'explicit layers');
  t.same(serverConsumer(hd.consumerId).preferredLayers, { spatialLayer: 1, temporalLayer: 0 });
  t.same(await prefer({ consumerId: hd.consumerId, spatialLayer: 9 }), { spatialLayer: 2, temporalLayer: 2 }, 'a layer above the top: the top');
  t.equal(await prefer({ consumerId: plain.consumerId, spatialLayer: 0 }), null, 'single-layer: null');

  const bad: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['setConsumerRenderSize', { consumerId: hd.consumerId, width: 0, height: 180 }, 'BAD_REQUEST', /data\.width/],
    ['setConsumerRenderSize', { consumerId: hd.consumerId, width: 1.5, height: 180 }, 'BAD_REQUEST', /data\.width/],
    ['setConsumerRenderSize', { consumerId: hd.consumerId, width: '320', height: 180 }, 'BAD_REQUEST', /data\.width/],
    ['setConsumerRenderSize', { consumerId: hd.consumerId, width: 320, height: 99_999 }, 'BAD_REQUEST', /data\.height/],
    ['setConsumerRenderSize', { consumerId: hd.consumerId, width: 320 }, 'BAD_REQUEST', /data\.height/],
    ['setConsumerRenderSize', { consumerId: hd.consumerId, width: 320, height: 180, fit: 'cover' }, 'BAD_REQUEST', /data\.fit/],
    ['setConsumerRenderSize', { consumerId: 'no such consumer!', width: 320, height: 180 }, 'BAD_REQUEST', /data\.consumerId/],
    ['setConsumerRenderSize', { consumerId: 'unknown', width: 320, height: 180 }, 'NOT_FOUND', /consumer unknown/],
    ['setConsumerRenderSize', { consumerId: sound.consumerId, width: 320, height: 180 }, 'BAD_REQUEST', /audio/],
    ['setConsumerPreferredLayers', { consumerId: hd.consumerId, spatialLayer: -1 }, 'BAD_REQUEST', /data\.spatialLayer/],
    ['setConsumerPreferredLayers', { consumerId: hd.consumerId, spatialLayer: 0, temporalLayer: 16 }, 'BAD_REQUEST', /data\.temporalLayer/],
    ['setConsumerPreferredLayers', { consumerId: hd.consumerId }, 'BAD_REQUEST', /data\.spatialLayer/],
    ['setConsumerPreferredLayers', { consumerId: sound.consumerId, spatialLayer: 0 }, 'BAD_REQUEST', /audio/],
  ];
  for (const [method, data, code, message] of bad) {
    await t.rejects(bob.client.request(method as 'setConsumerRenderSize', data as never), { code, message }, `${method} ${JSON.stringify(data)} → ${code}`);
  }
  // Alice cannot steer bob's consumers: they are not hers.
  await t.rejects(alice.client.request('setConsumerRenderSize', { consumerId: hd.consumerId, width: 320, height: 180 }), { code: 'NOT_FOUND' }, "another peer's consumer: NOT_FOUND");
  t.same(serverConsumer(hd.consumerId).preferredLayers, { spatialLayer: 2, temporalLayer: 2 }, 'refused requests changed nothing');
  t.same(await renderAt(hd.consumerId, 240, 180), { spatialLayer: 0, temporalLayer: 2 }, 'after all that the connection carries on');

  const stranger = await env.connect();
  await t.rejects(stranger.request('setConsumerRenderSize', { consumerId: hd.consumerId, width: 320, height: 180 }), { code: 'NOT_JOINED' }, 'before join: NOT_JOINED');
});
