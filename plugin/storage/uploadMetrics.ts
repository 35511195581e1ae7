import { Counter, Gauge, type Registry } from 'prom-client';
import type { StorageVendor } from '../../signaling/recordParam';
import type { UploadJobState, UploadJobStatus } from './UploadJob';
import type { UploadManager } from './UploadManager';

/** Job states of uploads not yet in their primary store. */
const WAITING: readonly UploadJobState[] = ['queued', 'uploading', 'retrying', 'backingUp', 'backedUp'];
const VENDORS: readonly StorageVendor[] = ['qiniu', 's3', 'local'];

/**
 * The upload families: the durable queue's depth (by state) and the bytes it still has to send,
 * files stored and bytes stored per vendor, and give-ups (with their error code) and backups.
 */
export function registerUploadMetrics(registry: Registry, uploads: UploadManager): { close(): void } {
  const registers = [registry];
  const waiting = (): UploadJobStatus[] => uploads.list().filter((job) => WAITING.includes(job.state));
  new Gauge({
    name: 'confrec_upload_queue_depth',
    help: 'Uploads not yet acknowledged by their store, by state (backedUp: safe in backup, re-uploaded in the background).',
    labelNames: ['state'],
    registers,
    collect() {
      const jobs = waiting();
      for (const state of WAITING) this.set({ state }, jobs.filter((job) => job.state === state).length);
    },
  });
  new Gauge({
    name: 'confrec_upload_bytes_pending',
    help: 'Bytes of queued uploads their stores have not taken yet.',
    registers,
    collect() {
      this.set(waiting().reduce((sum, job) => sum + job.size - Math.floor((job.size * job.percent) / 100), 0));
    },
  });
  const stored = new Counter({ name: 'confrec_uploads_total', help: 'Files the primary store acknowledged, by vendor.', labelNames: ['vendor'], registers });
  const storedBytes = new Counter({ name: 'confrec_upload_bytes_total', help: 'Bytes of files the primary store acknowledged, by vendor.', labelNames: ['vendor'], registers });
  const failures = new Counter({
    name: 'confrec_upload_failures_total',
    help: 'Uploads the primary store gave up on (UploaderFailed, UploaderInitFailed) or whose backup failed too (BackupFailed), by vendor and code.',
    labelNames: ['vendor', 'code'],
    registers,
  });
  const backups = new Counter({ name: 'confrec_upload_backups_total', help: 'Files put in backup storage after their store gave up, by vendor.', labelNames: ['vendor'], registers });
  // Every vendor's series exists from the start, so rate() sees the first file too.
  for (const vendor of VENDORS) for (const counter of [stored, storedBytes, backups]) counter.inc({ vendor }, 0);
  const onUploaded = (job: UploadJobStatus): void => {
    stored.inc({ vendor: job.target.vendor });
    storedBytes.inc({ vendor: job.target.vendor }, job.size);
  };
  const onFailure = (job: UploadJobStatus, code: string): void => failures.inc({ vendor: job.target.vendor, code });
  const onBackup = (job: UploadJobStatus): void => backups.inc({ vendor: job.target.vendor });
  uploads.on('uploaded', onUploaded);
  uploads.on('uploaderFailure', onFailure);
  uploads.on('backuped', onBackup);
  return {
    close() {
      uploads.off('uploaded', onUploaded);
      uploads.off('uploaderFailure', onFailure);
      uploads.off('backuped', onBackup);
    },
  };
}
