import { ChannelMediaResolver } from './media/ChannelMediaResolver';
import type { PluginContext } from '../../server/plugins/contract';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { cloudStorageConfigToTarget } from '../storage/cloudStorageConfig';
import { isId } from '../../signaling/schemas/common';
import { parseRecordingConfig, resolveRecordingConfig } from './recordingConfig';
import type { RecordingEngine, StartRecordingRequest } from './RecordingEngine';

/** StartCloudRecording's arguments as a backend sends them (in process or over the recorder SDK). */
export interface BackendStartArguments {
  appId: unknown;
  channelName: unknown;
  token: unknown;
  uid: unknown;
  recordingConfig?: unknown;
  storageConfig: unknown;
}

/**
 * The boundary of a backend's start (CloudRecorder, recorder SDK): checks the arguments, resolves
 * the recording config and the storage target (schema and endpoint policy), checks the token's
 * record privilege and finds the channel's media (ChannelMediaResolver: in a cluster, REDIRECT to
 * the node that is to record it unless `placed`), each once, with the seed's codes.
 */
export async function resolveBackendStart(
  context: PluginContext,
  engine: RecordingEngine,
  args: BackendStartArguments,
  media: ChannelMediaResolver = new ChannelMediaResolver(context),
  options: { placed?: boolean } = {},
): Promise<StartRecordingRequest> {
  const { appId, channelName, token, uid } = args;
  if (typeof appId !== 'string' || !appId) throw new CodedError(RecordingErrorCode.InvalidParameter, 'appId must be a non-empty string');
  if (!isId(channelName)) {
    throw new CodedError(RecordingErrorCode.InvalidParameter, 'channelName must be 1-64 characters of [A-Za-z0-9_.:-]');
  }
  if (!isId(uid)) throw new CodedError(RecordingErrorCode.InvalidParameter, 'uid must be 1-64 characters of [A-Za-z0-9_.:-]');
  const config = resolveRecordingConfig(parseRecordingConfig(args.recordingConfig));
  const target = cloudStorageConfigToTarget(args.storageConfig);
  engine.assertTargetAllowed(target);
  await authorizeRecording(context, appId, channelName, typeof token === 'string' ? token : '');
  const channel = await media.resolve(channelName, config, options);
  return { channel, config, target, startedBy: `backend:${uid}` };
}

/** A backend's token for a channel must grant record: ConnectError when refused, InvalidOperation without the privilege. */
export async function authorizeRecording(context: PluginContext, appId: string, channelId: string, token: string): Promise<void> {
  let grant;
  try {
    grant = await context.authorize(appId, channelId, token);
  } catch (error) {
    throw new CodedError(RecordingErrorCode.ConnectError, `token refused: ${(error as Error).message}`);
  }
  if (!grant.privileges.record) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the token does not grant the record privilege');
}
