import fs from 'node:fs';
import path from 'node:path';
import { Logger } from '../../server/logger';
import { RecordingEventLog, STATUS_SUFFIX } from './RecordingEventLog';
import type { RecordingStatus } from './RecordingRegistry';

const logger = new Logger('RecordingArchive');

/** What is kept of a finished recording once memory forgot it: its status, uploads as last known. */
export type ArchivedStatus = RecordingStatus;

/**
 * The final status of finished recordings, one JSON file beside each event log
 * (`<events dir>/<base64url(id)>.status.json`), so the API answers for them after memory forgot
 * them and after a restart. Dropped with the log (RecordingEventLog keeps at most maxRecordings).
 */
export class RecordingArchive {
  readonly #log: RecordingEventLog;

  constructor(log: RecordingEventLog) {
    this.#log = log;
  }

  /** False without a directory: then nothing can be archived and memory keeps everything. */
  get durable(): boolean {
    return this.#log.dir !== undefined;
  }

  save(status: ArchivedStatus): boolean {
    const stem = this.#log.fileStem(status.recordingId);
    if (!stem) return false;
    const file = `${stem}${STATUS_SUFFIX}`;
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(status), { mode: 0o600 });
      fs.renameSync(`${file}.tmp`, file);
      return true;
    } catch (error) {
      logger.warn(`save() | final status not archived, kept in memory: ${String(error)}`, { recordingId: status.recordingId });
      return false;
    }
  }

  load(recordingId: string): ArchivedStatus | undefined {
    const stem = this.#log.fileStem(recordingId);
    return stem ? readStatus(`${stem}${STATUS_SUFFIX}`) : undefined;
  }

  list(): ArchivedStatus[] {
    const dir = this.#log.dir;
    if (!dir) return [];
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((name) => name.endsWith(STATUS_SUFFIX));
    } catch {
      return [];
    }
    return names.flatMap((name) => readStatus(path.join(dir, name)) ?? []);
  }
}

function readStatus(file: string): ArchivedStatus | undefined {
  try {
    const status = JSON.parse(fs.readFileSync(file, 'utf8')) as ArchivedStatus;
    return typeof status?.recordingId === 'string' && typeof status.phase === 'string' ? status : undefined;
  } catch {
    return undefined;
  }
}
