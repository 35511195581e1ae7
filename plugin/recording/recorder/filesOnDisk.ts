import fs from 'node:fs';
import path from 'node:path';
import { compositeExtension } from './compositeGraph';
import type { RecordedFile, RecorderJob } from './protocol';

export type JobFiles = Pick<RecorderJob, 'outputDir' | 'fileBaseName' | 'mode' | 'streamTypes'>;

/**
 * The files a recorder job leaves in its output directory, whether finalized or not: what is kept
 * when a child was killed, and what a restarted server recovers from a recording it never finished.
 */
export function recordedFilesOnDisk(job: JobFiles): RecordedFile[] {
  const { outputDir, fileBaseName, mode } = job;
  if (mode === 'composite') {
    const file = path.join(outputDir, `${fileBaseName}.${compositeExtension(job as RecorderJob)}`);
    const codec = job.streamTypes === 'AudioOnly' ? 'aac' : job.streamTypes === 'VideoOnly' ? 'h264' : 'h264+aac';
    return nonEmpty(file) ? [{ path: file, kind: 'composite', codec, startOffsetMs: 0 }] : [];
  }
  let names: string[] = [];
  try {
    names = fs.readdirSync(outputDir);
  } catch {
    return [];
  }
  const media: RecordedFile[] = names
    .filter((name) => name.startsWith(`${fileBaseName}_`) && /\.(webm|mp4)$/.test(name) && nonEmpty(path.join(outputDir, name)))
    .map((name) => ({
      path: path.join(outputDir, name),
      kind: name.endsWith('.mp4') ? 'video' : 'audio',
      codec: 'unknown',
      // Offsets were only known to the child; its metadata file has them when it got to write it.
      startOffsetMs: 0,
    }));
  const metadata = path.join(outputDir, `${fileBaseName}.json`);
  return nonEmpty(metadata) ? [...media, { path: metadata, kind: 'metadata', codec: 'json', startOffsetMs: 0 }] : media;
}

function nonEmpty(file: string): boolean {
  try {
    return fs.statSync(file).size > 0;
  } catch {
    return false;
  }
}
