import { setTimeout as sleep } from 'node:timers/promises';
import { FORWARDED_BY_HEADER } from '../../../server/http/forwardRequest';
import { Logger } from '../../../server/logger';
import type { ClusterHandle } from '../../../server/plugins/contract';
import { SEGMENT_RELAY_PATH, type SegmentRelayMessage } from '../../../signaling/schemas/segmentRelay';
import type { RecordingEventBody } from '../../../signaling/recordingEvent';
import type { SegmentFile, SegmentRelay } from '../RecordingEngine';
import type { RecordingDirectory } from './RecordingDirectory';

const logger = new Logger('SegmentRelayClient');

const ATTEMPTS = 10;
const RETRY_MS = 1000;
const CALL_TIMEOUT_MS = 10_000;

/**
 * The SegmentRelay of a cluster node: what became of a segment's files goes to the recording's
 * owner (the node the directory names) over SEGMENT_RELAY_PATH, in order per recording, retried
 * while the owner is away for a while; after that it is logged and dropped (the files themselves
 * are stored all the same).
 */
export class SegmentRelayClient implements SegmentRelay {
  readonly #cluster: Pick<ClusterHandle, 'nodeId' | 'liveNodes'>;
  readonly #directory: RecordingDirectory;
  readonly #authorization: string;
  readonly #queues = new Map<string, Promise<void>>();

  constructor(cluster: Pick<ClusterHandle, 'nodeId' | 'liveNodes'>, directory: RecordingDirectory, credentials: { appId: string; secret: string }) {
    this.#cluster = cluster;
    this.#directory = directory;
    this.#authorization = `Basic ${Buffer.from(`${credentials.appId}:${credentials.secret}`).toString('base64')}`;
  }

  events(recordingId: string, segment: number, event: RecordingEventBody): void {
    const { channelId: _channelId, ...body } = event as RecordingEventBody & { channelId?: string };
    this.#send({ recordingId, segment, event: body } as SegmentRelayMessage);
  }

  files(recordingId: string, segment: number, files: SegmentFile[]): void {
    this.#send({ recordingId, segment, files });
  }

  /** Resolves once everything handed over so far was sent or given up. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()]);
  }

  #send(message: SegmentRelayMessage): void {
    const previous = this.#queues.get(message.recordingId) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(message));
    this.#queues.set(message.recordingId, next);
    void next.finally(() => {
      if (this.#queues.get(message.recordingId) === next) this.#queues.delete(message.recordingId);
    });
  }

  async #deliver(message: SegmentRelayMessage): Promise<void> {
    let lastError = '';
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const url = await this.#ownerUrl(message.recordingId);
        const response = await fetch(`${url.replace(/\/+$/, '')}${SEGMENT_RELAY_PATH}`, {
          method: 'POST',
          headers: { authorization: this.#authorization, 'content-type': 'application/json', [FORWARDED_BY_HEADER]: this.#cluster.nodeId },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
        });
        if (response.ok) return;
        lastError = `answered ${response.status}: ${await response.text().catch(() => '')}`;
        // The owner refused it for good (it does not know the recording, or the message): no retry helps.
        if (response.status >= 400 && response.status < 500) break;
      } catch (error) {
        lastError = (error as Error).message;
      }
      await sleep(RETRY_MS);
    }
    logger.warn(`the recording's owner was not told of segment ${message.segment}: ${lastError}`, { recordingId: message.recordingId });
  }

  async #ownerUrl(recordingId: string): Promise<string> {
    const entry = await this.#directory.get(recordingId);
    if (!entry) throw new Error('the cluster does not know the recording');
    const owner = (await this.#cluster.liveNodes()).find((node) => node.nodeId === entry.nodeId);
    if (!owner || owner.nodeId === this.#cluster.nodeId) throw new Error(`its owner ${entry.nodeId} is not live`);
    return owner.publicUrl;
  }
}
