import { Counter, type Registry } from 'prom-client';
import type { MediaLinkServer, MediaLinkServerEvents } from './MediaLinkServer';
import type { KeyFrameRequestVia } from './MediaLinkSession';

const VIAS: readonly KeyFrameRequestVia[] = ['rtcp', 'link'];

/**
 * The media link families of a media node: key-frame requests recorder nodes made for its video,
 * by how they came. `rtcp` counts PLIs and FIRs in the recorders' RTCP, so it staying at 0 while
 * `link` grows says their RTCP does not reach this node (a firewall, a wrong rtpAddress). Without
 * media links (no cluster) they stay at 0, so dashboards find them on every server.
 */
export function registerMediaLinkMetrics(registry: Registry, mediaLinks: MediaLinkServer | undefined): { close(): void } {
  const requests = new Counter({
    name: 'confrec_media_link_key_frame_requests_total',
    help: "Key-frame requests recorder nodes made for this node's video over media links: rtcp (a PLI or FIR in the recorder's RTCP) or link (requestKeyFrame on the link).",
    labelNames: ['via'],
    registers: [registry],
  });
  for (const via of VIAS) requests.inc({ via }, 0);
  const onRequest = (...[via]: MediaLinkServerEvents['keyFrameRequest']): void => requests.inc({ via });
  mediaLinks?.on('keyFrameRequest', onRequest);
  return { close: () => mediaLinks?.off('keyFrameRequest', onRequest) };
}
