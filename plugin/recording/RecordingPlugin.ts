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
import { resolveRecordingConfig } from './recordingConfig';
import type { RecordingEngine } from './RecordingEngine';
import { deriveRecordState } from './recordState';
import { CloudRecorder, CloudRecorderObserver } from './CloudRecorder';
import { ChannelRecordParams } from './ChannelRecordParams';
import { LocalChannelMedia, producerInfo } from './media/LocalChannelMedia';
import type { BackendControl } from './api/BackendControl';
import type { ClusterRecordings } from './cluster/ClusterRecordings';
import type { MediaLinkServer } from './media/MediaLinkServer';

const logger = new Logger('RecordingPlugin');

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
}

/**
 * The in-channel surface of recording (Juphoon seed): record params from joins and enableRecord,
 * the channel's recordState, and the channel's producers fed to its running recording.
 */
export class RecordingPlugin implements ServerPlugin {
  readonly name = 'recording';
  readonly methods = ['enableRecord'] as const;
  readonly #engine: RecordingEngine;
  readonly #context: PluginContext;
  readonly #defaultStorage: 'local' | 'none';
  readonly #params = new Map<string, ChannelRecordParams>();
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
    // The channel hears its recordings' events from the one stream: recordState changes on the
    // final ones and on started; progress goes as recordingProgress, connecting stays backend-only.
    this.#engine.eventLog.on('appended', (event) => {
      const channel = event.channelId ? this.#context.findChannel(event.channelId) : undefined;
      if (!channel) return;
      if (event.type === 'started' || isFinalRecordingEvent(event)) this.#refresh(channel);
      if (event.type === 'uploadingProgress') {
        channel.broadcast('recordingProgress', { recordingId: event.recordingId, fileName: event.fileName, percent: event.progress });
      } else if (event.type !== 'connecting') {
        channel.broadcast('recordingEvent', toWireEvent(event));
      }
    });
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
    const active = this.#engine.activeRecording(channel.channelId);
    if (!enable) {
      if (!active) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the channel is not being recorded');
      await active.stop(`stopped by ${peer.uid}`);
      return { accepted: true, recordState: channel.getProperty('recordState') };
    }
    if (active) throw new CodedError(RecordingErrorCode.InvalidOperation, 'the channel is already being recorded');
    // Seed: a non-null param on enable replaces the one given at join (as this peer's, most recent).
    if (recordParam) {
      this.#paramsOf(channel).set(peer.peerId, peer.uid, this.#acceptParam(recordParam.recordString));
      this.#refresh(channel);
    }
    const param = this.#params.get(channel.channelId)?.inForce()?.param;
    if (!param) throw new CodedError(RecordingErrorCode.InvalidOperation, 'recordState is None: no record param is known for this channel');
    const config = resolveRecordingConfig({
      recordingStreamTypes: param.video ? 'AudioVideo' : 'AudioOnly',
      channelType: channel.type,
    });
    const recording = await this.#engine.start({ channel: new LocalChannelMedia(channel), config, target: param.storage, fileName: param.fileName, startedBy: `peer:${peer.uid}` }).started;
    logger.info('enableRecord | started', { recordingId: recording.recordingId, channelId: channel.channelId, uid: peer.uid });
    return { accepted: true, recordingId: recording.recordingId, recordState: channel.getProperty('recordState') };
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
    const running = this.#engine.activeRecording(channel.channelId);
    const params = this.#params.get(channel.channelId);
    const state = deriveRecordState(params?.inForce() !== undefined, running?.phase === 'running');
    channel.setProperties({
      recordState: state,
      recordingId: state === 'Running' ? running!.recordingId : null,
      recordParam: params?.description ?? null,
    });
  }
}
