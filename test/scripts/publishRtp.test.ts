/**
 * scripts/publishRtp.ts as a user runs it (node dist/scripts/publishRtp.js) against a real server: it
 * ends when its channel or connection is closed, and never leaves its gst-launch-1.0 behind — not even
 * when it is SIGKILLed.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer, TestServer } from '../support/server';

const SCRIPT = path.join(__dirname, '../../scripts/publishRtp.js');

interface ProcessId {
  pid: number;
  /** /proc start time: tells the process apart from a later one that reuses its pid. */
  startTime: string;
}

function stat(pid: number): { comm: string; state: string; ppid: number; startTime: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { comm: text.slice(text.indexOf('(') + 1, close), state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]! };
}

function running(id: ProcessId): boolean {
  const now = stat(id.pid);
  return now !== undefined && now.startTime === id.startTime && now.state !== 'Z';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The gst-launch-1.0 child of `parent` (it starts as setpriv and execs into gst-launch). */
async function gstChild(parent: number): Promise<ProcessId> {
  let found: ProcessId | undefined;
  await waitUntil(() => {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const info = stat(Number(entry));
      if (info?.ppid === parent && info.comm === 'gst-launch-1.0') found = { pid: Number(entry), startTime: info.startTime };
    }
    return found !== undefined;
  }, 10000);
  if (!found) throw new Error(`no gst-launch-1.0 child of ${parent}`);
  return found;
}

async function startCli(env: TestServer, channelId: string, uid: string) {
  const child = spawn(process.execPath, [SCRIPT, '--url', env.url, '--channel', channelId, '--token', env.token({ channelId, uid })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  if (!(await waitUntil(() => stdout.includes('publishing'), 30000))) throw new Error(`publishRtp did not start: ${stderr}`);
  const gst = await gstChild(child.pid!);
  return { child, gst, exited, output: () => ({ stdout, stderr }) };
}

/** Teardown: whatever a failing test left running. */
function kill(cli: { child: { kill(signal: NodeJS.Signals): boolean }; gst: ProcessId }): void {
  cli.child.kill('SIGKILL');
  if (running(cli.gst)) process.kill(cli.gst.pid, 'SIGKILL');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(`${what} within ${ms} ms`)))]);
}

t.test('publishRtp exits 1 with a message when the server closes its channel, and takes gst-launch with it', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const cli = await startCli(env, 'bots', 'bot');
  t.teardown(() => kill(cli));
  t.ok(running(cli.gst), 'gst-launch-1.0 runs while publishing');
  // The same uid joining from another connection: the server sends channelClosed to the old one.
  await env.join('bots', 'bot');
  const exit = await withTimeout(cli.exited, 10000, 'publishRtp did not exit');
  t.equal(exit.code, 1, 'non-zero exit');
  t.match(cli.output().stderr, /closed channel bots: joined again from another connection/, 'says why');
  t.ok(await waitUntil(() => !running(cli.gst), 5000), 'no gst-launch-1.0 left');
});

t.test('publishRtp exits 1 when the connection closes (server stopped)', async (t) => {
  const env = await startTestServer();
  const cli = await startCli(env, 'bots', 'bot');
  t.teardown(() => kill(cli));
  await env.close();
  const exit = await withTimeout(cli.exited, 10000, 'publishRtp did not exit');
  t.equal(exit.code, 1, 'non-zero exit');
  t.match(cli.output().stderr, /connection to the server closed/, 'says why');
  t.ok(await waitUntil(() => !running(cli.gst), 5000), 'no gst-launch-1.0 left');
});

t.test('SIGTERM and SIGINT stop publishRtp and its gst-launch; SIGKILL leaves no gst-launch either', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const cli = await startCli(env, `bots-${signal}`, 'bot');
    t.teardown(() => kill(cli));
    cli.child.kill(signal);
    const exit = await withTimeout(cli.exited, 10000, `publishRtp did not exit on ${signal}`);
    t.equal(exit.code, 0, `${signal}: a requested stop exits 0`);
    t.ok(await waitUntil(() => !running(cli.gst), 5000), `${signal}: no gst-launch-1.0 left`);
  }
  const cli = await startCli(env, 'bots-kill', 'bot');
  t.teardown(() => kill(cli));
  cli.child.kill('SIGKILL');
  t.equal((await withTimeout(cli.exited, 10000, 'publishRtp did not die')).signal, 'SIGKILL', 'publishRtp died of the SIGKILL');
  t.ok(await waitUntil(() => !running(cli.gst), 5000), 'SIGKILL: no gst-launch-1.0 left');
});

t.test('publishRtp exits 1 when its gst-launch dies', async (t) => {
  const env = await startTestServer();
  t.teardown(() => env.close());
  const cli = await startCli(env, 'bots', 'bot');
  t.teardown(() => kill(cli));
  process.kill(cli.gst.pid, 'SIGKILL');
  const exit = await withTimeout(cli.exited, 10000, 'publishRtp did not exit');
  t.equal(exit.code, 1, 'non-zero exit');
  t.match(cli.output().stderr, /gst-launch-1.0 exited \(SIGKILL\)/, 'says why');
});
