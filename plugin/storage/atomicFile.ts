import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

/**
 * Whole-file writes that a crash cannot tear: write a temp file beside the target, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old file or the new one, never half of one.
 */

function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Temp files left behind by a crash between write and rename; loaders skip and sweep them. */
export function isTempFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const temp = tempPathFor(target);
  const handle = await fsp.open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fsp.rename(temp, target);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(path.dirname(target));
}

/**
 * Copies `source` to `target` atomically, reporting bytes copied. The target's directory must exist.
 * `exclusive`: never replaces an existing target — the finished temp file is hard-linked into place
 * (link fails with EEXIST where rename would overwrite), so the target is absent or complete, and
 * nobody's file is ever replaced. Rejects with an EEXIST error when the target exists.
 */
export async function copyFileAtomic(
  source: string,
  target: string,
  onProgress?: (copied: number) => void,
  signal?: AbortSignal,
  { exclusive = false }: { exclusive?: boolean } = {},
): Promise<void> {
  const temp = tempPathFor(target);
  let copied = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      copied += chunk.length;
      onProgress?.(copied);
      callback(null, chunk);
    },
  });
  const output = fs.createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  try {
    await pipeline(fs.createReadStream(source), counter, output, { signal });
    const handle = await fsp.open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (exclusive) await linkExclusive(temp, target);
    else await fsp.rename(temp, target);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(path.dirname(target));
}

async function linkExclusive(temp: string, target: string): Promise<void> {
  try {
    await fsp.link(temp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    // A file system without hard links: look, then rename (exclusive but for a tiny race).
    if (await fsp.lstat(target).then(() => true, () => false)) {
      throw Object.assign(new Error(`EEXIST: file already exists, ${target}`), { code: 'EEXIST' });
    }
    await fsp.rename(temp, target);
    return;
  }
  await fsp.rm(temp, { force: true });
}
