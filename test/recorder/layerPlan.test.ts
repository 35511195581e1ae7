import t from 'tap';
import { planVideoInputs, type LayerPlanSettings } from '../../plugin/recording/layerPlan';
import { MAX_LAYOUT_USERS } from '../../plugin/recording/layout';
import { DEFAULT_TOP_LAYER, describeLayers, parseScalabilityMode, pickLayers } from '../../plugin/recording/media/videoLayers';

// What a browser camera sends (mediasoup-demo): 3 encodings, L1T3, 1280×720 on top.
const browserEncodings = [
  { scaleResolutionDownBy: 4, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 2, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 1, scalabilityMode: 'L1T3' },
];
const browser = describeLayers(browserEncodings)!;

t.test('describeLayers: sizes from scaleResolutionDownBy and the top layer, temporal layers from scalabilityMode', async (t) => {
  t.same(browser, { spatial: [{ width: 320, height: 180 }, { width: 640, height: 360 }, { width: 1280, height: 720 }], temporalLayers: 3, topFps: 30 });
  t.same(describeLayers(browserEncodings, { width: 960, height: 540, frameRate: 24 }), {
    spatial: [{ width: 240, height: 135 }, { width: 480, height: 270 }, { width: 960, height: 540 }],
    temporalLayers: 3,
    topFps: 24,
  }, "the producer's appData tells the top layer's size and rate");
  t.same(describeLayers([{}, {}]), { spatial: [{ width: 640, height: 360 }, DEFAULT_TOP_LAYER], temporalLayers: 1, topFps: 30 }, 'no factors: halves per step down');
  t.same(describeLayers([{ scaleResolutionDownBy: 2 }, { scaleResolutionDownBy: 2 / 2 }]), { spatial: [{ width: 640, height: 360 }, DEFAULT_TOP_LAYER], temporalLayers: 1, topFps: 30 });
  t.same(describeLayers([{ scalabilityMode: 'L3T3_KEY' }])?.spatial, [{ width: 320, height: 180 }, { width: 640, height: 360 }, DEFAULT_TOP_LAYER], 'SVC: halves per spatial layer');
  t.equal(describeLayers([{}]), undefined, 'one layer: nothing to pick');
  t.equal(describeLayers([]), undefined);
  t.same(parseScalabilityMode('S2T3'), { spatial: 2, temporal: 3 });
  t.same(parseScalabilityMode('nonsense'), { spatial: 1, temporal: 1 });
});

t.test('pickLayers: the smallest layer covering the tile, the temporal layer reaching the canvas fps', async (t) => {
  t.same(pickLayers(browser, { width: 180, height: 320 }, 15), { spatialLayer: 1, temporalLayer: 1 }, 'a 180×320 portrait tile needs 320 rows: the 360p layer (cropped), at 15 of 30 fps');
  t.same(pickLayers(browser, { width: 200, height: 400 }, 15), { spatialLayer: 2, temporalLayer: 1 }, '400 rows: the 720p layer');
  t.same(pickLayers(browser, { width: 320, height: 180 }, 15), { spatialLayer: 0, temporalLayer: 1 });
  t.same(pickLayers(browser, { width: 322, height: 180 }, 30), { spatialLayer: 1, temporalLayer: 2 });
  t.same(pickLayers(browser, { width: 2000, height: 2000 }, 7), { spatialLayer: 2, temporalLayer: 0 }, 'none covers it: the top; 7.5 fps serves 7');
  t.same(pickLayers(browser, { width: 640, height: 360 }, 60), { spatialLayer: 1, temporalLayer: 2 }, 'no layer reaches 60 fps: the top one');
  t.same(pickLayers(browser, undefined, 15), { spatialLayer: 0, temporalLayer: 1 }, 'no tile (Low): the small stream');
});

t.test('planVideoInputs: composite tiles pick layers, hidden tiles are not sent, individual keeps the stream', async (t) => {
  const settings: LayerPlanSettings = { mode: 'composite', canvas: { width: 640, height: 360, fps: 15 }, layout: 'BestFit', videoStreamType: 'High' };
  const four = ['a', 'b', 'c', 'd'].map((uid) => ({ producerId: `p${uid}`, uid, layers: browser }));
  const plan = planVideoInputs(settings, four);
  t.same([...plan.values()], four.map(() => ({ shown: true, layers: { spatialLayer: 0, temporalLayer: 1 } })), '4 BestFit tiles of 320×180: the 320×180 layer at 15 fps');

  const vertical = planVideoInputs({ ...settings, layout: 'Vertical', maxResolutionUid: 'c' }, four);
  t.same(vertical.get('pc'), { shown: true, layers: { spatialLayer: 1, temporalLayer: 1 } }, 'the big Vertical tile (512×360) gets the 360p layer');
  t.same(planVideoInputs({ ...settings, canvas: { width: 1280, height: 720, fps: 30 }, layout: 'Vertical', maxResolutionUid: 'c' }, four).get('pc'), { shown: true, layers: { spatialLayer: 2, temporalLayer: 2 } }, 'on a 720p30 canvas: the top layers');
  t.same(vertical.get('pa'), { shown: true, layers: { spatialLayer: 0, temporalLayer: 1 } }, 'the small ones stay small');

  t.same(planVideoInputs({ ...settings, videoStreamType: 'Low', layout: 'Vertical', maxResolutionUid: 'c' }, four).get('pc'), { shown: true, layers: { spatialLayer: 0, temporalLayer: 1 } }, 'Low: the small stream even in a big tile');

  const many = Array.from({ length: MAX_LAYOUT_USERS + 2 }, (_, i) => ({ producerId: `p${i}`, uid: `u${i}` }));
  const crowded = planVideoInputs(settings, many);
  t.same([...crowded.values()].map((entry) => entry.shown), many.map((_, i) => i < MAX_LAYOUT_USERS), 'beyond 17 in BestFit: not shown');
  t.same(crowded.get('p0'), { shown: true }, 'a single-layer producer is only shown or not');

  const screen = planVideoInputs(settings, [...four, { producerId: 'pa-screen', uid: 'a', layers: browser }]);
  t.same(screen.get('pa-screen'), { shown: false }, "a user's second video is not drawn: not sent");

  t.same([...planVideoInputs({ ...settings, mode: 'individual' }, four).values()], four.map(() => ({ shown: true })), 'individual: every stream as opened');
});
