/**
 * gst_parse_launch strings for every pipeline a recorder runs. Pure functions: no GStreamer here, so
 * the strings can be read and tested alone.
 *
 * Composite mode is four kinds of pipeline joined by inter* elements (plugins-bad), so that the one
 * that writes the file never changes while people come and go:
 *
 *   input (one per RTP stream)  udpsrc → jitterbuffer → depay → decode → inter{video,audio}sink  in_<id>
 *   video mixer (rebuilt)       intervideosrc per tile → compositor (pad geometry fixed in the string)
 *                               → intervideosink mixv
 *   audio mixer (rebuilt)       interaudiosrc per input → audiomixer → interaudiosink mixa
 *   output (start → stop)       intervideosrc mixv / interaudiosrc mixa → x264enc / voaacenc → mp4mux
 *
 * gstreamer-superficial cannot set pad properties at runtime (shared/notes/gstreamer.md), so a layout
 * change is a new mixer pipeline; the output's inter sources keep producing (repeating the last frame,
 * silence) during the swap, which is also why EOS on the output always completes: its sources never
 * wait for the network.
 */
import { Tile } from '../layout';
import { AUDIO_PROFILES, RecorderInput, RecorderJob } from './protocol';

/** Raw audio between pipelines: one format everywhere so no inter element ever renegotiates. */
export const MIX_AUDIO_CAPS = 'audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved';
/** How long an input tile repeats its last frame before turning black when packets stop. */
const INPUT_TIMEOUT_NS = 1_000_000_000;
/** The output repeats the last mixed frame this long while a mixer is rebuilt. */
const MIX_TIMEOUT_NS = 3_000_000_000;
/** Placeholder shown for a paused video: dark grey, so it differs from "no signal" black. */
export const PAUSED_PLACEHOLDER_ARGB = 0xff404040;
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
const JITTER_LATENCY_MS = 200;

export function channelName(job: Pick<RecorderJob, 'recordingId'>, suffix: string): string {
  return `${job.recordingId}_${suffix}`;
}

export function rtpCaps(input: RecorderInput): string {
  const encodingName = input.codec.mimeType.split('/')[1].toUpperCase();
  // rtcp-fb-nack-pli lets the RTP session answer a depayloader's key-frame request with a PLI.
  const feedback = input.kind === 'video' ? ',rtcp-fb-nack-pli=(boolean)true' : '';
  return `application/x-rtp,media=${input.kind},clock-rate=${input.codec.clockRate},encoding-name=${encodingName},payload=${input.codec.payloadType}${feedback}`;
}

/**
 * The receiving head shared by both modes: bound to port 0, the child reads the port back.
 * With an RTCP target (the mediasoup PlainTransport's RTCP port), an rtpbin session sends receiver
 * reports and PLIs there from `rtcpBindPort`, the port mediasoup was connected to. mediasoup's
 * sender reports to that port are not read: a second udpsrc would be a source that may never see a
 * packet, and such a source blocks EOS (shared/notes/gstreamer.md).
 */
function rtpHead(input: RecorderInput, bindIp: string, rtcpBindPort?: number): string {
  const source = `udpsrc name=rtp address=${bindIp} port=0 buffer-size=2097152 caps="${rtpCaps(input)}"`;
  if (!input.rtcp || rtcpBindPort === undefined) {
    return `${source} ! rtpjitterbuffer latency=${JITTER_LATENCY_MS} do-lost=true`;
  }
  return (
    `rtpbin name=rb latency=${JITTER_LATENCY_MS} do-lost=true rtp-profile=avpf ` +
    `${source} ! rb.recv_rtp_sink_0 ` +
    `rb.send_rtcp_src_0 ! udpsink name=rtcpout host=${input.rtcp.ip} port=${input.rtcp.port} ` +
    `bind-address=${bindIp} bind-port=${rtcpBindPort} sync=false async=false ` +
    `rb.`
  );
}

function depay(input: RecorderInput): string {
  switch (input.codec.mimeType) {
    case 'video/VP8':
      return 'rtpvp8depay request-keyframe=true wait-for-keyframe=true';
    case 'video/H264':
      return 'rtph264depay request-keyframe=true wait-for-keyframe=true ! h264parse';
    case 'audio/opus':
      return 'rtpopusdepay';
  }
}

function decode(input: RecorderInput): string {
  switch (input.codec.mimeType) {
    case 'video/VP8':
      return 'vp8dec';
    case 'video/H264':
      return 'avdec_h264';
    case 'audio/opus':
      return 'opusdec plc=true';
  }
}

/** Composite input: decode into an inter sink named `out` (polled for the first frame). */
export function compositeInputLaunch(job: RecorderJob, input: RecorderInput, bindIp: string, rtcpBindPort?: number): string {
  const head = `${rtpHead(input, bindIp, rtcpBindPort)} ! ${depay(input)} ! ${decode(input)}`;
  if (input.kind === 'video') {
    // sync=false: the mixer samples whatever frame is newest; qos=true makes basesink count renders.
    return `${head} ! videoconvert ! intervideosink name=out sync=false qos=true channel=${channelName(job, `v_${input.inputId}`)}`;
  }
  return `${head} ! audioconvert ! audioresample ! ${MIX_AUDIO_CAPS} ! interaudiosink name=out qos=true channel=${channelName(job, `a_${input.inputId}`)}`;
}

