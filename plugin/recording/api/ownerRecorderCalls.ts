import { CodedError, RecordingErrorCode } from '../../../signaling/errors';
import { recorderRequestSchemas, RecorderRequestData, RecorderResponses } from '../../../signaling/recorder/protocol';
import { SchemaError } from '../../../signaling/schemas/validate';
import { resumeKeyFor, type RecorderSessionContext } from './RecorderSession';

const CALLS = ['startCloudRecording', 'stopCloudRecording', 'release'] as const;
type OwnerCall = (typeof CALLS)[number];

/**
 * The owner's side of RemoteRecorderClient: runs a recorder call an SDK session on another node
 * passed on, for a channel or recording of this node. That session checked what is its to check
 * (which recordings it controls); the start's record token and storage are checked here again,
 * where the recording runs.
 */
export function ownerRecorderCalls(context: Pick<RecorderSessionContext, 'engine' | 'resolveStart' | 'resumeSecret'>) {
  return async (method: unknown, data: unknown): Promise<unknown> => {
    if (!CALLS.includes(method as OwnerCall)) throw new CodedError(RecordingErrorCode.InvalidParameter, `method must be one of ${CALLS.join(', ')}`);
    let parsed: unknown;
    try {
      parsed = recorderRequestSchemas[method as OwnerCall].parse(data, 'data');
    } catch (error) {
      throw new CodedError(RecordingErrorCode.InvalidParameter, error instanceof SchemaError ? error.message : String(error));
    }
    switch (method as OwnerCall) {
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
