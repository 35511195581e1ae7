/**
 * confrecrtporder, the addon's element that replaced rtpjitterbuffer in every recorder input: packets
 * sent to a real pipeline out of order, twice, late and with a gap come out of it (relayed by udpsink)
 * in sequence order, without duplicates, and a gap is given up only once later packets have waited
 * the element's latency.
 */
import dgram from 'node:dgram';
import t from 'tap';
import { GstGraph } from '../../plugin/recording/recorder/GstGraph';
import { RECEIVE_TICK_MS } from '../../plugin/recording/recorder/launch';
import { rtpPacket, sleep } from './helpers';

const SSRC = 0x1234;
const LATENCY_MS = 200;

/** A packet of a 30 fps stream: its RTP time follows from its sequence number unless `timestamp` says otherwise. */
function rtp(seq: number, ssrc = SSRC, timestamp = seq * 3000): Buffer {
  return rtpPacket(seq, ssrc, timestamp);
}

t.test('packets leave in sequence order; a gap waits for its packet, then is given up', async (t) => {
  const receiver = dgram.createSocket('udp4');
  const received: number[] = [];
  const timestamps = new Map<number, number>();
  receiver.on('message', (packet) => {
    received.push(packet.readUInt16BE(2));
    timestamps.set(packet.readUInt16BE(2), packet.readUInt32BE(4));
  });
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const graph = new GstGraph(
    'rtp-order',
    `udpsrc name=rtp address=127.0.0.1 port=0 caps="application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=96" ` +
      `! confrecrtporder latency=${LATENCY_MS} ! udpsink host=127.0.0.1 port=${receiver.address().port} sync=false async=false`,
  );
  const sender = dgram.createSocket('udp4');
  t.teardown(() => {
    graph.close();
    sender.close();
    receiver.close();
  });
  graph.play();
  const port = Number(graph.get('rtp', 'port'));
  const sendPackets = async (packets: Buffer[]): Promise<void> => {
    for (const packet of packets) {
      await new Promise<void>((resolve, reject) => sender.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
      await sleep(5);
    }
    await sleep(RECEIVE_TICK_MS + 50);
  };
  const sendFrom = (ssrc: number, seqs: number[]): Promise<void> => sendPackets(seqs.map((seq) => rtp(seq, ssrc)));
  const send = (...seqs: number[]): Promise<void> => sendFrom(SSRC, seqs);

  await send(65530, 65531, 65532);
  t.same(received, [65530, 65531, 65532], 'packets in order pass straight through');
  await send(65534, 65535, 65533);
  t.same(received.slice(3), [65533, 65534, 65535], 'a packet that comes late is put back in its place');
  await send(0, 0, 1);
  t.same(received.slice(6), [0, 1], 'the sequence wraps; a duplicate is dropped');

  await send(3, 4);
  t.same(received.slice(8), [], 'after a gap (2 missing) later packets are held');
  await sleep(LATENCY_MS);
  await send(5);
  t.same(received.slice(8), [3, 4, 5], 'once they waited the latency, the gap is given up');
  await send(2, 6);
  t.same(received.slice(11), [6], 'the missing packet arriving after that is dropped');

  // Garbage with the stream's SSRC: far ahead, behind, a little ahead; and a stranger's SSRC.
  await send(30000, 7, 50000, 2, 8, 20, 9, 10);
  await sendFrom(0xbad, [11, 12]);
  await send(11, 12);
  t.same(received.slice(12), [7, 8, 9, 10, 11, 12], 'stray packets neither reach the output nor pull the sequence away');
  await send(...Array.from({ length: 8 }, (_, i) => 13 + i));
  await sleep(LATENCY_MS);
  await send(21);
  t.same(received.slice(18), [13, 14, 15, 16, 17, 18, 19, 20, 21], 'the stray packet a little ahead is dropped as the sequence passes it');

  await send(40000, 40001, 40002, 40003, 40004, 40005, 40006, 40007, 40008);
  t.same(received.slice(27), [40007, 40008], 'a sender that restarts its sequence is followed after eight packets in a row');

  // Garbage a little ahead with the stream's SSRC but an RTP time 100 s away: held, it took the real
  // packet's place when the sequence reached it, and that packet was dropped as a duplicate.
  await sendPackets([rtp(40011, SSRC, 40011 * 3000 + 9_000_000)]);
  await send(40009, 40010, 40011, 40012);
  t.same(received.slice(29), [40009, 40010, 40011, 40012], 'a stray packet just ahead whose RTP time does not fit is not held');
  t.equal(timestamps.get(40011), 40011 * 3000, 'and the real packet with its sequence number is the one that leaves');
});
