import { Static, Type } from '@sinclair/typebox';
import type { ChannelType } from '../../../signaling/protocol';
import { sanitizeFileName, validateStorageTarget, type RecordParam, type StorageTarget } from '../../../signaling/recordParam';
import { ChannelTypeSchema, Id, RecordingId } from '../../../signaling/schemas/common';
import { StorageTargetSchema } from '../../../signaling/schemas/recordParam';
import { checker } from '../../../signaling/schemas/validate';
import { parseParameter } from '../parseParameter';
import { resolveRecordingConfig, type ResolvedRecordingConfig } from '../recordingConfig';

/**
 * The in-channel surface's calls to a recorder node (enableRecord on a channel whose own node does
 * not record it): what crosses CLUSTER_RECORDER_PATH beside the recorder SDK's calls. The media
 * node checked the peer's record privilege and its record param; the recorder node, where the
 * recording runs, checks the storage target and the file name again (and its endpoint policy).
 * The target carries the storage secret: it is never logged, and no error message echoes it.
 */
export const IN_CHANNEL_CALLS = ['startChannelRecording', 'stopChannelRecording'] as const;
export type InChannelCall = (typeof IN_CHANNEL_CALLS)[number];

const object = <P extends Parameters<typeof Type.Object>[0]>(properties: P) => Type.Object(properties, { additionalProperties: false });
/** `peer:<uid>`: the engine's startedBy of an in-channel start. */
const PeerActor = Type.String({ maxLength: 69, pattern: '^peer:[A-Za-z0-9_.:-]{1,64}$' });

const StartSchema = object({
  channelId: Id(),
  channelType: ChannelTypeSchema,
  video: Type.Boolean(),
  fileName: Type.String({ minLength: 1, maxLength: 512 }),
  storage: StorageTargetSchema,
  startedBy: PeerActor,
});
const StopSchema = object({ channelId: Id(), recordingId: RecordingId, stoppedBy: PeerActor });

export type InChannelStartData = Static<typeof StartSchema>;
export type InChannelStopData = Static<typeof StopSchema>;

/** What the recorder node starts: the engine's request but the channel's media. */
export interface InChannelStart {
  channelId: string;
  config: ResolvedRecordingConfig;
  target: StorageTarget;
  fileName: string;
  startedBy: string;
}

const startChecker = checker(StartSchema);
const stopChecker = checker(StopSchema);

/** The recording config of an in-channel start: the record param says video or audio only; the rest is the seed's default. */
export function inChannelConfig(video: boolean, channelType: ChannelType): ResolvedRecordingConfig {
  return resolveRecordingConfig({ recordingStreamTypes: video ? 'AudioVideo' : 'AudioOnly', channelType });
}

/** Who an in-channel start or stop is by, for the engine's startedBy and the stop's reason. */
export function peerActor(uid: string): string {
  return `peer:${uid}`;
}

/** The call data of an in-channel start of `channelId` with the record param in force. */
export function inChannelStartData(channelId: string, channelType: ChannelType, param: RecordParam, uid: string): InChannelStartData {
  return { channelId, channelType, video: param.video, fileName: param.fileName, storage: param.storage, startedBy: peerActor(uid) };
}

/** The recorder node's boundary of startChannelRecording; InvalidParameter names the field. */
export function parseInChannelStart(data: unknown): InChannelStart {
  const parsed = parseParameter(startChecker, data, 'data');
  return {
    channelId: parsed.channelId,
    config: inChannelConfig(parsed.video, parsed.channelType),
    target: validateStorageTarget(parsed.storage, 'data.storage'),
    fileName: sanitizeFileName(parsed.fileName, 'data.fileName'),
    startedBy: parsed.startedBy,
  };
}

/** The recorder node's boundary of stopChannelRecording. */
export function parseInChannelStop(data: unknown): InChannelStopData {
  return parseParameter(stopChecker, data, 'data');
}

/** Why an in-channel stop by `actor` (peerActor) stopped the recording, the same wherever it ran: "stopped by <uid>". */
export function stopReason(actor: string): string {
  return `stopped by ${actor.replace(/^peer:/, '')}`;
}
