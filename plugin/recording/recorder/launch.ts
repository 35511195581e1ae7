/**
 * gst_parse_launch strings for every pipeline a recorder runs. Pure functions: no GStreamer here, so
 * the strings can be read and tested alone.
 *
 * Composite mode is four kinds of pipeline joined by inter* elements (plugins-bad), so that the one
 * that writes the file never changes while people come and go:
 *
 *   input (one per RTP stream)  udpsrc → jitterbuffer → depay → decode → inter{video,audio}sink
 *   video mixer (rebuilt)       intervideosrc per tile → compositor (pad geometry fixed in the string)
 *                               → intervideosink mixv
 *   output (start → stop)       intervideosrc mixv → x264enc ─────────────────────────────┐
 *                               interaudiosrc per audio slot (AUDIO_SLOTS) + mixa          ├→ mp4mux
 *                               → audiomixer → voaacenc ──────────────────────────────────┘
 *   audio overflow mixer        only while more than AUDIO_SLOTS audio inputs exist: interaudiosrc per
 *   (rebuilt)                   extra input → audiomixer → interaudiosink mixa
 *
 * gstreamer-superficial cannot set pad properties at runtime (shared/notes/gstreamer.md), so a layout
 * change is a new mixer pipeline; the output's inter sources keep producing (repeating the last frame,
 * silence) during the swap, which is also why EOS on the output always completes: its sources never
 * wait for the network.
 *
 * A/V sync. Every inter* source stamps what it outputs with its own running time, so whatever waits
 * before or in an inter hop is late in the file. The first design (audio: input → audio mixer → output, two hops, interaudiosink
 * sync=true, interaudiosrc defaults) had audio late by 307 ms (bench avsync, 15 fps) / 420 ms
 * (test/recorder/avsync.test.ts, 30 fps), from three causes:
 *  1. interaudiosink sync=true renders at running time + pipeline latency (the input's 200 ms jitter
 *     buffer, + interaudiosrc latency-time 100 ms per hop) while video sinks are sync=false;
 *  2. interaudiosrc never drains its backlog: it takes one period per period, so audio that piled up
 *     once (start-up, a burst after a stall) stays as permanent delay, up to buffer-time (1 s default);
 *  3. each hop adds a period of its own plus the upstream chunking (Opus 20 ms, audiotestsrc 21 ms).
 * Measured (test, 30 fps): sync=false on both audio sinks → 273 ms; + buffer-time 60 ms, period
 * 10 ms on both hops → 52 ms with a 19–62 ms spread (backlog flushes). With audio across one hop
 * (below), sync=false: +30 ms at 30 fps but −110 ms at 15 fps: video is not "≈ no wait" — each
 * intervideosrc takes the newest frame when it prepares a tick and stamps it with the NEXT tick, so
 * video is late by ~3.85 frame periods after two hops (VIDEO_DELAY_FRAMES), which depends on fps.
 * Now:
 *  - audio crosses ONE hop: the output mixes directly from pre-allocated slots (inputs are given a
 *    slot's channel when they join, so no pad is ever added at runtime); small buffers (AUDIO_HOP);
 *  - the input's interaudiosink keeps sync=true (it renders on the clock, a fixed delay) with a
 *    negative ts-offset that makes audio wait as long as video does at the canvas fps
 *    (audioTsOffsetNs). The slack left for jitter/stalls before a buffer renders late is
 *    VIDEO_DELAY_FRAMES periods − AUDIO_FIXED_MS: 104 ms at 15 fps, none at 30 fps (−25 ms: late
 *    audio goes straight on; the slot's cap bounds what that can add).
 * Result (10 ms audio periods): bench avsync (15 fps) +3 ms; test +1/+2 ms at 30 fps, −2/+16 ms at
 * 15 fps; with two CPU hogs on the 2 cores −20 ms (30 fps), +12 ms (15 fps); no drift. With 20 ms
 * periods see AUDIO_HOP and AUDIO_FIXED_MS. Video's wait for its ticks has a
 * random phase (publisher vs mixer, mixer rebuild vs output), so expect up to ± half a frame period
 * more in other recordings; a single video hop would remove most of it.
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
/**
 * Audio inputs that reach the output's audiomixer directly (one inter hop). More inputs than this go
 * through the overflow mixer (two hops: about one period + 20 ms later than the others). Each idle slot
 * costs ~0.2% of a core (measured: 17 idle slots + AAC 0.05 core, 1 slot 0.017).
 */
