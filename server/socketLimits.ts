import type { ServerConfig } from '../config/defaults';
import type { SocketLimits } from './SocketSupervisor';

/**
 * ws closes a socket (1009) whose message passes maxPayload, counting a fragmented message whole
 * while it is assembled, so this also bounds what an unfinished message holds. Up to it, Connection
 * answers an oversized message with MESSAGE_TOO_LARGE and keeps the socket.
 */
export function maxPayloadFor(signaling: ServerConfig['signaling']): number {
  return signaling.maxMessageBytes * 2;
}

export function socketLimits(signaling: ServerConfig['signaling']): SocketLimits {
  const { maxBufferedBytes, joinTimeoutMs, pingIntervalMs, pingTimeoutMs } = signaling;
  return { maxBufferedBytes, joinTimeoutMs, pingIntervalMs, pingTimeoutMs };
}
