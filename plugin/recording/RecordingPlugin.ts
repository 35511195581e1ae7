import { CodedError, RecordingErrorCode, SignalingErrorCode } from '../../signaling/errors';
import { parseRecordParam, RecordParam } from '../../signaling/recordParam';
import type { Notifications, RequestData } from '../../signaling/protocol';
import { isFinalRecordingEvent, toWireEvent } from '../../signaling/recordingEvent';
import { Logger } from '../../server/logger';
import type { Registry } from 'prom-client';
import type { MetricsPart } from '../../server/metrics/ServerMetrics';
import type { ChannelHandle, MetricsOptions, PeerHandle, PluginContext, ProducerHandle, ServerPlugin } from '../../server/plugins/contract';
import { registerUploadMetrics } from '../storage/uploadMetrics';
import { registerWebhookMetrics } from '../webhooks/webhookMetrics';
import { registerMediaLinkMetrics } from './media/mediaLinkMetrics';
import { registerRecordingMetrics } from './recordingMetrics';
import type { RecordingEngine } from './RecordingEngine';
import { deriveRecordState } from './recordState';
import { CloudRecorder, CloudRecorderObserver } from './CloudRecorder';
import { ChannelRecordParams } from './ChannelRecordParams';
import { producerInfo } from './media/LocalChannelMedia';
import { ChannelMediaResolver } from './media/ChannelMediaResolver';
import type { ChannelMedia } from './media/ChannelMedia';
import { redirectUrlOf } from '../../server/cluster/redirect';
import type { BackendControl } from './api/BackendControl';
import type { ClusterRecordings } from './cluster/ClusterRecordings';
import type { RemoteRecorderClient } from './cluster/RemoteRecorderClient';
import { inChannelConfig, inChannelStartData, peerActor, stopReason } from './cluster/inChannelCalls';
import type { MediaLinkServer } from './media/MediaLinkServer';
import { ChannelRecordingTracker } from './ChannelRecordingTracker';
import type { RecordingEventEntry } from './RecordingEventLog';

const logger = new Logger('RecordingPlugin');

/**
 * How long enableRecord's answer waits for a start or stop made on a recorder node to come back
 * through the cluster's stream (normally milliseconds), so its recordState says what happened.
 */
const REMOTE_SETTLE_MS = 5000;

export interface RecordingPluginOptions {
  engine: RecordingEngine;
  context: PluginContext;
  /** 'local': every channel may record to the local store without a record param (Ready at once). */
  defaultStorage: 'local' | 'none';
  /** The backend surface (HTTP API, recorder SDK, webhooks); absent with api.enabled false. */
  backend?: BackendControl;
  /** Cluster mode: the recordings' part in the cluster. */
  cluster?: ClusterRecordings;
  /** Cluster mode: where recorder nodes follow this node's channels; told of every change of them. */
  mediaLinks?: MediaLinkServer;
  /** Where an enableRecord records (cluster mode: the placement's choice); default: here. */
  media?: ChannelMediaResolver;
  /** Cluster mode: runs an enableRecord on the recorder node the placement chose. */
  remote?: Pick<RemoteRecorderClient, 'startInChannel' | 'stopInChannel'>;
}

/**
 * The in-channel surface of recording (Juphoon seed): record params from joins and enableRecord,
 * the channel's recordState, and the channel's producers fed to its running recording. In a
 * cluster an enableRecord is placed like a backend's start (on the channel's node when it is a
 * recorder with room, else on the recorder node with the most room), and the channel follows a
 * recording of it on another node through the cluster's events as it follows one here.
 */
export class RecordingPlugin implements ServerPlugin {
  readonly name = 'recording';
  readonly methods = ['enableRecord'] as const;
  readonly #engine: RecordingEngine;
  readonly #context: PluginContext;
  readonly #defaultStorage: 'local' | 'none';
  readonly #params = new Map<string, ChannelRecordParams>();
  /** Every open recording of every channel, this node's and (cluster) the others'. */
  readonly #recordings = new ChannelRecordingTracker();
  /** Channels whose enableRecord(true) is on its way (placement, a recorder node's answer). */
  readonly #starting = new Set<string>();
  readonly #media: ChannelMediaResolver;
  readonly #remote: RecordingPluginOptions['remote'];
  readonly backend: BackendControl | undefined;
  readonly cluster: ClusterRecordings | undefined;
  readonly mediaLinks: MediaLinkServer | undefined;

