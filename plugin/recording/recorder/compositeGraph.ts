/**
 * The composite recording's graph: ONE pipeline from the first frame to the last, changed while it
 * plays (GstGraph):
 *
 *   base (start → stop)   videotestsrc 16×16 (alpha 0) ─┐
 *                         input bins ──────────────────── compositor (a request pad per input, its
 *                                                        geometry = the tile) → x264enc ─┐
 *                         audiotestsrc (silence) ───────┐                                 ├→ mp4mux
 *                         input bins ──────────────────── audiomixer (a pad per input) → AAC ┘
 *   input bin (per RTP    confrecudpsrc → confrecrtporder → depay → decode
 *   stream, added live)   → aspectratiocrop → videoscale → the tile's size (video)
 *
 * The live filler sources make the aggregators tick whether or not anyone sends, so the file goes on
 * (black, silent) while nobody is there, and EOS always completes once the input bins are gone. They
 * must stay live: an aggregator whose every pad has data does not wait for the clock, so a non-live
 * filler ran the mix ahead of real time and every input arrived too late to be mixed. mp4mux (an
 * aggregator too) is fed through queues, whose maximum latency covers the mixers' minimum: an input
 * whose maximum latency is below an aggregator's minimum stops it ("Impossible to configure latency").
 * A/V sync needs no tuning beyond VIDEO_EARLY_FRAMES: both aggregators mix by running time, so audio
 * and video keep their arrival timing. Every input's depayload and decode run on the one thread that
 * reads the recorder's sockets (confrecudpsrc), the packets stamped with their arrival; the
 * compositor's thread blends and encodes; no frame crosses a pipeline boundary.
 * Pure functions: no GStreamer here, so the strings can be read and tested alone.
 */
import { JITTER_LATENCY_MS, RECEIVE_TICK_MS, crashSafeMp4, decode, depay, rtpHead } from './launch';
import { AUDIO_PROFILES, RecorderInput, RecorderJob } from './protocol';

/** Raw audio into the mixer: one format for every input, so the mixer never renegotiates. */
export const MIX_AUDIO_CAPS = 'audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved';
/** Placeholder shown for a paused video: dark grey, so it differs from "no signal" black. */
export const PAUSED_PLACEHOLDER_ARGB = 0xff404040;
/**
 * What the aggregators wait for an input before mixing without it: the wait for a missing packet and
 * for the socket's next read (inputs join later than the filler sources, which report only a frame),
 * plus time to depayload and decode.
 */
const MIX_LATENCY_NS = (JITTER_LATENCY_MS + RECEIVE_TICK_MS + 50) * 1_000_000;
/**
 * The audio block, both what every input hands the mixer and what the mixer outputs: the mixer's thread
 * wakes for every buffer a pad receives and for every block it outputs, so a larger block wakes it less
 * (what 80 ms saved: the commit that set it). The mix still places each block by its running time, so
 * A/V sync does not depend on it.
 */
const AUDIO_BLOCK_NS = 80_000_000;
/**
 * The audio mixer waits a block longer than the compositor: an input block is pushed when its last
 * packet is there, up to JITTER_LATENCY_MS after the block's end when that packet was waited for, and
 * its first samples may belong to an output block that ended up to a block earlier.
 */
const AUDIO_MIX_LATENCY_NS = MIX_LATENCY_NS + AUDIO_BLOCK_NS;

/**
 * How much later than its timestamps a video input is mixed. The compositor fills the output frame
 * [T, T + period) with the newest input frame that starts before T + period, so without an offset video
 * reaches the file up to a period early (audio late). One period, applied as the compositor pad's
 * running-time offset, takes that back; the measurements that chose it are in the commits that set
 * VIDEO_EARLY_FRAMES and in the README's A/V figures.
 */
export function videoPadOffsetNs(fps: number): number {
  return Math.round((VIDEO_EARLY_FRAMES * 1e9) / fps);
}
const VIDEO_EARLY_FRAMES = 1;

/** The composite file's extension: audio-only recordings are .m4a. */
export function compositeExtension(job: RecorderJob): string {
  return job.streamTypes === 'AudioOnly' ? 'm4a' : 'mp4';
}

export const VIDEO_MIXER = 'mix';
/** The queue between h264parse and mp4mux. */
export const VIDEO_TO_MUX = 'vmuxq';
export const AUDIO_MIXER = 'amix';

