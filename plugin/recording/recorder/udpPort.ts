import dgram from 'node:dgram';

/**
 * A UDP port the OS considers free right now, for the recorder's RTCP sender to bind (udpsink
 * bind-port). mediasoup accepts RTCP only from the rtcpPort it was connected to, so the sender's
 * port must be known before the pipeline is built; the OS picks it, which leaves only the short
 * window between this close and udpsink's bind for another socket to take it.
 */
export function reserveUdpPort(ip: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind(0, ip, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