export interface VideoTileSource {
  tile: Tile;
  inputId: string;
  paused: boolean;
}

export function videoMixerLaunch(job: RecorderJob, tiles: readonly VideoTileSource[]): string {
  const { width, height, fps } = job.canvas;
  const raw = `video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1`;
  const padProps: string[] = ['sink_0::zorder=0'];
  const branches: string[] = [`videotestsrc is-live=true pattern=black ! ${raw} ! mix.sink_0`];
  tiles.forEach(({ tile, inputId, paused }, index) => {
    const pad = `sink_${index + 1}`;
    padProps.push(
      `${pad}::xpos=${tile.x} ${pad}::ypos=${tile.y} ${pad}::width=${tile.width} ${pad}::height=${tile.height} ${pad}::zorder=${tile.zorder}`,
    );
    const source = paused
      ? `videotestsrc is-live=true pattern=solid-color foreground-color=${PAUSED_PLACEHOLDER_ARGB} ! video/x-raw,format=I420,width=64,height=64,framerate=${fps}/1`
      : `intervideosrc channel=${channelName(job, `v_${inputId}`)} timeout=${INPUT_TIMEOUT_NS} ! video/x-raw,framerate=${fps}/1 ! videoconvert`;
    branches.push(`${source} ! queue max-size-buffers=3 leaky=downstream ! mix.${pad}`);
  });
  return [
    `compositor name=mix background=black ${padProps.join(' ')} ! ${raw} ! intervideosink name=out sync=false channel=${channelName(job, 'mixv')}`,
    ...branches,
  ].join(' ');
}

export function audioMixerLaunch(job: RecorderJob, inputIds: readonly string[]): string {
  const branches = [`audiotestsrc is-live=true wave=silence ! ${MIX_AUDIO_CAPS} ! amix.`];
  for (const inputId of inputIds) {
    branches.push(`interaudiosrc channel=${channelName(job, `a_${inputId}`)} ! ${MIX_AUDIO_CAPS} ! queue ! amix.`);
  }
  return [`audiomixer name=amix ! ${MIX_AUDIO_CAPS} ! interaudiosink name=out channel=${channelName(job, 'mixa')}`, ...branches].join(' ');
}

function crashSafeMp4(location: string, fps: number, sinkProps = ''): string {
  return (
    `mp4mux name=mux reserved-max-duration=${RESERVED_MAX_DURATION_S * 1_000_000_000} reserved-moov-update-period=${MOOV_UPDATE_PERIOD_NS} ` +
    `reserved-bytes-per-sec=${reservedBytesPerSecond(fps)} ! filesink name=file ${sinkProps} location="${location}"`
  );
}

/** The composite file's extension: audio-only recordings are .m4a. */
export function compositeExtension(job: RecorderJob): string {
  return job.streamTypes === 'AudioOnly' ? 'm4a' : 'mp4';
}

export function outputLaunch(job: RecorderJob, location: string): string {
  const { width, height, fps, bitrateKbps } = job.canvas;
  const parts = [crashSafeMp4(location, fps)];
  if (job.streamTypes !== 'AudioOnly') {
    parts.push(
      `intervideosrc channel=${channelName(job, 'mixv')} timeout=${MIX_TIMEOUT_NS} ` +
        `! video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1 ! queue ` +
        `! x264enc speed-preset=ultrafast tune=zerolatency bitrate=${bitrateKbps} key-int-max=${fps * 2} ` +
        `! video/x-h264,profile=constrained-baseline ! h264parse ! queue ! mux.video_0`,
    );
  }
  if (job.streamTypes !== 'VideoOnly') {
    const profile = AUDIO_PROFILES[job.audioProfile];
    parts.push(
      `interaudiosrc channel=${channelName(job, 'mixa')} ! ${MIX_AUDIO_CAPS} ! audioconvert ! audioresample ` +
        `! audio/x-raw,rate=${profile.rate},channels=${profile.channels} ! voaacenc bitrate=${profile.bitrate} ! aacparse ! queue ! mux.audio_0`,
    );
  }
  return parts.join(' ');
}

/** Per-participant files keep the codec: VP8 and Opus in WebM, H.264 in crash-safe MP4. */
export function individualExtension(input: RecorderInput): string {
  return input.codec.mimeType === 'video/H264' ? 'mp4' : 'webm';
}

export function individualInputLaunch(input: RecorderInput, bindIp: string, location: string, rtcpBindPort?: number): string {
  const head = `${rtpHead(input, bindIp, rtcpBindPort)} ! ${depay(input)}`;
  if (input.codec.mimeType === 'video/H264') {
    return `${head} ! video/x-h264,stream-format=avc,alignment=au ! ${crashSafeMp4(location, 60, 'qos=true')}`;
  }
  // opusparse completes the caps (rate, stream counts) matroskamux insists on; without it: not-negotiated.
  const parse = input.codec.mimeType === 'audio/opus' ? ' ! opusparse' : '';
  // offset-to-zero: each file starts at 0; the metadata file carries the offset instead.
  return `${head}${parse} ! webmmux name=mux offset-to-zero=true ! filesink name=file qos=true location="${location}"`;
}
