import net from 'node:net';
import { detectPrimaryAddress } from './primaryAddress';

export interface RtcAddressConfig {
  listenIp: string;
  announcedIp: string;
}

/**
 * Where WebRTC and client PlainTransports listen and which address their candidates announce.
 * The announced address is `mediasoup.announcedIp`, else the listen address when it is a specific
 * one, else this machine's primary address (auto-detected at start). A client that reached the
 * signaling socket over loopback is on this machine: it is given 127.0.0.1 when the transports
 * listen on every interface, which keeps working when the announced address is a NAT's public one.
 */
export class RtcAddresses {
  readonly listenIp: string;
  readonly announcedIp: string;
  /** How announcedIp was chosen, for the start-up line. */
  readonly origin: string;

  private constructor(listenIp: string, announcedIp: string, origin: string) {
    this.listenIp = listenIp;
    this.announcedIp = announcedIp;
    this.origin = origin;
  }

  static async resolve(config: RtcAddressConfig): Promise<RtcAddresses> {
    const { listenIp, announcedIp } = config;
    if (announcedIp) return new RtcAddresses(listenIp, announcedIp, 'mediasoup.announcedIp');
    if (!isWildcard(listenIp)) return new RtcAddresses(listenIp, listenIp, 'mediasoup.listenIp');
    const primary = await detectPrimaryAddress();
    const where = primary.interfaceName ? ` of ${primary.interfaceName}` : '';
    return new RtcAddresses(listenIp, primary.address, `auto-detected (${primary.how}${where})`);
  }

  /** The address to announce to a client whose signaling socket arrived on `localAddress`. */
  announcedFor(localAddress: string | undefined): string {
    if (isWildcard(this.listenIp) && localAddress !== undefined && isLoopback(localAddress)) return '127.0.0.1';
    return this.announcedIp;
  }
}

export function isWildcard(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}

export function isLoopback(address: string): boolean {
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return (net.isIPv4(plain) && plain.startsWith('127.')) || plain === '::1';
}
