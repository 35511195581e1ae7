import { redirectUrlOf } from '../../../server/cluster/redirect';
import { recordingCostOf } from '../cluster/recordingCost';
import type { ResolvedRecordingConfig } from '../recordingConfig';
import type { ChannelHandle, PluginContext } from '../../../server/plugins/contract';
import { CodedError, SignalingErrorCode } from '../../../signaling/errors';
import type { ChannelMedia } from './ChannelMedia';
import { LocalChannelMedia } from './LocalChannelMedia';

/** The node a recording should run on, as the cluster's recorder placement chose it. */
export interface RecorderChoice {
  nodeId: string;
  url: string;
}

export interface ChannelMediaResolverOptions {
  /** This node's id (cluster mode). */
  nodeId?: string;
  /**
   * Cluster mode: picks the recorder node for a new recording, `preferredUrl` (the channel's node;
   * undefined: this one) first when it has room; throws InvalidOperation when the cluster is full.
   */
  pickRecorder?: (request: { channelId: string; cost: number; preferredUrl: string | undefined }) => Promise<RecorderChoice>;
  /** Cluster mode, recorder role: the media of a channel on another node, over the media link. */
  openRemote?: (channelId: string, ownerUrl: string) => Promise<ChannelMedia>;
}

/**
 * Where a backend's recording of a channel runs, and how it gets the channel's media. Single node:
 * here, on the channel's router. Cluster: on the recorder node the placement picks; a start that
 * arrives at another node is answered REDIRECT to that node (the APIs pass it on there), and the
 * chosen node records the channel wherever it lives — on its own router, or over the media link to
 * the channel's node. An in-channel start (enableRecord) is placed the same way (local()).
 */
export class ChannelMediaResolver {
  readonly #context: PluginContext;
  readonly #options: ChannelMediaResolverOptions;

  constructor(context: PluginContext, options: ChannelMediaResolverOptions = {}) {
    this.#context = context;
    this.#options = options;
  }

  /** `placed`: this node was chosen already (a start passed on to it): record here. */
  async resolve(channelId: string, config: ResolvedRecordingConfig, options: { placed?: boolean } = {}): Promise<ChannelMedia> {
    const { openRemote } = this.#options;
    let channel: ChannelHandle | undefined;
    let ownerUrl: string | undefined;
    try {
      channel = await this.#context.getOrCreateChannel(channelId, config.channelType);
    } catch (error) {
      ownerUrl = redirectUrlOf(error);
      if (!ownerUrl) throw error;
    }
    if (!options.placed) await this.#place(channelId, config, channel, ownerUrl);
    if (channel) return new LocalChannelMedia(channel);
    if (!openRemote) throw redirect(`channel ${channelId} lives on another cluster node`, ownerUrl!);
    return openRemote(channelId, ownerUrl!);
  }

  /**
   * The media of a channel of this node (an in-channel start, enableRecord) when the placement
   * picks this node to record it; else REDIRECT to the recorder node it picked.
   */
  async local(channel: ChannelHandle, config: ResolvedRecordingConfig): Promise<ChannelMedia> {
    await this.#place(channel.channelId, config, channel, undefined);
    return new LocalChannelMedia(channel);
  }

  /** Cluster mode: throws REDIRECT when the recording is to run on another node (InvalidOperation when none has room). */
  async #place(channelId: string, config: ResolvedRecordingConfig, channel: ChannelHandle | undefined, ownerUrl: string | undefined): Promise<void> {
    const { pickRecorder, nodeId } = this.#options;
    if (!pickRecorder) return;
    // The channel's own node records it when it can: no media crosses the network then.
    // What the channel publishes now, when it is here; else a recording's least.
    const cost = recordingCostOf(config, channel ? new LocalChannelMedia(channel) : { producers: () => [] });
    const choice = await pickRecorder({ channelId, cost, preferredUrl: ownerUrl }).catch((error: unknown) => {
      // Redis away: a channel of this node is still recorded here (the engine checks the room).
      if (channel && error instanceof CodedError && error.code === SignalingErrorCode.ClusterUnavailable) return undefined;
      throw error;
    });
    if (choice && choice.nodeId !== nodeId) throw redirect(`recordings of ${channelId} run on cluster node ${choice.nodeId}`, choice.url);
  }
}

function redirect(message: string, url: string): CodedError {
  return new CodedError(SignalingErrorCode.Redirect, `${message}: start it at ${url}`, { url });
}
