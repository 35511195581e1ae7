import { Logger } from '../../server/logger';
import { RecordingErrorCode } from '../../signaling/errors';
import { isFinalRecordingEvent, type RecordingEventBody } from '../../signaling/recordingEvent';
import { recordedFilesOnDisk } from './recorder/filesOnDisk';
import { readLeftoverManifests } from './recordingManifest';
import type { RecordingDelivery } from './RecordingDelivery';
import type { RecordingEventLog } from './RecordingEventLog';
import type { RecordedFile } from './recorder/protocol';
import type { RecordingManifest } from './recordingManifest';
import { newRecordingEntry, type RecordingEntry, type RecordingRegistry } from './RecordingRegistry';

const logger = new Logger('RecordingRecovery');

export interface RecordingRecoveryOptions {
  /** Recorders' working directories: <workDir>/<recordingId>/ with their manifests. */
  workDir: string;
  registry: RecordingRegistry;
  delivery: RecordingDelivery;
  log: RecordingEventLog;
  emit(event: RecordingEventBody): void;
  /**
   * Cluster mode: whether another recorder node carried the recording on while this one was dead.
   * Then this segment is delivered as it is, for its owner, and not ended here (no fatalError).
   */
  takenOver?(manifest: RecordingManifest): Promise<boolean>;
  /** Called once a taken-over segment's files are in the upload queue. */
  delivered?(entry: RecordingEntry, files: RecordedFile[]): void;
}

/**
 * Takes over the recordings a previous process started but never finished (it died or was killed
 * mid-recording): each is listed again as recovered, its event log gets its final event
 * (fatalError RecorderFailed, unless it had already stopped), and its files, as the recorder left
 * them, are queued for upload under the keys the manifest names. Returns how many.
 */
export async function recoverInterruptedRecordings({ workDir, registry, delivery, log, emit, takenOver, delivered }: RecordingRecoveryOptions): Promise<number> {
  const manifests = readLeftoverManifests(workDir).filter((manifest) => !registry.entry(manifest.recordingId));
  for (const manifest of manifests) {
    const { recordingId, channelId } = manifest;
    const files = recordedFilesOnDisk(manifest.job);
    if (await takenOver?.(manifest).catch(() => false)) {
      const entry = newRecordingEntry({ recordingId, channelId, mode: manifest.job.mode, recoveredPhase: 'stopped', manifest, startedBy: manifest.startedBy ?? 'unknown', participants: manifest.participants ?? [] });
      registry.add(entry);
      logger.warn(`recover() | segment ${manifest.segment ?? 0} interrupted by a server stop, the recording went on elsewhere: queueing ${files.length} file(s)`, { recordingId, channelId });
      entry.handedOff = delivery.deliver(entry, files, { compact: false });
      await entry.handedOff;
      delivered?.(entry, files);
      continue;
    }
    // Killed after the recording had already ended (while its files went to the queue): its end is logged.
    const ended = [...log.since(recordingId).entries].reverse().find(isFinalRecordingEvent);
    const entry = newRecordingEntry({
      recordingId,
      channelId,
      mode: manifest.job.mode,
      recoveredPhase: ended?.type === 'stopped' ? 'stopped' : 'failed',
      manifest,
      startedBy: manifest.startedBy ?? 'unknown',
      participants: manifest.participants ?? [],
    });
    registry.add(entry);
    logger.warn(`recover() | interrupted by a server stop: queueing ${files.length} file(s)`, { recordingId, channelId });
    if (!ended) {
      emit({ type: 'fatalError', recordingId, channelId, code: RecordingErrorCode.RecorderFailed, message: `the server stopped during the recording; ${files.length} file(s) recovered from disk after its restart` });
    }
    entry.handedOff = delivery.deliver(entry, files, { compact: false });
    await entry.handedOff;
    registry.finished(entry);
  }
  return manifests.length;
}