  constructor(options: RecordingPluginOptions) {
    this.#engine = options.engine;
    this.mediaLinks = options.mediaLinks;
    this.backend = options.backend;
    this.cluster = options.cluster;
    this.#context = options.context;
    this.#defaultStorage = options.defaultStorage;
    this.#media = options.media ?? new ChannelMediaResolver(options.context);
    this.#remote = options.remote;
    // This node's recordings and the other nodes' (of a channel here) are heard alike.
    this.#engine.eventLog.on('appended', (event) => this.#heard(event));
    this.cluster?.remoteLog.on('received', (event) => this.#heard(event));
  }

  /**
   * The channel hears its recordings' events from the one stream: recordState changes on the final
   * ones and on started; progress goes as recordingProgress, connecting stays backend-only.
   */
  #heard(event: RecordingEventEntry): void {
    this.#recordings.observe(event);
    const channel = event.channelId ? this.#context.findChannel(event.channelId) : undefined;
    if (!channel) return;
    if (event.type === 'started' || isFinalRecordingEvent(event)) this.#refresh(channel);
    if (event.type === 'uploadingProgress') {
      channel.broadcast('recordingProgress', { recordingId: event.recordingId, fileName: event.fileName, percent: event.progress });
    } else if (event.type !== 'connecting') {
      channel.broadcast('recordingEvent', toWireEvent(event));
    }
  }

  channelCreated(channel: ChannelHandle): void {
    const fallback: RecordParam | undefined =
      this.#defaultStorage === 'local' ? { version: 1, video: true, fileName: `${channel.channelId}/recording`, storage: { vendor: 'local' } } : undefined;
    this.#params.set(channel.channelId, new ChannelRecordParams(fallback));
    this.#refresh(channel);
  }

  channelClosed(channel: ChannelHandle, reason: string): void {
    this.mediaLinks?.channelClosed(channel.channelId, reason);
    this.#params.delete(channel.channelId);
    const recording = this.#engine.activeRecording(channel.channelId);
    if (recording) void recording.stop('channel closed');
  }

  peerJoined(channel: ChannelHandle, peer: PeerHandle): void {
    const recordString = peer.joinParam?.record?.recordString;
    if (recordString !== undefined) {
      try {
        // Where the channel's recordings go is the record privilege's to decide, like starting them.
        if (!peer.privileges.record) throw new CodedError(SignalingErrorCode.Forbidden, 'your token does not grant the record privilege: your record param is not used');
        this.#paramsOf(channel).set(peer.peerId, peer.uid, this.#acceptParam(recordString));
      } catch (error) {
        // The join stands; the peer learns its record param was refused and why.
        const coded = error instanceof CodedError ? error : new CodedError(RecordingErrorCode.InvalidParameter, String(error));
        peer.notify('recordingEvent', { recordingId: '', type: 'recordParamRefused', event: 'recordParamRefused', code: coded.code, message: coded.message } satisfies Notifications['recordingEvent']);
      }
    }
    this.#refresh(channel);
    this.#peerCountChanged(channel);
  }

  peerLeft(channel: ChannelHandle, peer: PeerHandle): void {
    this.#params.get(channel.channelId)?.forget(peer.peerId);
    this.#refresh(channel);
    this.#peerCountChanged(channel);
  }

  producerCreated(channel: ChannelHandle, handle: ProducerHandle): void {
    const producer = producerInfo(handle);
    this.#engine.activeRecording(channel.channelId)?.addProducer(producer);
    this.mediaLinks?.producerAdded(channel.channelId, producer);
  }

  producerPaused(channel: ChannelHandle, handle: ProducerHandle): void {
    this.#producerPausedChanged(channel, handle.producer.id, true);
  }

  producerResumed(channel: ChannelHandle, handle: ProducerHandle): void {
    this.#producerPausedChanged(channel, handle.producer.id, false);
  }

  producerClosed(channel: ChannelHandle, handle: ProducerHandle): void {
    this.#engine.activeRecording(channel.channelId)?.removeProducer(handle.producer.id);
    this.mediaLinks?.producerClosed(channel.channelId, handle.producer.id);
  }

