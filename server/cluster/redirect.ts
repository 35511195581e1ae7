import { CodedError, SignalingErrorCode } from '../../signaling/errors';

/** The owner node's publicUrl a REDIRECT names (ClusterChannels.admit); undefined for any other error. */
export function redirectUrlOf(error: unknown): string | undefined {
  if (!(error instanceof CodedError) || error.code !== SignalingErrorCode.Redirect) return undefined;
  const url = (error.data as { url?: unknown } | undefined)?.url;
  return typeof url === 'string' ? url : undefined;
}
