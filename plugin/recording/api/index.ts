/** Backend control: HTTP API, recorder SDK socket, webhooks. See BackendControl and README "Backend control". */
export { BackendControl, type BackendControlOptions } from './BackendControl';
export { API_PREFIX, NODE_HEADER, RecordingsApi } from './RecordingsApi';
export type { RecordingView } from '../recordingView';
export { buildOpenApiDocument } from '../../../signaling/schemas/openapi';
export { signWebhook, verifyWebhookSignature, SIGNATURE_HEADER } from '../../webhooks/signature';
export type { WebhookPayload } from '../../webhooks/WebhookDispatcher';