  async handleRequest(method: string, data: unknown, channel: ChannelHandle, peer: PeerHandle): Promise<unknown> {
    if (method !== 'enableRecord') throw new CodedError(SignalingErrorCode.UnknownMethod, `unknown method ${method}`);
    const { enable, recordParam } = data as RequestData<'enableRecord'>;
    if (!peer.privileges.record) throw new CodedError(SignalingErrorCode.Forbidden, 'your token does not grant the record privilege');
    const open = this.#recordings.of(channel.channelId);
    if (!enable) {
      if (!open) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the channel is not being recorded');
      await this.#stop(channel, open.recordingId, peer.uid);
      return { accepted: true, recordState: channel.getProperty('recordState') };
    }
    if (open || this.#starting.has(channel.channelId)) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the channel is already being recorded');
    // Seed: a non-null param on enable replaces the one given at join (as this peer's, most recent).
    if (recordParam) {
      this.#paramsOf(channel).set(peer.peerId, peer.uid, this.#acceptParam(recordParam.recordString));
      this.#refresh(channel);
    }
    const param = this.#params.get(channel.channelId)?.inForce()?.param;
    if (!param) throw new CodedError(RecordingErrorCode.InvalidOperation, 'recordState is None: no record param is known for this channel');
    this.#starting.add(channel.channelId);
    try {
      const { recordingId, nodeUrl } = await this.#start(channel, param, peer.uid);
      logger.info(`enableRecord | started${nodeUrl ? ` on ${nodeUrl}` : ''}`, { recordingId, channelId: channel.channelId, uid: peer.uid });
      return { accepted: true, recordingId, recordState: channel.getProperty('recordState') };
    } finally {
      this.#starting.delete(channel.channelId);
    }
  }

  /**
   * Records the channel where the placement says: here, or (REDIRECT) on the recorder node it chose,
   * whose answer comes once its recorder runs; the channel then hears its start through the cluster.
   */
  async #start(channel: ChannelHandle, param: RecordParam, uid: string): Promise<{ recordingId: string; nodeUrl?: string }> {
    const config = inChannelConfig(param.video, channel.type);
    const start = inChannelStartData(channel.channelId, channel.type, param, uid);
    let media: ChannelMedia;
    try {
      media = await this.#media.local(channel, config);
    } catch (error) {
      const nodeUrl = redirectUrlOf(error);
      if (!nodeUrl || !this.#remote) throw error;
      const { recordingId } = await this.#remote.startInChannel(nodeUrl, start);
      await this.#recordings.settled(recordingId, 'running', REMOTE_SETTLE_MS);
      return { recordingId, nodeUrl };
    }
    const recording = await this.#engine.start({ channel: media, config, target: param.storage, fileName: param.fileName, startedBy: start.startedBy }).started;
    return { recordingId: recording.recordingId };
  }

  /** Stops the channel's recording wherever it runs; resolves once the channel heard it end (or after REMOTE_SETTLE_MS). */
  async #stop(channel: ChannelHandle, recordingId: string, uid: string): Promise<void> {
    const local = this.#engine.get(recordingId);
    if (local) {
      await local.stop(stopReason(peerActor(uid)));
      return;
    }
    if (!this.#remote) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the channel is not being recorded');
    await this.#remote.stopInChannel({ channelId: channel.channelId, recordingId, stoppedBy: peerActor(uid) });
    await this.#recordings.settled(recordingId, 'ended', REMOTE_SETTLE_MS);
  }

  get engine(): RecordingEngine {
    return this.#engine;
  }

  /** Recordings and recorders, the upload queue, the webhooks (at 0 without webhooks.urls) and the media links (at 0 without a cluster). */
  registerMetrics(registry: Registry, options: MetricsOptions): MetricsPart {
    const parts = [
      registerRecordingMetrics(registry, this.#engine, options),
      registerUploadMetrics(registry, this.#engine.uploads),
      registerWebhookMetrics(registry, this.backend?.webhooks),
      registerMediaLinkMetrics(registry, this.mediaLinks),
    ];
    return { close: () => parts.forEach((part) => part.close()) };
  }

  /** Agora seed's CreateCloudRecorderInstance, in process. */
  createCloudRecorder(observer: CloudRecorderObserver): CloudRecorder {
    return new CloudRecorder(this.#engine, this.#context, observer);
  }


  /**
   * Stops the recordings, closes the queue, then the backend (whose webhooks still tell how they
   * ended), the cluster part (once it published those ends, for a few seconds at most) and the log.
   */
  async close(): Promise<void> {
    await this.#engine.close();
    await this.#engine.uploads.close();
    await this.backend?.close();
    await this.cluster?.flush(5000);
    await this.cluster?.close();
    this.#engine.eventLog.close();
  }

  #peerCountChanged(channel: ChannelHandle): void {
    const count = channel.peers().length;
    this.#engine.activeRecording(channel.channelId)?.updateIdle(count);
    this.mediaLinks?.peerCount(channel.channelId, count);
  }

  #producerPausedChanged(channel: ChannelHandle, producerId: string, paused: boolean): void {
    this.#engine.activeRecording(channel.channelId)?.setProducerPaused(producerId, paused);
    this.mediaLinks?.producerPaused(channel.channelId, producerId, paused);
  }

  #acceptParam(recordString: string): RecordParam {
    const param = parseRecordParam(recordString);
    this.#engine.assertTargetAllowed(param.storage);
    return param;
  }

  #paramsOf(channel: ChannelHandle): ChannelRecordParams {
    let params = this.#params.get(channel.channelId);
    if (!params) {
      params = new ChannelRecordParams(undefined);
      this.#params.set(channel.channelId, params);
    }
    return params;
  }

  #refresh(channel: ChannelHandle): void {
    const recording = this.#recordings.of(channel.channelId);
    const params = this.#params.get(channel.channelId);
    const state = deriveRecordState(params?.inForce() !== undefined, recording?.running === true);
    channel.setProperties({
      recordState: state,
      recordingId: state === 'Running' ? recording!.recordingId : null,
      recordParam: params?.description ?? null,
    });
  }
}