export const AUDIO_SLOTS = 8;
/**
 * interaudiosrc sizes (ns) for every audio hop. period: what the source takes per tick (and so adds
 * to the delay); latency-time sets the reported latency (and the sink's render-delay); buffer-time
 * caps the backlog the source can never drain (cause 2 above): beyond it the sink drops a period
 * (a 20 ms gap) instead of keeping the delay for the rest of the recording. Every input starts with
 * such a burst (rtpjitterbuffer holds its first packet for its latency, then releases ~200 ms at
 * once), so the slot starts at the cap: 40 ms keeps that small.
 * The period matches Opus's 20 ms packets. It was 10 ms (latency 10 ms): every slot's source, the
 * output's audiomixer and each input's sink then woke 100 times a second, and thread wake-ups were
 * the largest single cost in a profile of the recorder (perf: 17% of its samples in the kernel's
 * task switch). Interleaved quick runs of `node dist/bench/run.js --quick --only composite
 * --duration 30`, ours/FFmpeg CPU: 1.66 and 1.66 at 10 ms, 1.38 at 20 ms (also 1.45–1.49 with a
 * 60 ms buffer). It delays audio by ~20 ms more, which AUDIO_FIXED_MS absorbs (below).
 */
const AUDIO_HOP = 'buffer-time=40000000 latency-time=20000000 period-time=20000000';
/**
 * Video is late in the file by about VIDEO_DELAY_FRAMES frame periods: each of its two inter hops
 * takes the newest frame when the source prepares a tick and stamps it with the next tick (one period
 * + the wait for the tick, whose phase is random per mixer rebuild). Fitted from
 * test/recorder/avsync.test.ts at 15 and 30 fps (audio offset moved 128 ms for a 33 ms change of
 * period). Audio instead waits a fixed time: its input sink renders at PTS + pipeline latency
 * (JITTER_LATENCY_MS + latency-time) + ts-offset, then ≤ buffer-time in the slot and one period.
 * AUDIO_FIXED_MS: the audio delay beyond the jitter latency, measured with the same fit (133 ms with
 * 10 ms periods; 153 with 20 ms: quick bench avsync at 15 fps, three runs each, median offsets
 * 25/45/19/49 ms before, 18/28/55 after; the test +4 ms at 30 fps, +11 at 15). At 30 fps the slack
 * below is negative, so audio there is about that much (~25 ms) later than at 15 fps.
 */
const VIDEO_DELAY_FRAMES = 3.85;
const AUDIO_FIXED_MS = 153;
/** The input audio sink's ts-offset (ns, negative: earlier) that makes audio wait as long as video. */
export function audioTsOffsetNs(fps: number): number {
  return Math.round(((VIDEO_DELAY_FRAMES * 1000) / fps - JITTER_LATENCY_MS - AUDIO_FIXED_MS) * 1e6);
}

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

const H264_DEPAY = 'rtph264depay request-keyframe=true wait-for-keyframe=true';

function depay(input: RecorderInput): string {
  switch (input.codec.mimeType) {
    case 'video/VP8':
      return 'rtpvp8depay request-keyframe=true wait-for-keyframe=true';
    case 'video/H264':
      return `${H264_DEPAY} ! h264parse`;
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

/** The channel of audio slot `slot` (0 ≤ slot < AUDIO_SLOTS), read by the output pipeline. */
export function audioSlotChannel(job: RecorderJob, slot: number): string {
  return channelName(job, `aslot${slot}`);
}

/** The channel of an audio input beyond the slots, read by the overflow mixer. */
export function audioOverflowChannel(job: RecorderJob, inputId: string): string {
  return channelName(job, `a_${inputId}`);
}

/**
 * Composite input: decode into an inter sink named `out` (polled for the first frame). Audio goes to
 * `audioChannel` (a slot's or an overflow channel) through `volume name=vol` (mute = paused).
 */
export function compositeInputLaunch(job: RecorderJob, input: RecorderInput, bindIp: string, rtcpBindPort?: number, audioChannel?: string): string {
  const head = `${rtpHead(input, bindIp, rtcpBindPort)} ! ${depay(input)} ! ${decode(input)}`;
  if (input.kind === 'video') {
    // sync=false: the mixer samples whatever frame is newest; qos=true makes basesink count renders.
    return `${head} ! videoconvert ! intervideosink name=out sync=false qos=true channel=${channelName(job, `v_${input.inputId}`)}`;
  }
  // sync=false like video: data goes on as soon as it is decoded (sync=true waited for the 200 ms
  // jitter-buffer latency + latency-time, which video never waits for).
  const channel = audioChannel ?? audioOverflowChannel(job, input.inputId);
  return `${head} ! audioconvert ! audioresample ! ${MIX_AUDIO_CAPS} ! volume name=vol ! interaudiosink name=out sync=true ts-offset=${audioTsOffsetNs(job.canvas.fps)} qos=true channel=${channel}`;
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
      : // Crop to the tile's shape, then scale: the compositor alone would stretch a 16:9 camera
        // into a 9:16 tile. Cropping fills the tile the way conferencing grids do.
        `intervideosrc channel=${channelName(job, `v_${inputId}`)} timeout=${INPUT_TIMEOUT_NS} ! video/x-raw,framerate=${fps}/1 ! videoconvert ` +
        `! aspectratiocrop aspect-ratio=${tile.width}/${tile.height} ! videoscale ! video/x-raw,width=${tile.width},height=${tile.height},pixel-aspect-ratio=1/1`;
    branches.push(`${source} ! queue max-size-buffers=3 leaky=downstream ! mix.${pad}`);
  });
  return [
    `compositor name=mix background=black ${padProps.join(' ')} ! ${raw} ! intervideosink name=out sync=false channel=${channelName(job, 'mixv')}`,
    ...branches,
  ].join(' ');
}

