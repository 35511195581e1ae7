/**
 * confrecudpsrc, the addon's UDP source in every recorder input: however many sockets a process has,
 * one thread reads them all, woken a bounded number of times however many packets come; each packet
 * still carries its own arrival time; empty datagrams are dropped and counted; EOS completes on a
 * socket that never got a packet (udpsrc's never did).
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import t from 'tap';
import { GstGraph } from '../../plugin/recording/recorder/GstGraph';
import { RECEIVE_TICK_MS } from '../../plugin/recording/recorder/launch';
import { rtpPacket, sleep } from './helpers';

const SOCKETS = 12;
const CAPS = 'application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=96';

const rtp = (seq: number): Buffer => rtpPacket(seq, 0x1234, seq * 3000);

/** This process's threads: name → thread ids. */
function threads(): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const name = fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    byName.set(name, [...(byName.get(name) ?? []), tid]);
  }
  return byName;
}

function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length;
}

function voluntarySwitches(tid: string): number {
  const status = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]);
}

/** A fakesink's last-message names the PTS of the last buffer it got ("pts: 0:00:01.234567890"). */
function lastPtsNs(graph: GstGraph, sink: string): number {
  const message = String(graph.get(sink, 'last-message'));
  const match = /pts: (\d+):(\d+):(\d+)\.(\d+)/.exec(message);
  if (!match) throw new Error(`no pts in ${message}`);
  return ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3])) * 1e9 + Number(match[4]);
}

const send = (socket: dgram.Socket, packet: Buffer, port: number): Promise<void> =>
  new Promise((resolve, reject) => socket.send(packet, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));

t.test('one thread reads every socket, woken far less often than packets come, each packet stamped with its arrival', async (t) => {
  const sender = dgram.createSocket('udp4');
  const graphs: GstGraph[] = [];
  t.teardown(() => {
    for (const graph of graphs) graph.close();
    sender.close();
  });
  const before = threadCount();
  for (let i = 0; i < SOCKETS; i++) {
    const graph = new GstGraph(`udp-${i}`, `confrecudpsrc name=rtp address=127.0.0.1 port=0 caps="${CAPS}" ! fakesink name=sink silent=false sync=false async=false`);
    graph.play();
    graphs.push(graph);
  }
  const ports = graphs.map((graph) => Number(graph.get('rtp', 'port')));
  t.ok(ports.every((port) => port > 0) && new Set(ports).size === SOCKETS, 'each element bound a port of its own, readable once it plays');
  t.equal(Number(graphs[0]!.get('rtp', 'tick')), RECEIVE_TICK_MS, 'the reader\'s tick is the one the mixers\' latency counts on');

  await send(sender, rtp(0), ports[0]!);
  await sleep(50);
  const readers = threads().get('confrec-udp') ?? [];
  t.equal(readers.length, 1, 'one reader thread in the process');
  t.ok(threadCount() - before <= 1, `${SOCKETS} playing sockets added ${threadCount() - before} thread(s) (udpsrc: one each)`);

  const switchesBefore = voluntarySwitches(readers[0]!);
  const rounds = 100;
  for (let seq = 1; seq <= rounds; seq++) {
    for (const port of ports) await send(sender, rtp(seq), port);
    if (seq % 10 === 0) await sleep(2);
  }
  await sleep(RECEIVE_TICK_MS + 50);
  const packets = rounds * SOCKETS;
  const received = graphs.map((graph) => Number(graph.get('rtp', 'received')));
  t.same(received, ports.map((_, i) => (i === 0 ? rounds + 1 : rounds)), 'every packet reached its own pipeline');
  const switches = voluntarySwitches(readers[0]!) - switchesBefore;
  t.ok(switches < packets / 4, `the reader slept ${switches} times for ${packets} packets`);

  // Two packets on two sockets, a few ms apart, within one read or across two: their PTS differ by
  // the time between them, not by when the reader happened to read them (then 0 or a tick). The
  // median of several pairs, since a send can leave Node a little after it was asked for.
  const errorsMs: number[] = [];
  for (let pair = 0; pair < 9; pair++) {
    const first = process.hrtime.bigint();
    await send(sender, rtp(rounds + 1 + pair), ports[1]!);
    await sleep(4);
    const second = process.hrtime.bigint();
    await send(sender, rtp(rounds + 1 + pair), ports[2]!);
    await sleep(RECEIVE_TICK_MS + 50);
    const stampedApartNs = lastPtsNs(graphs[2]!, 'sink') - lastPtsNs(graphs[1]!, 'sink');
    errorsMs.push(Math.abs(stampedApartNs - Number(second - first)) / 1e6);
  }
  const medianErrorMs = [...errorsMs].sort((a, b) => a - b)[Math.floor(errorsMs.length / 2)]!;
  t.ok(medianErrorMs < 1.5, `PTS spacing within ${medianErrorMs.toFixed(2)} ms (median of 9 pairs) of the send spacing`);
});

t.test('an empty datagram is dropped and counted; the stream goes on', async (t) => {
  const sender = dgram.createSocket('udp4');
  const graph = new GstGraph('udp-empty', `confrecudpsrc name=rtp address=127.0.0.1 port=0 caps="${CAPS}" ! fakesink name=sink sync=false async=false`);
  t.teardown(() => {
    graph.close();
    sender.close();
  });
  graph.play();
  const port = Number(graph.get('rtp', 'port'));
  await send(sender, Buffer.alloc(0), port);
  await send(sender, rtp(1), port);
  await sleep(RECEIVE_TICK_MS + 50);
  t.equal(graph.get('rtp', 'dropped'), 1, 'the empty one dropped');
  t.equal(graph.get('rtp', 'received'), 1, 'the packet after it received');
});

t.test('EOS completes on a socket that never received a packet', async (t) => {
  const graph = new GstGraph('udp-idle', `confrecudpsrc name=rtp address=127.0.0.1 port=0 caps="${CAPS}" ! fakesink name=sink sync=false async=false`);
  t.teardown(() => graph.close());
  graph.play();
  await sleep(50);
  t.equal(await graph.eos(2000), true, 'EOS reached the bus');
});

t.test('an address that is not a numeric IP fails the pipeline at start', async (t) => {
  const graph = new GstGraph('udp-bad', `confrecudpsrc name=rtp address=not-an-ip port=0 ! fakesink`);
  t.teardown(() => graph.close());
  t.throws(() => graph.play(), /could not play/);
});
