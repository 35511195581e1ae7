import path from 'node:path';
import { RECORDER_SOCKET_PATH } from '../../../signaling/recorder/protocol';
import { webhookUrls } from '../../../server/config';
import { ApiAuthenticator, apiSecretOf } from '../../../server/http/basicAuth';
import { Logger, registerSecret } from '../../../server/logger';
import type { PluginContext } from '../../../server/plugins/contract';
import { maxPayloadFor, socketLimits } from '../../../server/socketLimits';
import { WebhookDispatcher, WebhookDispatcherOptions } from '../../webhooks/WebhookDispatcher';
import { authorizeRecording, type BackendStartArguments, resolveBackendStart } from '../backendStart';
import type { RecordingEngine } from '../RecordingEngine';
import type { RecordingEventLog } from '../RecordingEventLog';
import type { ClusterRecordings } from '../cluster/ClusterRecordings';
import { RemoteRecorderClient } from '../cluster/RemoteRecorderClient';
import { ownerRecorderCalls } from './ownerRecorderCalls';
import { ChannelMediaResolver } from '../media/ChannelMediaResolver';
import { RecordingEventFeed } from './RecordingEventFeed';
import { RecorderSocketServer } from './recorderSocket';
import { RecordingsApi } from './RecordingsApi';

const logger = new Logger('BackendControl');

export interface BackendControlOptions {
  /** Overrides of the webhooks config section (tests: short backoff, explicit URLs). */
  webhooks?: Partial<WebhookDispatcherOptions>;
  /** How long close() gives webhooks to deliver what is queued (default 5 s: a shutdown's last events). */
  shutdownDrainMs?: number;
}

/**
 * Backend control of recordings, registered through the plugin contract by the recording plugin:
 * the recorder SDK's socket (/api/v1/recorder), the HTTP API (/api/v1) and the webhooks, all fed by
 * the engine's event log. Closed by the plugin after the engine (so the events of recordings stopped
 * at shutdown still go out).
 */
export class BackendControl {
  readonly log: RecordingEventLog;
  readonly recorderSockets: RecorderSocketServer;
  readonly api: RecordingsApi;
  readonly webhooks: WebhookDispatcher | undefined;
  readonly #shutdownDrainMs: number;
  #closed = false;

  constructor(context: PluginContext, engine: RecordingEngine, options: BackendControlOptions = {}, cluster?: ClusterRecordings, media = new ChannelMediaResolver(context)) {
    const { config } = context;
    this.#shutdownDrainMs = options.shutdownDrainMs ?? 5000;
    const apiSecret = apiSecretOf(config, context.authSecret);
    registerSecret(apiSecret);
    // The engine's own log, which every SDK connection and the webhooks listen to.
    this.log = engine.eventLog;
    const sessionContext = {
      engine,
      events: new RecordingEventFeed(this.log, cluster?.remoteLog),
      resolveStart: (args: BackendStartArguments, start?: { placed?: boolean }) => resolveBackendStart(context, engine, args, media, start),
      authorizeRecord: (appId: string, channelId: string, token: string) => authorizeRecording(context, appId, channelId, token),
      resumeSecret: apiSecret,
      ...(cluster ? { remote: new RemoteRecorderClient(cluster, { appId: config.auth.appId, secret: apiSecret }) } : {}),
    };
    this.recorderSockets = new RecorderSocketServer(
      sessionContext,
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
      channelMedia: (channelId, config, placed) => media.resolve(channelId, config, { placed }),
      maxBodyBytes: config.api.maxBodyBytes,
      ...(cluster ? { cluster, ownerCalls: ownerRecorderCalls({ ...sessionContext, placedChannelMedia: (channelId, config) => media.resolve(channelId, config, { placed: true }) }) } : {}),
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
      // A dead node's recording ended here: this node tells its webhooks, once for the cluster.
      const webhooks = this.webhooks;
      cluster?.on('declaredFailed', (entry) => webhooks.deliver(entry));
    }
    context.addUpgradeRoute(RECORDER_SOCKET_PATH, this.recorderSockets);
    context.addRoute((request, response) => this.api.handle(request, response));
    logger.info(`attach() | HTTP API at /api/v1, recorder SDK at ${RECORDER_SOCKET_PATH}, ${urls.length} webhook URL(s)`);
  }

  /** Closes the SDK sockets; gives webhooks up to `drainMs` to deliver what is queued. Idempotent. */
  async close({ drainMs = this.#shutdownDrainMs }: { drainMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.recorderSockets.close();
    if (this.webhooks && drainMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.webhooks.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
    }
    this.webhooks?.close();
  }
}
