/**
 * gst_parse_launch strings shared by both modes (the RTP receiving head, depayload/decode, the
 * crash-safe MP4 writer) and the per-participant pipelines. The composite graph is in
 * compositeGraph.ts. Pure functions: no GStreamer here, so the strings can be read and tested alone.
 */
import { RecorderInput } from './protocol';

/**
 * Crash-safe MP4 by robust muxing: mp4mux reserves room for the index at the head of the file and
 * rewrites it every second, so a SIGKILL loses about a second; EOS finalizes a plain MP4. Measured
 * here: killed at 5 s → 4.03 s decodable; a recording longer than the reservation still finalizes
 * correctly at EOS (only crash safety is lost past it).
 * Rejected: fragment-mode=first-moov-then-finalise — after a kill, FFmpeg 5.1 refused the file
 * ("error reading header") whenever audio started a few ms before video (an empty edit list).
 * The default 550 bytes/s/track reservation cost ~8 MB per hour; the index really needs ~4-5 bytes per
 * sample (moov of a 6 s AAC+H.264@15 recording: 3.2 KB), so the reservation follows the sample rate.
 */
export const RESERVED_MAX_DURATION_S = 3 * 3600;
const MOOV_UPDATE_PERIOD_NS = 1_000_000_000;
/** AAC at 48 kHz is 47 frames/s: the busiest track unless video runs faster. */
function reservedBytesPerSecond(fps: number): number {
  return Math.ceil(Math.max(fps, 47) * 5);
}
export function rtpCaps(input: RecorderInput): string {
  const encodingName = input.codec.mimeType.split('/')[1].toUpperCase();
  // rtcp-fb-nack-pli lets the RTP session answer a depayloader's key-frame request with a PLI.
  const feedback = input.kind === 'video' ? ',rtcp-fb-nack-pli=(boolean)true' : '';
  return `application/x-rtp,media=${input.kind},clock-rate=${input.codec.clockRate},encoding-name=${encodingName},payload=${input.codec.payloadType}${feedback}`;
}

/** How long a gap in the sequence is waited for (a retransmission) before it is declared lost. */
export const JITTER_LATENCY_MS = 200;
/**
 * How long packets gather in the sockets between two reads of confrecudpsrc's thread (its TICK_NS, read
 * back as its `tick` property): up to this long after its arrival a packet goes downstream.
 */
export const RECEIVE_TICK_MS = 80;

/**
 * The receiving head shared by both modes: bound to port 0, the child reads the port back.
 * confrecudpsrc (our addon's element, gst/udpReceiver.c) stands in for udpsrc: one thread reads every
 * input socket of the recorder process, a tick of packets at a time, where udpsrc woke a thread of
 * each socket for every packet (what that cost: docs/architecture.md).
 * confrecrtporder (our addon's element) restores sequence order on the receiving thread, waits up to
 * JITTER_LATENCY_MS for a missing packet and announces a loss as rtpjitterbuffer did, so depayloaders
 * ask for a key frame after it; the jitter buffer it replaces handed every packet to a thread of its
 * own, and those thread switches were the largest share of the recorder's kernel time.
 * With an RTCP target (the mediasoup PlainTransport's RTCP port), an rtpsession sends receiver reports
 * and turns those key-frame requests into PLIs, sent there from a socket its udpsink (named
 * `${prefix}rtcpout`) binds to port 0; the child reads that port back and mediasoup is connected to it,
 * since it accepts RTCP only from the port it was connected to. mediasoup's sender reports to that
 * port are not read: nothing in the recording needs them (confrecrtporder smooths timestamps from
 * arrival times).
 * `prefix` keeps element names unique where several inputs share one pipeline.
 */
