import { CodedError, MediaAccessError } from '../signaling/client/index';

/** What to tell a person about an error: plain words and what to do next, never a stack trace. */
export function describeJoinError(error: unknown, context: { channel: string; name: string; serverUrl: string }): string {
  if (error instanceof CodedError) {
    switch (error.code) {
      case 'TOKEN_INVALID':
      case 'TOKEN_MISMATCH':
      case 'TOKEN_EXPIRED':
        return (
          `The server refused your token (${error.code}: ${error.message}).\n` +
          `Get a new one on the server with: npm run token -- --channel ${context.channel} --uid ${safeUid(context.name)}`
        );
      case 'CONNECTION_CLOSED':
      case 'TIMEOUT':
        return `Cannot reach the server at ${context.serverUrl}. Is it running? (start it with: npm start)`;
      case 'FORBIDDEN':
        return `You may not join this channel: ${error.message}`;
      case 'BAD_REQUEST':
        return `The server refused the request: ${error.message}`;
      default:
        return `Joining failed (${error.code}): ${error.message}`;
    }
  }
  return `Joining failed: ${(error as Error)?.message ?? String(error)}`;
}

export function describeMediaError(error: unknown): string {
  if (error instanceof MediaAccessError) {
    switch (error.code) {
      case 'PERMISSION_DENIED':
        return (
          `Access to your ${error.device} was denied, so the others cannot see or hear you.\n` +
          `Allow it for this site (the camera icon in the address bar), then leave and join again. You can still see and hear the others.`
        );
      case 'DEVICE_NOT_FOUND':
        return `No ${error.device} was found. Plug one in and join again; meanwhile you can see and hear the others.`;
      case 'DEVICE_BUSY':
        return `Your ${error.device} is in use by another application. Close it and join again; meanwhile you can see and hear the others.`;
      case 'NOT_SUPPORTED':
        return `This page cannot use your ${error.device} here: ${error.message}.`;
    }
  }
  if (error instanceof CodedError) return `Publishing your media failed (${error.code}): ${error.message}`;
  return `Publishing your media failed: ${(error as Error)?.message ?? String(error)}`;
}

export function describeLeft(error: CodedError): string {
  switch (error.code) {
    case 'CONNECTION_CLOSED':
    case 'TIMEOUT':
      return `The server is gone: the connection was lost and reconnecting failed.\nWhen the server is back, press Join again.`;
    case 'ALREADY_JOINED':
      return 'You joined this channel from another tab or device, so this page was disconnected.';
    case 'TOKEN_INVALID':
    case 'TOKEN_MISMATCH':
    case 'TOKEN_EXPIRED':
      return `Could not rejoin: the server refused your token (${error.code}: ${error.message}). Get a new one with npm run token.`;
    default:
      return `You left the channel: ${error.message} (${error.code}).`;
  }
}

export function describeRecordError(error: unknown): string {
  if (error instanceof CodedError) {
    switch (error.code) {
      case 'FORBIDDEN':
        return 'Your token does not allow recording. Ask for a token with the record privilege.';
      case 'InvalidParameter':
        return `The recording settings were refused: ${error.message}`;
      case 'InvalidOperation':
        return `Recording cannot change now: ${error.message}`;
      case 'NOT_JOINED':
        return 'Join the channel first.';
      default:
        return `Recording failed (${error.code}): ${error.message}`;
    }
  }
  return `Recording failed: ${(error as Error)?.message ?? String(error)}`;
}

function safeUid(name: string): string {
  const uid = name.replace(/[^A-Za-z0-9_.:-]/g, '').slice(0, 64);
  return uid || 'alice';
}

/** Plain http:// from another machine: the camera is off limits until the page is opened over https://. */
export function describeInsecurePage(host: string): string {
  return (
    `This page was opened over plain http://, so the browser will not give it your camera or microphone.\n` +
    `Open https://${host}/ instead (the server serves HTTPS on the same port unless http.tls is off).`
  );
}

export function describeSelfSigned(fingerprint256: string | undefined): string {
  return (
    `This server uses a self-signed certificate; your browser asked you to accept it once. ` +
    `It is the right one if its SHA-256 fingerprint is ${fingerprint256 ?? '(unknown)'} — the server prints it at start.`
  );
}
