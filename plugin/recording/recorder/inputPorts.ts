/**
 * The ports an input's receiving head (launch.ts rtpHead, element names after `prefix`) got from the
 * OS: both its sockets bind port 0 during NULL→READY, synchronously, so they are known as soon as the
 * head is playing. Read back rather than chosen beforehand: a port picked free and bound later can
 * be taken by another socket in between.
 */
import type { GstGraph } from './GstGraph';
import { InputPorts, RecorderInput } from './protocol';

/** Throws when a socket did not bind. */
export function boundInputPorts(graph: GstGraph, input: RecorderInput, prefix = ''): InputPorts {
  const rtpPort = Number(graph.get(`${prefix}rtp`, 'port'));
  const rtcpPort = input.rtcp ? graph.boundPort(`${prefix}rtcpout`) : undefined;
  if (!Number.isInteger(rtpPort) || rtpPort <= 0 || rtcpPort === 0) {
    throw new Error(`the input's sockets did not bind (ports ${String(rtpPort)}, ${String(rtcpPort)})`);
  }
  return { rtpPort, ...(rtcpPort ? { rtcpPort } : {}) };
}
