import { FORWARDED_BY_HEADER } from '../../../server/http/forwardRequest';
import { CodedError, ErrorCode, RecordingErrorCode, SignalingErrorCode } from '../../../signaling/errors';
import type { RecorderRequestData, RecorderResponses } from '../../../signaling/recorder/protocol';
import type { RemoteRecorder } from '../api/RecorderSession';
import type { RecordingPhase } from '../ChannelRecording';
import type { ClusterRecordings } from './ClusterRecordings';
import type { InChannelStartData, InChannelStopData } from './inChannelCalls';

/** Where the owner node answers the recorder calls another node passes on (RecordingsApi). */
export const CLUSTER_RECORDER_PATH = '/api/v1/cluster/recorder';
const CALL_TIMEOUT_MS = 15_000;

/**
 * An SDK session's calls for another node's channel or recording, and the in-channel surface's for a
 * recording of its channel on a recorder node (inChannelCalls.ts), made on that node: a POST to its
 * CLUSTER_RECORDER_PATH with the HTTP API's credentials (every node of a cluster shares them).
 * The owner's CodedError comes back as the same CodedError.
 */
export class RemoteRecorderClient implements RemoteRecorder {
  readonly #recordings: ClusterRecordings;
  readonly #authorization: string;

  constructor(recordings: ClusterRecordings, credentials: { appId: string; secret: string }) {
    this.#recordings = recordings;
    this.#authorization = `Basic ${Buffer.from(`${credentials.appId}:${credentials.secret}`).toString('base64')}`;
  }

  start(url: string, data: RecorderRequestData<'startCloudRecording'>): Promise<RecorderResponses['startCloudRecording']> {
    return this.#call(url, 'startCloudRecording', data) as Promise<RecorderResponses['startCloudRecording']>;
  }

  async control(recordingId: string, method: 'stopCloudRecording' | 'release', data: RecorderRequestData<'stopCloudRecording' | 'release'>): Promise<void> {
    const url = await this.#ownerUrl(recordingId);
    if (url) await this.#call(url, method, data);
  }

  /** enableRecord(true) of a channel of this node, run on the recorder node at `url` the placement chose. */
  startInChannel(url: string, data: InChannelStartData): Promise<{ recordingId: string }> {
    return this.#call(url, 'startChannelRecording', data) as Promise<{ recordingId: string }>;
  }

  /** enableRecord(false) of a channel of this node whose recording runs on another node. */
  async stopInChannel(data: InChannelStopData): Promise<void> {
    const url = await this.#ownerUrl(data.recordingId);
    if (url) await this.#call(url, 'stopChannelRecording', data);
  }

  /** The node that runs `recordingId`; undefined when its node is gone and it ended; CodedError when unknown or down mid-recording. */
  async #ownerUrl(recordingId: string): Promise<string | undefined> {
    const remote = await this.#recordings.locate(recordingId);
    if (!remote) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} is known to the cluster`);
    if (remote.url) return remote.url;
    if (remote.entry.phase === 'failed' || remote.entry.phase === 'stopped') return undefined;
    throw new CodedError(SignalingErrorCode.NodeUnavailable, `cluster node ${remote.entry.nodeId}, which records ${recordingId}, is down`);
  }

  async describe(recordingId: string): Promise<{ channelId: string; phase: RecordingPhase } | undefined> {
    const remote = await this.#recordings.locate(recordingId);
    return remote ? { channelId: remote.entry.channelId, phase: remote.entry.phase } : undefined;
  }

  async #call(url: string, method: string, data: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${url.replace(/\/+$/, '')}${CLUSTER_RECORDER_PATH}`, {
        method: 'POST',
        headers: { authorization: this.#authorization, 'content-type': 'application/json', [FORWARDED_BY_HEADER]: this.#recordings.nodeId },
        body: JSON.stringify({ method, data }),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (error) {
      throw new CodedError(SignalingErrorCode.NodeUnavailable, `cluster node at ${url} did not answer: ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => ({}))) as { result?: unknown; error?: { code?: string; message?: string } };
    if (response.ok) return body.result;
    throw new CodedError((body.error?.code ?? SignalingErrorCode.Internal) as ErrorCode, body.error?.message ?? `cluster node at ${url} answered ${response.status}`);
  }
}