export function compositeBaseLaunch(job: RecorderJob, location: string): string {
  const { width, height, fps, bitrateKbps } = job.canvas;
  const parts = [crashSafeMp4(location, fps)];
  if (job.streamTypes !== 'AudioOnly') {
    parts.push(
      `compositor name=${VIDEO_MIXER} background=black max-threads=1 min-upstream-latency=${MIX_LATENCY_NS} sink_0::alpha=0 ` +
        `! video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1 ` +
        // h264parse now and then hands mp4mux a buffer without PTS ("Buffer has no PTS" fails the file:
        // about one run in four of composite.test); CompositeRecording drops those after VIDEO_TO_MUX.
        // Without h264parse the file's timing broke instead (a tile still for seconds after a layer
        // switch in layerPick.test). The encoder runs on the compositor's thread: a queue between them
        // only handed every frame to one more thread.
        // trellis: x264enc's own default (true) overrides the ultrafast preset, which has it off (as
        // FFmpeg's libx264 ultrafast does). One thread: many recordings share the cores, and slice
        // threads only add wake-ups.
        `! x264enc speed-preset=ultrafast tune=zerolatency trellis=false threads=1 bitrate=${bitrateKbps} key-int-max=${fps * 2} ` +
        `! video/x-h264,profile=constrained-baseline ! h264parse ! queue name=${VIDEO_TO_MUX} ! mux.video_0`,
      `videotestsrc is-live=true pattern=black ! video/x-raw,format=I420,width=16,height=16,framerate=${fps}/1 ! ${VIDEO_MIXER}.sink_0`,
    );
  }
  if (job.streamTypes !== 'VideoOnly') {
    const profile = AUDIO_PROFILES[job.audioProfile];
    const samplesPerBlock = (48_000 * AUDIO_BLOCK_NS) / 1e9;
    parts.push(
      `audiomixer name=${AUDIO_MIXER} min-upstream-latency=${AUDIO_MIX_LATENCY_NS} output-buffer-duration=${AUDIO_BLOCK_NS} ! ${MIX_AUDIO_CAPS} ` +
        `! audioconvert ! audioresample ! audio/x-raw,rate=${profile.rate},channels=${profile.channels} ` +
        `! voaacenc bitrate=${profile.bitrate} ! aacparse ! queue ! mux.audio_0`,
      `audiotestsrc is-live=true wave=silence samplesperbuffer=${samplesPerBlock} ! ${MIX_AUDIO_CAPS} ! ${AUDIO_MIXER}.sink_0`,
    );
  }
  return parts.join(' ');
}

/** What the names of input bin `bin`'s elements start with (names are global to the pipeline). */
export function inputPrefix(bin: string): string {
  return `${bin}_`;
}

/** Element names inside input bin `bin`; `out` feeds the mixer. */
export function inputElement(bin: string, element: 'dec' | 'crop' | 'out'): string {
  return `${inputPrefix(bin)}${element}`;
}

/**
 * One input's bin, ended by the element named `out` whose src feeds the mixer's pad. Video is cropped
 * to the tile's aspect ratio (a 16:9 camera in a 9:16 tile is cropped, as conferencing grids do, never
 * stretched) and scaled to the tile here, on the input's own thread: scaled by its compositor pad
 * instead, every frame went through the compositor's task pool, a thread hand-off per tile per frame.
 */
export function compositeInputBin(input: RecorderInput, bin: string, bindIp: string, size: TileSize): string {
  const head = `${rtpHead(input, bindIp, inputPrefix(bin))} ! ${depay(input)} ! ${decode(input)} name=${inputElement(bin, 'dec')}`;
  if (input.kind === 'video') {
    return (
      `${head} ! aspectratiocrop name=${inputElement(bin, 'crop')} aspect-ratio=${size.width}/${size.height} ` +
      `! videoscale ! capsfilter name=${inputElement(bin, 'out')} caps=${tileCaps(size)}`
    );
  }
  // The decoder outputs the mix's rate and channel count (libopus up/down-mixes), so no audioconvert/audioresample
  // (two more elements per 20 ms packet). The mixer's thread wakes for every buffer any pad receives:
  // four packets to a buffer (AUDIO_BLOCK_NS, its own output block) quarter what the inputs wake it for.
  // A bin may not end in bare caps (gst_parse reads them as an element name): a capsfilter.
  return `${head} ! capsfilter caps=${MIX_AUDIO_CAPS} ! audiobuffersplit output-buffer-duration=${AUDIO_BLOCK_NS / 1_000_000}/1000 ! capsfilter name=${inputElement(bin, 'out')} caps=${MIX_AUDIO_CAPS}`;
}

export interface TileSize {
  width: number;
  height: number;
}

/** What a video input's bin outputs for a tile of this size. */
export function tileCaps(size: TileSize): string {
  return `video/x-raw,width=${size.width},height=${size.height},pixel-aspect-ratio=1/1`;
}

/** A paused video's tile: a still dark-grey source, scaled by its compositor pad. */
export function pausedPlaceholderBin(job: RecorderJob, bin: string): string {
  return (
    `videotestsrc is-live=true pattern=solid-color foreground-color=${PAUSED_PLACEHOLDER_ARGB} ` +
    `! capsfilter name=${inputElement(bin, 'out')} caps=video/x-raw,format=I420,width=16,height=16,framerate=${job.canvas.fps}/1`
  );
}
