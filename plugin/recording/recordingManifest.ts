import fs from 'node:fs';
import path from 'node:path';
import type { StorageTarget } from '../../signaling/recordParam';
import type { JobFiles } from './recorder/filesOnDisk';

/**
 * What a running recording writes beside its files so that a server that dies mid-recording can
 * still deliver them after a restart: where they go (target, key stem), which files to expect, and
 * what the restarted server shows of it (start, who started it, who was recorded). Rewritten as those
 * change, removed once every file is in the durable upload queue. Holds storage keys: 0600, like the queue.
 */
export interface RecordingManifest {
  version: 1;
  recordingId: string;
  channelId: string;
  keyStem: string;
  target: StorageTarget;
  job: JobFiles;
  /** The recorder's start once it runs (the engine's clock before that). */
  startedAt: string;
  startedBy?: string;
  /** uids recorded so far: what a recovered recording lists. */
  participants?: string[];
  /** Present when this node carries on a recording another recorder node started (1, 2, …). */
  segment?: number;
  /** With a segment: when segment 0's recorder started (the recording's timeline). */
  timelineStartedAt?: string;
}

const MANIFEST_NAME = 'recording.manifest.json';

export function writeManifest(manifest: RecordingManifest): void {
  const file = path.join(manifest.job.outputDir, MANIFEST_NAME);
  const temp = `${file}.tmp`;
  fs.writeFileSync(temp, JSON.stringify(manifest), { mode: 0o600 });
  fs.renameSync(temp, file);
}

export function removeManifest(outputDir: string): void {
  fs.rmSync(path.join(outputDir, MANIFEST_NAME), { force: true });
}

/** Manifests left in the work directory by recordings a previous process never finished. */
export function readLeftoverManifests(workDir: string): RecordingManifest[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(workDir);
  } catch {
    return [];
  }
  const manifests: RecordingManifest[] = [];
  for (const entry of entries) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(workDir, entry, MANIFEST_NAME), 'utf8')) as RecordingManifest;
      if (manifest.version !== 1 || !manifest.job || !manifest.target) continue;
      // The files are where the manifest is, even if the state directory moved since.
      manifests.push({ ...manifest, job: { ...manifest.job, outputDir: path.join(workDir, entry) } });
    } catch {
      // No manifest (finished recording) or an unreadable one: nothing to recover there.
    }
  }
  return manifests;
}
