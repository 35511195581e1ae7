/**
 * GstGraph.setInStream: a property set on the element's streaming thread, just before its next buffer
 * (a layout change sets aspectratiocrop's aspect ratio this way: set from our thread while new caps were
 * going through, the crop kept the old picture size and the tile went black). A real pipeline whose
 * source sends a frame every 4 s shows the property waiting for the next frame, then applied to it.
 */
import t from 'tap';
import { GstGraph } from '../../plugin/recording/recorder/GstGraph';
import { until } from '../support/recordingServer';

const widthOf = (caps: string | null): number | undefined => {
  const width = /width=\(int\)(\d+)/.exec(caps ?? '')?.[1];
  return width ? Number(width) : undefined;
};

t.test('the property waits for the next buffer and is applied to it', async (t) => {
  const graph = new GstGraph(
    'set-in-stream',
    'videotestsrc name=src is-live=true ! video/x-raw,format=I420,width=320,height=180,framerate=1/4 ' +
      '! aspectratiocrop name=crop aspect-ratio=1/1 ! fakesink name=sink sync=false',
  );
  t.teardown(() => graph.close());
  graph.play();
  t.ok(await until(() => widthOf(graph.caps('crop', 'src')) === 180, 3000), 'the first frame is cropped to 1:1 (180 wide)');

  graph.setInStream('crop', 'aspect-ratio', '16/9');
  t.equal(String(graph.get('crop', 'aspect-ratio')), '1/1', 'not set yet: no frame has come since');
  t.equal(widthOf(graph.caps('crop', 'src')), 180, 'and the crop is unchanged');
  t.ok(await until(() => widthOf(graph.caps('crop', 'src')) === 320, 6000), 'the next frame comes through 16:9, uncropped (320 wide)');
  t.equal(String(graph.get('crop', 'aspect-ratio')), '16/9', 'the property is set');
});

t.test('a property the element does not have, or an element without a sink pad, is refused at once', async (t) => {
  const graph = new GstGraph('set-in-stream-errors', 'videotestsrc name=src is-live=true ! aspectratiocrop name=crop ! fakesink');
  t.teardown(() => graph.close());
  t.throws(() => graph.setInStream('crop', 'no-such-property', '1'), { code: 'EGST_NO_PROPERTY' });
  t.throws(() => graph.setInStream('src', 'pattern', 'ball'), { code: 'EGST_NO_PAD' });
});
