import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { sanitizeFileName } from '../../signaling/recordParam';

/**
 * Resolves `name` under `root` and proves the result stays inside it, symlinks included: the name is
 * validated (no '..', no absolute path), the parent directories are created, and the real path of the
 * parent must still lie under the real path of the root (a symlink planted inside the root cannot
 * redirect a write outside it).
 */
export async function resolveInside(root: string, name: string, field = 'fileName'): Promise<string> {
  const safeName = sanitizeFileName(name, field);
  const realRoot = await fsp.realpath(path.resolve(root));
  const target = path.resolve(realRoot, ...safeName.split('/'));
  if (!target.startsWith(realRoot + path.sep)) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${field}: resolves outside the directory`);
  }
  const parent = path.dirname(target);
  await fsp.mkdir(parent, { recursive: true, mode: 0o750 });
  const realParent = await fsp.realpath(parent);
  if (realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${field}: resolves outside the directory`);
  }
  const resolved = path.join(realParent, path.basename(target));
  // The final component itself must not be a symlink either (rename would replace the link, but a
  // later reader following it would not find our file where we said it is).
  const stat = await fsp.lstat(resolved).catch(() => undefined);
  if (stat?.isSymbolicLink()) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, `invalid ${field}: target is a symbolic link`);
  }
  return resolved;
}
