/**
 * A stop at any moment of a start leaves no recorder process behind: stopped right away, while the
 * recorder child is still loading GStreamer, and just after it runs. Processes are counted from
 * /proc: children of this test process running the recorder's entry.
 */
import type { RecordingEvent } from '../../signaling/recordingEvent';
import t from 'tap';
import { publishTestMedia } from '../../scripts/publishRtp';
import { sleep, startRecordingServer, until } from '../support/recordingServer';
import { recorderChildren } from '../support/recorderChildren';


t.test('stop while the recorder is spawning: no recorder process remains, observers reach Stopped', async (t) => {
  const env = await startRecordingServer();
  t.teardown(() => env.close());
  const host = await env.join('spawn-stop', 'host');
  const media = await publishTestMedia({ client: host.client, color: 0x00ff00 });
  t.teardown(() => media.stop());
  const engine = env.recording.engine;
  t.same(recorderChildren(), [], 'no recorder before the test');

  for (const delayMs of [0, 20, 100, 250, 500, 1000]) {
    const seen: string[] = [];
    const recorder = env.recording.createCloudRecorder({
      onRecordingConnecting: () => seen.push('connecting'),
      onRecordingStarted: () => seen.push('started'),
      onRecordingStopped: () => seen.push('stopped'),
      onRecordingFatalError: () => seen.push('fatalError'),
    });
    let stopped: Promise<unknown> | undefined;
    const onConnecting = (event: RecordingEvent): void => {
      if (event.type !== 'connecting') return;
      engine.eventLog.off('appended', onConnecting);
      const stop = (): void => void (stopped = engine.stop(event.recordingId, 'test stop').catch((error) => error));
      if (delayMs === 0) stop();
      else setTimeout(stop, delayMs);
    };
    engine.eventLog.on('appended', onConnecting);
    const token = env.token({ channelId: 'spawn-stop', uid: 'backend' });
    const outcome = await recorder.startCloudRecording('confrec', 'spawn-stop', token, 'backend', { transcodingConfig: { width: 320, height: 240 } }, { vendor: 'Local' } as never).then(
      (id) => ({ id }),
      (error) => ({ error }),
    );
    await until(() => stopped !== undefined, 5000);
    await stopped;
    const recordingId = recorder.recordingId!;
    t.ok(await until(() => !engine.get(recordingId)?.active, 10_000), `${delayMs} ms: the recording ended (${engine.get(recordingId)?.phase}; start ${'id' in outcome ? 'resolved' : 'rejected'})`);
    t.ok(await until(() => recorderChildren().length === 0, 5000), `${delayMs} ms: no recorder process left (${recorderChildren().join(', ') || 'none'})`);
    t.ok(seen.includes('stopped') || seen.includes('fatalError'), `${delayMs} ms: the observer heard a final callback (${seen.join(' → ')})`);
    t.equal((await host.client.request('getChannelProperties')).properties.recordState, 'Ready', `${delayMs} ms: the channel is not left Running`);
    await recorder.release();
  }
  // Nothing comes back later either (a spawn resolving after its stop).
  await sleep(2000);
  t.same(recorderChildren(), [], 'still none two seconds later');
});
