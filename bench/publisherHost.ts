/**
 * Child process that runs every replayed RTP stream of a benchmark run, so the publishers' CPU is
 * measured apart from the server, the recorders and the harness. Driven by IPC from PublisherHost.
 */
import { Clip, ClipName, loadClip } from './lib/content';
import { Replayer, StreamSpec } from './lib/replayer';
import { loadSimulcastLayer } from './lib/simulcastClip';

export type HostRequest =
  /** spatialLayer: which encoding of the `simulcast` clip (lowest 0). */
  | { id: number; op: 'add'; stream: Omit<StreamSpec, 'clip'> & { clip: ClipName; kind: 'video' | 'audio'; spatialLayer?: number } }
  | { id: number; op: 'remove'; streamId: string }
  | { id: number; op: 'stats' };

/** A request without its id (distributes over the union). */
export type HostCommand = HostRequest extends infer R ? (R extends HostRequest ? Omit<R, 'id'> : never) : never;
export type AddStream = Extract<HostRequest, { op: 'add' }>['stream'];

const replayer = new Replayer();
const clips = new Map<string, Clip>();

function clip(name: ClipName, kind: 'video' | 'audio', spatialLayer = 0): Clip {
  const key = `${name}/${kind}/${spatialLayer}`;
  let loaded = clips.get(key);
  if (!loaded) {
    if (name !== 'simulcast') loaded = loadClip(name, kind);
    else loaded = kind === 'video' ? loadSimulcastLayer(spatialLayer) : loadClip('moving', 'audio');
    clips.set(key, loaded);
  }
  return loaded;
}

process.on('message', (raw: HostRequest) => {
  void (async () => {
    try {
      let result: unknown;
      if (raw.op === 'add') {
        const { clip: name, kind, spatialLayer, ...rest } = raw.stream;
        result = await replayer.add({ ...rest, clip: clip(name, kind, spatialLayer) });
      } else if (raw.op === 'remove') {
        replayer.remove(raw.streamId);
        result = {};
      } else {
        result = replayer.stats();
      }
      process.send!({ id: raw.id, ok: true, result });
    } catch (error) {
      process.send!({ id: raw.id, ok: false, error: String(error) });
    }
  })();
});
process.on('disconnect', () => {
  replayer.close();
  process.exit(0);
});
process.send!({ ready: true });
