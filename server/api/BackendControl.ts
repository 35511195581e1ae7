import path from 'node:path';
import type { RecordingEventLog } from '../../plugin/recording/RecordingEventLog';
import { RecordingPlugin } from '../../plugin/recording/RecordingPlugin';
import { WebhookDispatcher, WebhookDispatcherOptions } from '../../plugin/webhooks/WebhookDispatcher';
import { CodedError, RecordingErrorCode } from '../../signaling/errors';
import { RECORDER_SOCKET_PATH } from '../../signaling/recorder/protocol';
import { verifyToken } from '../auth/token';
import { webhookUrls } from '../config';
import { Logger, registerSecret } from '../logger';
import { maxPayloadFor, socketLimits } from '../socketLimits';
import type { MediaServer } from '../MediaServer';
import { ApiAuthenticator } from './apiAuth';
import { RecorderSocketServer } from './recorderSocket';
import { RecordingsApi } from './RecordingsApi';

const logger = new Logger('BackendControl');

export interface BackendControlOptions {
  /** Overrides of the webhooks config section (tests: short backoff, explicit URLs). */
  webhooks?: Partial<WebhookDispatcherOptions>;
}

/**
 * Backend control of recordings, attached to a running MediaServer with the recording plugin:
 * the event log, the recorder SDK's socket (/api/v1/recorder), the HTTP API (/api/v1) and the
 * webhooks. Close it after the server (so the events of recordings stopped at shutdown still go out).
 */
export class BackendControl {
  readonly log: RecordingEventLog;
  readonly recorderSockets: RecorderSocketServer;
  readonly api: RecordingsApi;
  readonly webhooks: WebhookDispatcher | undefined;
  #closed = false;

  private constructor(server: MediaServer, recording: RecordingPlugin, options: BackendControlOptions) {
    const { config } = server;
    const apiSecret = config.api.secret || server.authSecret;
    registerSecret(apiSecret);
    const engine = recording.engine;
    // Every SDK connection listens to the log (and, while starting, to the engine): not a leak.
    engine.setMaxListeners(0);
    // The engine's own log: it exists before the recovery of interrupted recordings logs their end.
    this.log = engine.eventLog;
    this.log.setMaxListeners(0);
    this.recorderSockets = new RecorderSocketServer(
      {
        engine,
        log: this.log,
        createCloudRecorder: (observer) => recording.createCloudRecorder(observer),
        authorizeRecord: async (appId, channelId, token) => {
          if (!config.auth.enabled) return;
          if (appId !== config.auth.appId) throw new CodedError(RecordingErrorCode.ConnectError, 'unknown app id');
          let claims;
          try {
            claims = await verifyToken(server.authSecret, token, { appId, channelId });
          } catch (error) {
            throw new CodedError(RecordingErrorCode.ConnectError, `token refused: ${(error as Error).message}`);
          }
          if (!claims.privileges.record) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the token does not grant the record privilege');
        },
        resumeSecret: apiSecret,
      },
      {
        maxMessageBytes: config.signaling.maxMessageBytes,
        maxRequestsPerSecond: config.signaling.maxRequestsPerSecond,
        maxPayload: maxPayloadFor(config.signaling),
        limits: socketLimits(config.signaling),
      },
    );
    this.api = new RecordingsApi({
      engine,
      log: this.log,
      auth: new ApiAuthenticator(config.auth.appId, apiSecret),
      getOrCreateChannel: (channelId, type) => server.registry.getOrCreate(channelId, type),
      maxBodyBytes: config.api.maxBodyBytes,
    });
    const urls = options.webhooks?.urls ?? webhookUrls(config);
    if (urls.length > 0) {
      const secret = options.webhooks?.secret ?? (config.webhooks.secret || apiSecret);
      registerSecret(secret);
      this.webhooks = new WebhookDispatcher(this.log, {
        timeoutMs: config.webhooks.timeoutMs,
        maxAttempts: config.webhooks.maxAttempts,
        retryBaseDelayMs: config.webhooks.retryBaseDelayMs,
        retryMaxDelayMs: config.webhooks.retryMaxDelayMs,
        stateFile: path.join(config.recording.stateDir, 'webhooks.json'),
        ...options.webhooks,
        urls,
        secret,
      });
    }
    server.addUpgradeRoute(RECORDER_SOCKET_PATH, this.recorderSockets);
    server.addRoute((request, response) => this.api.handle(request, response));
    logger.info(`attach() | HTTP API at /api/v1, recorder SDK at ${RECORDER_SOCKET_PATH}, ${urls.length} webhook URL(s)`);
  }

  /** Attaches to `server`; undefined when the server runs no recording plugin or api.enabled is false. */
  static attach(server: MediaServer, options: BackendControlOptions = {}): BackendControl | undefined {
    if (!server.config.api.enabled) return undefined;
    const recording = server.plugins.list().find((plugin): plugin is RecordingPlugin => plugin instanceof RecordingPlugin);
    if (!recording) {
      logger.warn('attach() | no recording plugin: backend control is off');
      return undefined;
    }
    return new BackendControl(server, recording, options);
  }

  /** Closes the SDK sockets; gives webhooks up to `drainMs` to deliver what is queued. Idempotent. */
  async close({ drainMs = 0 }: { drainMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.recorderSockets.close();
    if (this.webhooks && drainMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.webhooks.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
    }
    this.webhooks?.close();
    this.log.close();
  }
}
