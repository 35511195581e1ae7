import net from 'node:net';

/** A TCP port free on `ip` right now (bound, read and released); nothing listens on it when this resolves. */
export async function freePort(ip = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
