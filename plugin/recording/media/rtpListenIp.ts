import os from 'node:os';
import type { types as ms } from 'mediasoup';
import { isLoopback } from '../../../server/network/RtcAddresses';

/**
 * Where a media link's PlainTransports listen so that other nodes reach them at `rtpAddress`: on
 * that address when it is this machine's own, else (behind NAT: an address the machine does not
 * hold) where WebRTC listens, announcing `rtpAddress`.
 */
export function rtpListenIp(rtpAddress: string, mediasoupListenIp: string): ms.TransportListenIp {
  return isOwnAddress(rtpAddress) ? { ip: rtpAddress } : { ip: mediasoupListenIp, announcedIp: rtpAddress };
}

function isOwnAddress(address: string): boolean {
  // The whole of 127.0.0.0/8 is this machine's, though interfaces list only 127.0.0.1.
  if (isLoopback(address)) return true;
  return Object.values(os.networkInterfaces()).some((entries) => entries?.some((entry) => entry.address === address));
}
