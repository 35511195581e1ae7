import net from 'node:net';

/**
 * A TCP hop in front of a port that can stop passing bytes either way (a network partition: the
 * connections stay open, nothing gets through) and pass them again (healed). As over a real
 * network, what was sent during the partition is held, not lost: TCP delivers it once the path is
 * back, in order. `dropping`: what is sent meanwhile is lost instead, and neither end sees the
 * other close (for a partition that never heals).
 */
export interface TcpHop {
  port: number;
  partition(options?: { dropping?: boolean }): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpHop(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpHop> {
  let partitioned = false;
  let dropping = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      if (partitioned && !dropping) socket.pause();
    }
    client.on('data', (chunk) => void (partitioned || upstream.write(chunk)));
    upstream.on('data', (chunk) => void (partitioned || client.write(chunk)));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) socket.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    partition: (options = {}) => {
      partitioned = true;
      dropping = options.dropping === true;
      if (!dropping) for (const socket of sockets) socket.pause();
    },
    heal: () => {
      partitioned = false;
      dropping = false;
      for (const socket of sockets) socket.resume();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
