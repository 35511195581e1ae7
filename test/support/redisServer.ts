/**
 * A real redis-server for tests: its own process on a free loopback port, in a temp directory,
 * nothing persisted (--save '' --appendonly no), so a restart comes back empty like a lost Redis.
 * Never the system's Redis (the Debian package's service on 6379).
 */

import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './freePort';

export type RedisTestServer = {
  port: number;
  url: string;
  /** Kills the process (SIGKILL: Redis gone as in a crash); start() brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that holds its connections open but answers nothing. */
  freeze(): void;
  thaw(): void;
  /** Stops it and removes its directory. Idempotent. */
  close(): Promise<void>;
};

/** Why cluster tests cannot run here, or undefined when redis-server is installed. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'redis-server is not installed (scripts/setup.sh --test installs it)';
  return undefined;
}

export async function startRedisServer(): Promise<RedisTestServer> {
  const directory = await fsp.mkdtemp(path.join(os.tmpdir(), 'redis-test-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let closed = false;

  const start = async (): Promise<void> => {
    if (child) return;
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = server;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}: ${output}`)), 10_000);
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${output}`));
      });
      // With --loglevel warning the ready line is not printed: poll the port instead.
      const poll = (): void => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.write('PING\r\n');
          socket.once('data', (data) => {
            socket.destroy();
            if (data.toString().startsWith('+PONG')) {
              clearTimeout(timer);
              resolve();
            } else setTimeout(poll, 50);
          });
        });
        socket.once('error', () => {
          socket.destroy();
          setTimeout(poll, 50);
        });
      };
      server.stdout!.on('data', (data) => (output += data));
      server.stderr!.on('data', (data) => (output += data));
      poll();
    });
  };

  const stop = async (): Promise<void> => {
    const server = child;
    if (!server) return;
    child = undefined;
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.kill('SIGKILL');
    await exited;
  };
  // A test file that crashes before its teardown must not leave a Redis behind.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
    fs.rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async close() {
      if (closed) return;
      closed = true;
      process.off('exit', killOnExit);
      await stop();
      await fsp.rm(directory, { recursive: true, force: true });
    },
  };
}

/** What privateRedis needs of a tap test. */
interface FileTest {
  before(fn: () => Promise<void>): void;
  teardown(fn: () => unknown): void;
  plan(count: number, comment?: string): void;
}

/**
 * The private Redis of one test file: started before its tests and closed after them. Without
 * redis-server the file is skipped with the reason, and this returns undefined. `afterStart` runs
 * once Redis is up (e.g. to start server processes on it); what it returns is closed before Redis.
 */
export function privateRedis(t: FileTest, afterStart?: (redis: RedisTestServer) => Promise<{ close(): Promise<void> }>): RedisTestServer | undefined {
  const missing = redisServerMissing();
  if (missing) {
    t.plan(0, `skipped: ${missing}`);
    return undefined;
  }
  let server: RedisTestServer | undefined;
  let dependent: { close(): Promise<void> } | undefined;
  t.before(async () => {
    server = await startRedisServer();
    dependent = await afterStart?.(server);
  });
  t.teardown(async () => {
    await dependent?.close();
    await server?.close();
  });
  const started = (): RedisTestServer => {
    if (!server) throw new Error('the private Redis is used before the file started it (use it inside tests)');
    return server;
  };
  return {
    get port() {
      return started().port;
    },
    get url() {
      return started().url;
    },
    stop: () => started().stop(),
    start: () => started().start(),
    freeze: () => started().freeze(),
    thaw: () => started().thaw(),
    close: async () => server?.close(),
  };
}
