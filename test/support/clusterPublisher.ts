import { publishTestMedia, Publication } from '../../scripts/publishRtp';
import type { MediaChannel, ReconnectOptions } from '../../signaling/client/index';
import { ClusterServer, clusterChannel, token } from './clusterServers';

/**
 * `uid` joins `channelId` through `entry` (following the REDIRECT to the channel's media node) and
 * publishes a solid colour, again after each reconnect. What it leaves running is undone by the
 * step pushed onto `cleanup`.
 */
export async function clusterPublisher(
  options: { entry: ClusterServer; servers: readonly ClusterServer[]; reconnect: ReconnectOptions; cleanup: Array<() => Promise<void> | void> },
  channelId: string,
  uid: string,
  color: number,
): Promise<MediaChannel> {
  const channel = clusterChannel(options.entry, [...options.servers], options.reconnect);
  // Each connection's publication: one of a dead node's connection still runs its sender.
  const publications: Publication[] = [];
  const publish = async (): Promise<void> => {
    publications.push(await publishTestMedia({ client: channel.signaling!, color, width: 320, height: 240 }));
  };
  let joined = false;
  channel.on('connectionStateChange', ({ state }) => {
    // After a reconnect: the first join publishes below.
    if (state === 'connected' && joined) void publish().catch(() => undefined);
  });
  options.cleanup.push(async () => {
    await Promise.all(publications.map((publication) => publication.stop().catch(() => undefined)));
    await channel.close();
  });
  await channel.join(channelId, { token: token(channelId, uid), displayName: uid });
  joined = true;
  await publish();
  return channel;
}