export function rtpHead(input: RecorderInput, bindIp: string, prefix = ''): string {
  const order = `confrecrtporder latency=${JITTER_LATENCY_MS}`;
  const source = `confrecudpsrc name=${prefix}rtp address=${bindIp} port=0 buffer-size=2097152 caps="${rtpCaps(input)}"`;
  if (!input.rtcp) return `${source} ! ${order}`;
  return (
    `rtpsession name=${prefix}rs rtp-profile=avpf ` +
    `${source} ! ${prefix}rs.recv_rtp_sink ` +
    `${rtcpOut(input.rtcp, `${prefix}rs.send_rtcp_src`, bindIp, prefix)} ` +
    `${prefix}rs.recv_rtp_src ! ${order}`
  );
}

function rtcpOut(target: { ip: string; port: number }, from: string, bindIp: string, prefix: string): string {
  return `${from} ! udpsink name=${prefix}rtcpout host=${target.ip} port=${target.port} bind-address=${bindIp} bind-port=0 sync=false async=false`;
}

const H264_DEPAY = 'rtph264depay request-keyframe=true wait-for-keyframe=true';

export function depay(input: RecorderInput): string {
  switch (input.codec.mimeType) {
    case 'video/VP8':
      return 'rtpvp8depay request-keyframe=true wait-for-keyframe=true';
    case 'video/H264':
      return `${H264_DEPAY} ! h264parse`;
    case 'audio/opus':
      return 'rtpopusdepay';
  }
}

export function decode(input: RecorderInput): string {
  switch (input.codec.mimeType) {
    case 'video/VP8':
      return 'vp8dec';
    case 'video/H264':
      return 'avdec_h264';
    case 'audio/opus':
      // Our addon's single-stream decoder (gst/opusDecoder.c): opusdec's multistream path cost twice
      // as much on a VM. Conceals lost packets as opusdec plc=true did.
      return 'confrecopusdec';
  }
}

export function crashSafeMp4(location: string, fps: number, sinkProps = ''): string {
  return (
    `mp4mux name=mux reserved-max-duration=${RESERVED_MAX_DURATION_S * 1_000_000_000} reserved-moov-update-period=${MOOV_UPDATE_PERIOD_NS} ` +
    `reserved-bytes-per-sec=${reservedBytesPerSecond(fps)} ! filesink name=file ${sinkProps} location="${location}"`
  );
}

/** Per-participant files keep the codec: VP8 and Opus in WebM, H.264 in crash-safe MP4. */
export function individualExtension(input: RecorderInput): string {
  return input.codec.mimeType === 'video/H264' ? 'mp4' : 'webm';
}

/**
 * The frame rate h264parse assumes when the SPS carries no timing (OpenH264, Chromium's software
 * encoder, writes none). mp4mux takes each sample's duration from the next sample's DTS, but the last
 * one has no successor and no buffer duration: it got duration 0, the edit list ended at its start
 * and FFmpeg marked it discarded (one frame fewer decoded than listed). With a frame rate in the caps,
 * h264parse stamps every buffer with a duration; only the last sample's comes from this nominal rate.
 * An SPS that has timing overrides it.
 */
const H264_NOMINAL_FPS = 30;

export function individualInputLaunch(input: RecorderInput, bindIp: string, location: string): string {
  if (input.codec.mimeType === 'video/H264') {
    return (
      `${rtpHead(input, bindIp)} ! ${H264_DEPAY} ` +
      `! capssetter caps=video/x-h264,framerate=${H264_NOMINAL_FPS}/1 ! h264parse ` +
      `! video/x-h264,stream-format=avc,alignment=au ! ${crashSafeMp4(location, 60, 'qos=true')}`
    );
  }
  const head = `${rtpHead(input, bindIp)} ! ${depay(input)}`;
  // opusparse completes the caps (rate, stream counts) matroskamux insists on; without it: not-negotiated.
  const parse = input.codec.mimeType === 'audio/opus' ? ' ! opusparse' : '';
  // offset-to-zero: each file starts at 0; the metadata file carries the offset instead.
  return `${head}${parse} ! webmmux name=mux offset-to-zero=true ! filesink name=file qos=true location="${location}"`;
}
