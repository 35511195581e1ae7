import path from 'node:path';
import type { ServerConfig } from '../../config/defaults';
import type { PluginContext } from '../PluginHost';
import { UploadManager, UploadManagerOptions } from '../storage/UploadManager';
import { RecordingEngine } from './RecordingEngine';
import { RecordingPlugin } from './RecordingPlugin';
import type { RecorderProcessOptions } from './recorder/RecorderProcess';
import type { RecordingEventLogOptions } from './RecordingEventLog';

export interface RecordingPluginOverrides {
  uploads?: Partial<UploadManagerOptions>;
  recorder?: RecorderProcessOptions;
  eventLog?: RecordingEventLogOptions;
}

/**
 * Assembles the recording plugin from the server config: the durable upload queue (resuming what a
 * previous run left), the engine, and the in-channel surface.
 */
export async function createRecordingPlugin(context: PluginContext & { config: ServerConfig }, overrides: RecordingPluginOverrides = {}): Promise<RecordingPlugin> {
  const { recording } = context.config;
  const uploads = await UploadManager.open({
    stateDir: path.join(recording.stateDir, 'uploads'),
    backupDir: path.join(recording.stateDir, 'backup'),
    recordingsDir: recording.recordingsDir,
    // A recorder's working copy goes once a store acknowledged it, or disks fill with duplicates.
    deleteLocalAfterUpload: true,
    ...overrides.uploads,
  });
  const engine = new RecordingEngine({
    uploads,
    workDir: path.join(recording.stateDir, 'work'),
    maxConcurrentRecordings: recording.maxConcurrentRecordings,
    allowedStorageEndpoints: recording.allowedStorageEndpoints.split(',').map((entry) => entry.trim()).filter(Boolean),
    ...(overrides.recorder ? { recorderOptions: overrides.recorder } : {}),
    eventLog: { dir: path.join(recording.stateDir, 'events'), ...overrides.eventLog },
  });
  const plugin = new RecordingPlugin({ engine, context, defaultStorage: recording.defaultStorage });
  await engine.recoverInterrupted();
  return plugin;
}
