/**
 * confrecopusdec, the addon's Opus decoder in every composite audio input: a real Opus RTP stream
 * (gst-launch opusenc, 440 Hz) through a relay that drops three packets in a row decodes to the tone
 * with the lost 60 ms concealed, as opusdec plc=true did: the output is as long as what was sent, and
 * the concealed stretch is not silence.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { GstGraph } from '../../plugin/recording/recorder/GstGraph';
import { rtpCaps } from '../../plugin/recording/recorder/launch';
import { pcm, rms, toneShare } from '../support/mediaProbe';
import { startAudioPublisher } from '../support/rtpSender';
import { audioInput, sleep, tmpDir } from './helpers';

const FRAME_S = 0.02;
const BEFORE = 50;
const LOST = 3;
const AFTER = 50;

t.test('lost packets are concealed: the output is as long as what was sent, and the gap is not silent', async (t) => {
  const output = path.join(tmpDir('opus-plc'), 'out.wav');
  const graph = new GstGraph(
    'opus-plc',
    `confrecudpsrc name=rtp address=127.0.0.1 port=0 caps="${rtpCaps(audioInput('a', 'u'))}" ! confrecrtporder latency=60 ! rtpopusdepay ` +
      `! confrecopusdec ! audio/x-raw,format=S16LE,rate=48000,channels=2 ! wavenc ! filesink location="${output}"`,
  );
  const relay = dgram.createSocket('udp4');
  t.teardown(() => {
    graph.close();
    relay.close();
  });
  graph.play();
  const port = Number(graph.get('rtp', 'port'));
  await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve));
  let seen = 0;
  const dropped: number[] = [];
  relay.on('message', (packet) => {
    seen++;
    if (seen > BEFORE + LOST + AFTER) return;
    if (seen > BEFORE && seen <= BEFORE + LOST) {
      dropped.push(packet.readUInt16BE(2));
      return;
    }
    relay.send(packet, port, '127.0.0.1');
  });
  const publisher = startAudioPublisher({ port: relay.address().port, frequency: 440 });
  t.teardown(() => publisher.stop());
  while (seen <= BEFORE + LOST + AFTER) await sleep(50);
  await publisher.stop();
  await sleep(200);
  t.equal(await graph.eos(3000), true, 'the file is finalized');
  t.equal(dropped.length, LOST, `the relay dropped packets ${dropped.join(', ')}`);

  const sentS = (BEFORE + LOST + AFTER) * FRAME_S;
  const decodedS = (fs.statSync(output).size - 44) / (48_000 * 2 * 2);
  t.ok(Math.abs(decodedS - sentS) < FRAME_S / 2, `decoded ${decodedS.toFixed(3)} s of the ${sentS.toFixed(3)} s sent (${(BEFORE + AFTER) * FRAME_S} s received)`);
  const steady = rms(await pcm(output, 0.4, 0.5));
  const concealed = rms(await pcm(output, BEFORE * FRAME_S, LOST * FRAME_S));
  t.ok(steady > 0.05, `the tone is there (rms ${steady.toFixed(3)})`);
  t.ok(concealed > steady / 4, `the lost ${LOST * FRAME_S * 1000} ms are concealed, not silent (rms ${concealed.toFixed(3)} against ${steady.toFixed(3)})`);
  t.ok(toneShare(await pcm(output, 0, sentS), 440) > 0.9, 'and the whole output is the 440 Hz tone');
});
