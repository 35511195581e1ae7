import crypto from 'node:crypto';
import path from 'node:path';
import type { RecordedFile } from './recorder/protocol';

/** A fresh recording id: `rec_<UTC yyyymmddhhmmss>_<8 hex>`, readable and sortable by start. */
export function mintRecordingId(taken: (recordingId: string) => boolean): string {
  let recordingId: string;
  do recordingId = `rec_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${crypto.randomBytes(4).toString('hex')}`;
  while (taken(recordingId));
  return recordingId;
}

/**
 * The object key stem of a recording's files. With a fileName: `dir/name.mp4` →
 * `dir/name_20261122-020304_1a2b3c4d` (start stamp, then the recording id's random part): readable,
 * and never the same for two recordings, even started in the same second. Without one:
 * `<channel>/<recordingId>`.
 */
export function objectKeyStem(fileName: string | undefined, channelId: string, recordingId: string, startedAt: number): string {
  if (!fileName) return `${channelId}/${recordingId}`;
  const extension = path.posix.extname(fileName);
  const stem = extension ? fileName.slice(0, -extension.length) : fileName;
  const stamp = new Date(startedAt).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const uniquePart = recordingId.slice(recordingId.lastIndexOf('_') + 1);
  return `${stem}_${stamp}_${uniquePart}`;
}

/**
 * The key stem of a recording's segment n: segment 0 (the recording as it started) keeps the stem,
 * a segment recorded after a recorder node's death gets `_seg<n>`, so no segment overwrites another.
 */
export function segmentKeyStem(keyStem: string, segment: number): string {
  return segment === 0 ? keyStem : `${keyStem}_seg${segment}`;
}

/** The longest key a file of the recording can get (a later segment's included): checked at start, before anything records. */
export const LONGEST_FILE_SUFFIX = '_seg99/recording_in9999.webm';

/** A composite recording is one file named after the stem; other files go under it as a folder. */
export function objectKeysOf(keyStem: string, files: readonly RecordedFile[]): Array<{ objectKey: string; file: RecordedFile }> {
  const composite = files.length === 1 && files[0]!.kind === 'composite';
  return files.map((file) => {
    const name = path.basename(file.path);
    return { objectKey: composite ? `${keyStem}${path.extname(name)}` : `${keyStem}/${name}`, file };
  });
}
