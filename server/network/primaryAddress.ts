import dgram from 'node:dgram';
import os from 'node:os';

export interface PrimaryAddress {
  address: string;
  /** The interface that holds it; undefined when nothing but loopback was found. */
  interfaceName: string | undefined;
  /** How it was found, for the start-up line. */
  how: 'default route' | 'first interface' | 'loopback only';
}

/**
 * A documentation address (RFC 5737): only its route is looked up. Connecting a UDP socket picks
 * the source address the kernel would use for it — the default route's — and sends no packet.
 */
const ROUTE_PROBE = '198.51.100.1';

/**
 * This machine's IPv4 address that other machines reach: the source address of the default route,
 * else the first non-internal IPv4 interface, else 127.0.0.1 (nothing else reaches this machine).
 */
export async function detectPrimaryAddress(): Promise<PrimaryAddress> {
  const interfaces = os.networkInterfaces();
  const viaRoute = await routeSourceAddress().catch(() => undefined);
  if (viaRoute && viaRoute !== '0.0.0.0' && !viaRoute.startsWith('127.')) {
    return { address: viaRoute, interfaceName: interfaceOf(interfaces, viaRoute), how: 'default route' };
  }
  for (const [name, addresses] of Object.entries(interfaces)) {
    const candidate = addresses?.find((entry) => entry.family === 'IPv4' && !entry.internal);
    if (candidate) return { address: candidate.address, interfaceName: name, how: 'first interface' };
  }
  return { address: '127.0.0.1', interfaceName: undefined, how: 'loopback only' };
}

function routeSourceAddress(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.connect(9, ROUTE_PROBE, () => {
      const { address } = socket.address();
      socket.close();
      resolve(address);
    });
  });
}

function interfaceOf(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>, address: string): string | undefined {
  return Object.entries(interfaces).find(([, entries]) => entries?.some((entry) => entry.address === address))?.[0];
}
