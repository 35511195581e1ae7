import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { recorderRequestSchemas, RecorderRequestData, RecorderResponses } from '../../../signaling/recorder/protocol';
import { SchemaError } from '../../../signaling/schemas/validate';
import { IN_CHANNEL_CALLS, parseInChannelStart, parseInChannelStop, stopReason } from '../cluster/inChannelCalls';
import type { ChannelMedia } from '../media/ChannelMedia';
import type { ResolvedRecordingConfig } from '../recordingConfig';
import { resumeKeyFor, type RecorderSessionContext } from './RecorderSession';

const SDK_CALLS = ['startCloudRecording', 'stopCloudRecording', 'release'] as const;
type SdkCall = (typeof SDK_CALLS)[number];
const CALLS: readonly string[] = [...SDK_CALLS, ...IN_CHANNEL_CALLS];

export type OwnerCallsContext = Pick<RecorderSessionContext, 'engine' | 'resolveStart' | 'resumeSecret'> & {
  /** The media of a channel this node was chosen to record (here, or over the media link to its node). */
  placedChannelMedia(channelId: string, config: ResolvedRecordingConfig): Promise<ChannelMedia>;
};

/**
 * The owner's side of RemoteRecorderClient: runs a recorder call an SDK session on another node
 * passed on, for a channel or recording of this node, and the in-channel starts and stops a
 * channel's node passes on to the recorder node it chose. Those callers checked what is theirs to
 * check (which recordings a session controls; a peer's record privilege); the start's record token
 * and storage are checked here again, where the recording runs.
 */
export function ownerRecorderCalls(context: OwnerCallsContext) {
  return async (method: unknown, data: unknown): Promise<unknown> => {
    if (typeof method !== 'string' || !CALLS.includes(method)) throw new CodedError(RecordingErrorCode.InvalidParameter, `method must be one of ${CALLS.join(', ')}`);
    switch (method) {
      case 'startChannelRecording': {
        const { channelId, config, target, fileName, startedBy } = parseInChannelStart(data);
        context.engine.assertTargetAllowed(target);
        const channel = await context.placedChannelMedia(channelId, config);
        const { recordingId, started } = context.engine.start({ channel, config, target, fileName, startedBy });
        await started;
        return { recordingId };
      }
      case 'stopChannelRecording': {
        const { channelId, recordingId, stoppedBy } = parseInChannelStop(data);
        if (context.engine.status(recordingId)?.channelId !== channelId) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} of channel ${channelId} on this node`);
        await context.engine.stop(recordingId, stopReason(stoppedBy));
        return {};
      }
    }
    const parsed = parseSdkCall(method as SdkCall, data);
    switch (method as SdkCall) {
      case 'startCloudRecording': {
        const { recordingId, started } = context.engine.start(await context.resolveStart(parsed as RecorderRequestData<'startCloudRecording'>, { placed: true }));
        await started;
        return { recordingId, resumeKey: resumeKeyFor(context.resumeSecret, recordingId) } satisfies RecorderResponses['startCloudRecording'];
      }
      case 'stopCloudRecording': {
        const { recordingId } = parsed as RecorderRequestData<'stopCloudRecording'>;
        if (!context.engine.known(recordingId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId} on this node`);
        await context.engine.stop(recordingId, 'stopped by backend');
        return {};
      }
      case 'release': {
        const { recordingId } = parsed as RecorderRequestData<'release'>;
        if (!recordingId || !context.engine.known(recordingId)) throw new CodedError(RecordingErrorCode.InvalidParameter, `no recording ${recordingId ?? ''} on this node`);
        await context.engine.release(recordingId);
        return {};
      }
    }
  };
}

function parseSdkCall(method: SdkCall, data: unknown): unknown {
  try {
    return recorderRequestSchemas[method].parse(data, 'data');
  } catch (error) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, error instanceof SchemaError ? error.message : String(error));
  }
}