/** Mixes the audio inputs beyond AUDIO_SLOTS into `mixa`, one of the output's audio sources. */
export function audioMixerLaunch(job: RecorderJob, inputIds: readonly string[]): string {
  const branches: string[] = [];
  for (const inputId of inputIds) {
    branches.push(`interaudiosrc channel=${audioOverflowChannel(job, inputId)} ${AUDIO_HOP} ! ${MIX_AUDIO_CAPS} ! queue ! amix.`);
  }
  return [`audiomixer name=amix ! ${MIX_AUDIO_CAPS} ! interaudiosink name=out sync=false channel=${channelName(job, 'mixa')}`, ...branches].join(' ');
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
        // trellis: x264enc's own default (true) overrides the ultrafast preset, which has it off (as
        // FFmpeg's libx264 ultrafast does); it was 2.8% of the recorder's profile. One thread: many
        // recordings share the cores, and slice threads only add wake-ups. Together: encode of the
        // bench clip 0.55 → 0.33 CPU-s, quick composite ratio −4% in two interleaved pairs.
        `! x264enc speed-preset=ultrafast tune=zerolatency trellis=false threads=1 bitrate=${bitrateKbps} key-int-max=${fps * 2} ` +
        `! video/x-h264,profile=constrained-baseline ! h264parse ! queue ! mux.video_0`,
    );
  }
  if (job.streamTypes !== 'VideoOnly') {
    const profile = AUDIO_PROFILES[job.audioProfile];
    // Interaudiosrcs always produce (silence when nobody feeds them), so audiomixer never waits.
    parts.push(
      `audiomixer name=amix ! ${MIX_AUDIO_CAPS} ! audioconvert ! audioresample ` +
        `! audio/x-raw,rate=${profile.rate},channels=${profile.channels} ! voaacenc bitrate=${profile.bitrate} ! aacparse ! queue ! mux.audio_0`,
    );
    const channels = [...Array.from({ length: AUDIO_SLOTS }, (_, slot) => audioSlotChannel(job, slot)), channelName(job, 'mixa')];
    for (const channel of channels) parts.push(`interaudiosrc channel=${channel} ${AUDIO_HOP} ! ${MIX_AUDIO_CAPS} ! amix.`);
  }
  return parts.join(' ');
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

export function individualInputLaunch(input: RecorderInput, bindIp: string, location: string, rtcpBindPort?: number): string {
  if (input.codec.mimeType === 'video/H264') {
    return (
      `${rtpHead(input, bindIp, rtcpBindPort)} ! ${H264_DEPAY} ` +
      `! capssetter caps=video/x-h264,framerate=${H264_NOMINAL_FPS}/1 ! h264parse ` +
      `! video/x-h264,stream-format=avc,alignment=au ! ${crashSafeMp4(location, 60, 'qos=true')}`
    );
  }
  const head = `${rtpHead(input, bindIp, rtcpBindPort)} ! ${depay(input)}`;
  // opusparse completes the caps (rate, stream counts) matroskamux insists on; without it: not-negotiated.
  const parse = input.codec.mimeType === 'audio/opus' ? ' ! opusparse' : '';
  // offset-to-zero: each file starts at 0; the metadata file carries the offset instead.
  return `${head}${parse} ! webmmux name=mux offset-to-zero=true ! filesink name=file qos=true location="${location}"`;
}
