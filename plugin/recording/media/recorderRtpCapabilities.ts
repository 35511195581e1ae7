import type { types as ms } from 'mediasoup';

/**
 * What a recorder (or any plain-RTP receiver) can claim: the router's capabilities less transport-cc
 * and REMB, which GStreamer's rtpbin never sends. Claimed, they make mediasoup run bandwidth estimation
 * on the consumer's transport, and with no feedback ever coming it holds a simulcast consumer to the
 * layers its initial ~600 kbps estimate allows, whatever layers the recorder prefers for a big tile.
 */
export function withoutBandwidthEstimation(capabilities: ms.RtpCapabilities): ms.RtpCapabilities {
  return {
    ...capabilities,
    codecs: (capabilities.codecs ?? []).map((codec) => ({
      ...codec,
      rtcpFeedback: (codec.rtcpFeedback ?? []).filter((feedback) => feedback.type !== 'transport-cc' && feedback.type !== 'goog-remb'),
    })),
    headerExtensions: (capabilities.headerExtensions ?? []).filter((extension) => !/transport-wide-cc|abs-send-time/.test(extension.uri)),
  };
}
