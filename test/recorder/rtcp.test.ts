import dgram from 'node:dgram';
import t from 'tap';
import { RecorderProcess } from '../../plugin/recording/recorder/RecorderProcess';
import { startVideoPublisher } from '../support/rtpSender';
import { udpPortsOf } from '../support/udpPorts';
import { compositeJob, sleep, tmpDir, videoInput } from './helpers';

/** Reads RTCP packet types and reportee SSRCs out of a compound RTCP datagram. */
function rtcpPackets(datagram: Buffer): Array<{ type: number; reportees: number[] }> {
  const packets: Array<{ type: number; reportees: number[] }> = [];
  let offset = 0;
  while (offset + 4 <= datagram.length) {
    const version = datagram[offset]! >> 6;
    const count = datagram[offset]! & 0x1f;
    const type = datagram[offset + 1]!;
    const length = (datagram.readUInt16BE(offset + 2) + 1) * 4;
    if (version !== 2 || offset + length > datagram.length) break;
    const reportees: number[] = [];
    if (type === 201) for (let block = 0; block < count; block++) reportees.push(datagram.readUInt32BE(offset + 8 + block * 24));
    packets.push({ type, reportees });
    offset += length;
  }
  return packets;
}

for (const mode of ['composite', 'individual'] as const) {
  t.test(`${mode}: the recorder sends receiver reports for each stream from the RTCP port it announced, bound before it announced it`, async (t) => {
    // Stands in for the mediasoup PlainTransport's RTCP socket: it must see RTCP for the input's SSRC
    // coming from exactly the port addInput returned (mediasoup drops RTCP from any other).
    const transportRtcp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => transportRtcp.bind(0, '127.0.0.1', resolve));
    t.teardown(() => transportRtcp.close());
    const received: Array<{ port: number; packets: Array<{ type: number; reportees: number[] }> }> = [];
    transportRtcp.on('message', (datagram, rinfo) => received.push({ port: rinfo.port, packets: rtcpPackets(datagram) }));

    const recorder = await RecorderProcess.spawn(compositeJob(tmpDir(`rtcp-${mode}`), { mode }));
    t.teardown(() => recorder.close());
    const input = { ...videoInput('v1', 'alice'), rtcp: { ip: '127.0.0.1', port: transportRtcp.address().port } };
    const ports = await recorder.addInput(input);
    t.ok(ports.rtcpPort, `addInput announced an RTCP port (${ports.rtcpPort})`);
    // Held by the child's RTCP sender from the moment it is announced: a port picked free and bound
    // later could meanwhile go to any other socket on the machine.
    t.ok(udpPortsOf(recorder.pid!, '127.0.0.1').includes(ports.rtcpPort!), 'the recorder process has that port bound');
    const publisher = startVideoPublisher({ port: ports.rtpPort, color: 0x00ff00, ssrc: input.ssrc, payloadType: input.codec.payloadType });
    t.teardown(() => publisher.stop());

    const deadline = Date.now() + 20_000;
    const hasReport = (): boolean => received.some(({ packets }) => packets.some((packet) => packet.type === 201 && packet.reportees.includes(input.ssrc)));
    while (!hasReport() && Date.now() < deadline) await sleep(200);
    t.ok(hasReport(), `a receiver report about SSRC ${input.ssrc} arrived (${received.length} RTCP datagrams)`);
    t.ok(received.length > 0 && received.every(({ port }) => port === ports.rtcpPort), 'every RTCP datagram came from the announced port');
    await recorder.stop();
  });
}
