import path from 'node:path';
import { MEDIA_LINK_PATH } from '../../signaling/schemas/mediaLink';
import { ApiAuthenticator, apiSecretOf } from '../../server/http/basicAuth';
import { registerSecret } from '../../server/logger';
import type { ClusterHandle, PluginContext } from '../../server/plugins/contract';
import { maxPayloadFor, socketLimits } from '../../server/socketLimits';
import { BackendControl, type BackendControlOptions } from './api/BackendControl';
import { UploadManager, UploadManagerOptions } from '../storage/UploadManager';
import { RecordingEngine } from './RecordingEngine';
import { RecordingPlugin } from './RecordingPlugin';
import { ClusterRecordings } from './cluster/ClusterRecordings';
import { reportRecorderLoad } from './cluster/recorderLoadReport';
import { recorderCapacity } from './cluster/recordingCost';
import { MediaLinkServer } from './media/MediaLinkServer';
import { ChannelMediaResolver } from './media/ChannelMediaResolver';
import { RemoteChannelMedia } from './media/RemoteChannelMedia';
import { FollowedChannelMedia, type FollowedChannelMediaOptions } from './media/FollowedChannelMedia';
import type { ChannelMedia } from './media/ChannelMedia';
import { LocalChannelMedia } from './media/LocalChannelMedia';
import { RecorderPlacement } from './cluster/RecorderPlacement';
import { RemoteRecorderClient } from './cluster/RemoteRecorderClient';
import { rtpListenIp } from './media/rtpListenIp';
import { createRecordingRoutes } from './web/recordingRoutes';
import type { RecorderProcessOptions } from './recorder/RecorderProcess';
import type { RecordingEventLogOptions } from './RecordingEventLog';

export interface RecordingPluginOverrides {
  uploads?: Partial<UploadManagerOptions>;
  recorder?: RecorderProcessOptions;
  eventLog?: RecordingEventLogOptions;
  backend?: BackendControlOptions;
}

/**
 * Assembles the recording plugin from the server config: the durable upload queue (resuming what a
 * previous run left), the engine, the in-channel surface, the backend control (HTTP API, recorder
 * SDK socket, webhooks; unless api.enabled is false), the page's recordings routes and, in cluster
 * mode, the media link server; the last three registered through the plugin contract.
 */
export async function createRecordingPlugin(context: PluginContext, overrides: RecordingPluginOverrides = {}): Promise<RecordingPlugin> {
  const { recording } = context.config;
  const uploads = await UploadManager.open({
    stateDir: path.join(recording.stateDir, 'uploads'),
    backupDir: path.join(recording.stateDir, 'backup'),
    recordingsDir: recording.recordingsDir,
    // A recorder's working copy goes once a store acknowledged it, or disks fill with duplicates.
    deleteLocalAfterUpload: true,
    ...overrides.uploads,
  });
  const engine = new RecordingEngine({
    uploads,
    workDir: path.join(recording.stateDir, 'work'),
    maxConcurrentRecordings: recording.maxConcurrentRecordings,
    // In a cluster only recorder nodes record; a single node is every role.
    recorderCapacity: context.cluster && !context.cluster.roles.includes('recorder') ? 0 : recorderCapacity(recording.capacityUnits),
    retainFinishedMs: recording.retainFinishedMs,
    allowedStorageEndpoints: recording.allowedStorageEndpoints.split(',').map((entry) => entry.trim()).filter(Boolean),
    ...(overrides.recorder ? { recorderOptions: overrides.recorder } : {}),
    eventLog: { dir: path.join(recording.stateDir, 'events'), ...overrides.eventLog },
  });
  const cluster = context.cluster
    ? new ClusterRecordings(context.cluster, engine, {
        retainFinishedMs: recording.retainFinishedMs,
        failover: recording.failover,
        credentials: clusterCredentials(context),
        media: (channelId) => resumeChannelMedia(context, channelId),
      })
    : undefined;
  if (context.cluster) reportRecorderLoad(context.cluster, engine);
  // Backend starts and enableRecord are placed alike.
  const media = channelMediaResolver(context);
  const backend = context.config.api.enabled ? new BackendControl(context, engine, overrides.backend, cluster, media) : undefined;
  context.addRoute(createRecordingRoutes(context, engine, cluster));
  const mediaLinks = context.cluster ? createMediaLinkServer(context, context.cluster.rtpAddress) : undefined;
  const plugin = new RecordingPlugin({
    engine,
    context,
    defaultStorage: recording.defaultStorage,
    ...(backend ? { backend } : {}),
    ...(cluster ? { cluster } : {}),
    ...(mediaLinks ? { mediaLinks } : {}),
    media,
    ...(cluster ? { remote: new RemoteRecorderClient(cluster, clusterCredentials(context)) } : {}),
  });
  // What the cluster said of this node's recordings while it was down comes first: recovery ends only the rest.
  await cluster?.start();
  await engine.recoverInterrupted(cluster ? (manifest) => cluster.takenOver(manifest) : undefined);
  return plugin;
}

