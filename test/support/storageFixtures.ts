/** Shared helpers for the storage tests: temp dirs, random files, hashes, log capture. */

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { LogLevel, resetLogSink, setLogLevel, setLogSink } from '../../server/logger';

export const MiB = 1024 * 1024;

export async function makeTempDir(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** A file of random bytes (random so a store that mixes up parts cannot produce the same hash). */
export async function makeRandomFile(dir: string, name: string, size: number): Promise<string> {
  const file = path.join(dir, name);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const handle = await fsp.open(file, 'w');
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(MiB, size - written));
      await handle.write(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return file;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Sends every log line (debug included) into an array, so tests can grep what the server logged. */
export function captureLogs(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  setLogLevel('debug');
  setLogSink((line) => lines.push(line));
  return {
    lines,
    restore() {
      setLogLevel((process.env.LOG_LEVEL as LogLevel | undefined) ?? 'info');
      resetLogSink();
    },
  };
}

/** Resolves with the next event's arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function once<T extends unknown[]>(emitter: { once(event: any, listener: (...args: any[]) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** Records every event a manager emits (as JSON, the way a webhook or signaling message would carry it). */
export function recordEvents(manager: { on(event: string, listener: (...args: unknown[]) => void): unknown }): { events: Array<{ name: string; args: unknown[] }>; json(): string } {
  const events: Array<{ name: string; args: unknown[] }> = [];
  for (const name of ['progress', 'uploaded', 'backuped', 'uploaderFailure']) {
    manager.on(name, (...args: unknown[]) => events.push({ name, args: JSON.parse(JSON.stringify(args)) }));
  }
  return { events, json: () => JSON.stringify(events) };
}

/** Percent values of 'progress' events, in order. */
export function percents(events: Array<{ name: string; args: unknown[] }>): number[] {
  return events.filter((e) => e.name === 'progress').map((e) => e.args[1] as number);
}
