import crypto from 'node:crypto';
import type { StorageTarget } from '../../../signaling/recordParam';
import type { ResolvedRecordingConfig } from '../recordingConfig';

/**
 * What another recorder node needs to carry a recording on after its node died: the channel, the
 * recording's config as it is now (layout changes included), where its files go and under which
 * key stem. It holds the storage target's secret, so it crosses Redis sealed (sealSpec).
 */
export interface RecordingSpec {
  version: 1;
  recordingId: string;
  channelId: string;
  config: ResolvedRecordingConfig;
  target: StorageTarget;
  /** The key stem of segment 0; segment n ≥ 1 stores under segmentKeyStem(keyStem, n). */
  keyStem: string;
  startedBy: string;
  participants: string[];
}

const SEAL_VERSION = 's1';

/** AES-256-GCM under a key derived from the cluster's shared API secret: Redis never sees the target's secret. */
export function sealSpec(spec: RecordingSpec, secret: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', specKey(secret), iv);
  cipher.setAAD(Buffer.from(spec.recordingId));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(spec), 'utf8'), cipher.final()]);
  return [SEAL_VERSION, spec.recordingId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
}

/** The spec, or undefined when it was sealed for another recording, under another secret, or tampered with. */
export function openSpec(sealed: string, recordingId: string, secret: string): RecordingSpec | undefined {
  const [version, sealedFor, iv, tag, body] = sealed.split('.');
  if (version !== SEAL_VERSION || sealedFor !== recordingId || !iv || !tag || !body) return undefined;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', specKey(secret), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(recordingId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const spec = JSON.parse(Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')) as RecordingSpec;
    return spec.version === 1 && spec.recordingId === recordingId ? spec : undefined;
  } catch {
    return undefined;
  }
}

function specKey(secret: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secret, 'confrec', 'recording-spec', 32));
}