/** The HTTP API's credentials, which every node of a cluster shares (media links, recorder calls, specs, relays). */
function clusterCredentials(context: PluginContext): { appId: string; secret: string } {
  return { appId: context.config.auth.appId, secret: apiSecretOf(context.config, context.authSecret) };
}

/** How a recording here follows a channel on another node across that node's death (FollowedChannelMedia). */
function followOptions(context: PluginContext, cluster: ClusterHandle, channelId: string): FollowedChannelMediaOptions {
  const credentials = clusterCredentials(context);
  return {
    channelId,
    recorderIp: cluster.rtpAddress,
    connect: (url, create) => RemoteChannelMedia.connect({ url, channelId, credentials, nodeId: cluster.nodeId, create }),
    owner: async (id) => (await cluster.channelOwner(id))?.publicUrl,
  };
}

/**
 * The channel's media for a segment this node carries on after the recording's node died: its own
 * router when the channel lives here, else a followed link to wherever it lives — or, while it
 * lives nowhere (its peers are rejoining), waited for.
 */
async function resumeChannelMedia(context: PluginContext, channelId: string): Promise<ChannelMedia> {
  const cluster = context.cluster!;
  const owner = await cluster.channelOwner(channelId).catch(() => undefined);
  const local = owner?.nodeId === cluster.nodeId ? context.findChannel(channelId) : undefined;
  if (local) return new LocalChannelMedia(local);
  return FollowedChannelMedia.resume(owner?.publicUrl, followOptions(context, cluster, channelId));
}

/**
 * Where a backend's recording or an enableRecord runs. Cluster mode: on the recorder node the
 * placement picks (the channel's own node first); a recorder node records a channel of another
 * node over the media link, its recorders bound to cluster.rtpAddress.
 */
function channelMediaResolver(context: PluginContext): ChannelMediaResolver {
  const { cluster } = context;
  if (!cluster) return new ChannelMediaResolver(context);
  const placement = new RecorderPlacement(cluster);
  return new ChannelMediaResolver(context, {
    nodeId: cluster.nodeId,
    pickRecorder: async ({ cost, preferredUrl }) => {
      const node = await placement.choose(cost, (candidate) => (preferredUrl ? candidate.publicUrl === preferredUrl : candidate.nodeId === cluster.nodeId));
      return { nodeId: node.nodeId, url: node.publicUrl };
    },
    ...(cluster.roles.includes('recorder')
      ? {
          openRemote: (channelId: string, ownerUrl: string) => FollowedChannelMedia.open(ownerUrl, followOptions(context, cluster, channelId)),
        }
      : {}),
  });
}

/** Cluster mode: recorder nodes follow this node's channels at MEDIA_LINK_PATH, with the HTTP API's credentials. */
function createMediaLinkServer(context: PluginContext, rtpAddress: string): MediaLinkServer {
  const { config } = context;
  const apiSecret = apiSecretOf(config, context.authSecret);
  registerSecret(apiSecret);
  const server = new MediaLinkServer({
    findChannel: (channelId) => context.findChannel(channelId),
    openChannel: (channelId) => context.getOrCreateChannel(channelId),
    auth: new ApiAuthenticator(config.auth.appId, apiSecret),
    listenIp: rtpListenIp(rtpAddress, config.mediasoup.listenIp),
    maxMessageBytes: config.signaling.maxMessageBytes,
    maxPayload: maxPayloadFor(config.signaling),
    limits: socketLimits(config.signaling),
  });
  context.addUpgradeRoute(MEDIA_LINK_PATH, server);
  return server;
}
