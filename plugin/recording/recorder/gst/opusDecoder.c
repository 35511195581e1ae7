/*
 * confrecopusdec: decodes the Opus of an RTP stream (one mono or stereo stream: channel mapping family
 * 0, all WebRTC sends) with libopus's single-stream decoder, concealing lost packets.
 *
 * opusdec decodes through libopus's multistream API even for one stream, and every
 * opus_multistream_decode() asks for the decoders' sizes, which in Debian's libopus runs CPUID a few
 * times a packet: each one a VM exit on a virtual machine, where that made it cost over twice what
 * opus_decode() does (docs/architecture.md has the figures). The rest is what the recorder used of
 * opusdec: output at 48 kHz in the channel count
 * downstream asks for (libopus up- or down-mixes), and packet loss concealment: a gap (the
 * depayloader's, after confrecrtporder declares a loss) comes in as an empty buffer of the gap's
 * duration, and libopus extrapolates up to MAX_CONCEALED_SAMPLES of it. A packet libopus refuses is
 * counted against the base class's `max-errors` (unlimited by default), never fatal by itself.
 */
#include "opusDecoder.h"
#include <gst/audio/audio.h>
#include <opus/opus.h>

GST_DEBUG_CATEGORY_STATIC(opus_decoder_debug);
#define GST_CAT_DEFAULT opus_decoder_debug

#define RATE 48000
/* The longest an Opus packet decodes to: 120 ms. */
#define MAX_PACKET_SAMPLES 5760
/* libopus takes PLC lengths in 2.5 ms steps; beyond a few frames it fades to silence anyway. */
#define PLC_STEP_SAMPLES 120
#define MAX_CONCEALED_SAMPLES 5760
#define DEFAULT_FRAME_SAMPLES 960

typedef struct {
  GstAudioDecoder parent;
  OpusDecoder *decoder;
  gint channels;
} ConfrecOpusDec;

typedef struct {
  GstAudioDecoderClass parent_class;
} ConfrecOpusDecClass;

GType confrec_opus_dec_get_type(void);
G_DEFINE_TYPE(ConfrecOpusDec, confrec_opus_dec, GST_TYPE_AUDIO_DECODER)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-opus, channel-mapping-family = (int) 0"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("audio/x-raw, format = (string) " GST_AUDIO_NE(S16) ", layout = (string) interleaved, rate = (int) 48000, channels = (int) [ 1, 2 ]"));

static void free_decoder(ConfrecOpusDec *self) {
  if (!self->decoder) return;
  opus_decoder_destroy(self->decoder);
  self->decoder = NULL;
}

/* Downstream's channel count (stereo unless it asks for mono). */
static gint wanted_channels(GstAudioDecoder *decoder) {
  GstCaps *allowed = gst_pad_get_allowed_caps(GST_AUDIO_DECODER_SRC_PAD(decoder));
  gint channels = 2;
  if (allowed && !gst_caps_is_empty(allowed)) {
    allowed = gst_caps_make_writable(allowed);
    GstStructure *s = gst_caps_get_structure(allowed, 0);
    gst_structure_fixate_field_nearest_int(s, "channels", 2);
    gst_structure_get_int(s, "channels", &channels);
  }
  if (allowed) gst_caps_unref(allowed);
  return channels == 1 ? 1 : 2;
}

static gboolean set_format(GstAudioDecoder *decoder, GstCaps *caps) {
  ConfrecOpusDec *self = (ConfrecOpusDec *)decoder;
  gint channels = wanted_channels(decoder);
  if (!self->decoder || channels != self->channels) {
    free_decoder(self);
    int error = OPUS_OK;
    self->decoder = opus_decoder_create(RATE, channels, &error);
    if (error != OPUS_OK) {
      GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("could not create an Opus decoder: %s", opus_strerror(error)), (NULL));
      self->decoder = NULL;
      return FALSE;
    }
    self->channels = channels;
  }
  GstAudioInfo info;
  gst_audio_info_set_format(&info, GST_AUDIO_FORMAT_S16, RATE, channels, NULL);
  return gst_audio_decoder_set_output_format(decoder, &info);
}

/* A gap of `duration` (unknown: one 20 ms frame), in the 2.5 ms steps libopus conceals in. */
static int concealed_samples(GstClockTime duration) {
  guint64 samples = GST_CLOCK_TIME_IS_VALID(duration) ? gst_util_uint64_scale_round(duration, RATE, GST_SECOND) : DEFAULT_FRAME_SAMPLES;
  samples = (samples / PLC_STEP_SAMPLES) * PLC_STEP_SAMPLES;
  return (int)CLAMP(samples, PLC_STEP_SAMPLES, MAX_CONCEALED_SAMPLES);
}

static GstFlowReturn handle_frame(GstAudioDecoder *decoder, GstBuffer *buffer) {
  ConfrecOpusDec *self = (ConfrecOpusDec *)decoder;
  if (!buffer) return GST_FLOW_OK; /* drain: libopus holds nothing back */
  if (!self->decoder) return GST_FLOW_NOT_NEGOTIATED;
  gsize size = gst_buffer_get_size(buffer);
  int capacity = size == 0 ? concealed_samples(GST_BUFFER_DURATION(buffer)) : MAX_PACKET_SAMPLES;
  GstBuffer *output = gst_audio_decoder_allocate_output_buffer(decoder, (gsize)capacity * self->channels * sizeof(opus_int16));
  GstMapInfo out;
  if (!gst_buffer_map(output, &out, GST_MAP_WRITE)) {
    gst_buffer_unref(output);
    return GST_FLOW_ERROR;
  }
  int samples;
  if (size == 0) {
    samples = opus_decode(self->decoder, NULL, 0, (opus_int16 *)out.data, capacity, 0);
  } else {
    GstMapInfo in;
    if (!gst_buffer_map(buffer, &in, GST_MAP_READ)) {
      gst_buffer_unmap(output, &out);
      gst_buffer_unref(output);
      return GST_FLOW_ERROR;
    }
    samples = opus_decode(self->decoder, in.data, (opus_int32)in.size, (opus_int16 *)out.data, capacity, 0);
    gst_buffer_unmap(buffer, &in);
  }
  gst_buffer_unmap(output, &out);
  if (samples < 0) {
    gst_buffer_unref(output);
    GstFlowReturn ret = GST_FLOW_OK;
    GST_AUDIO_DECODER_ERROR(decoder, 1, STREAM, DECODE, (NULL), ("libopus: %s", opus_strerror(samples)), ret);
    return ret;
  }
  gst_buffer_set_size(output, (gsize)samples * self->channels * sizeof(opus_int16));
  return gst_audio_decoder_finish_frame(decoder, output, 1);
}

/* The base class clears what it knows of the decoder at each start: concealment included. */
static gboolean start(GstAudioDecoder *decoder) {
  gst_audio_decoder_set_plc_aware(decoder, TRUE);
  return TRUE;
}

static gboolean stop(GstAudioDecoder *decoder) {
  free_decoder((ConfrecOpusDec *)decoder);
  return TRUE;
}

static void flush(GstAudioDecoder *decoder, gboolean hard) {
  ConfrecOpusDec *self = (ConfrecOpusDec *)decoder;
  if (self->decoder) opus_decoder_ctl(self->decoder, OPUS_RESET_STATE);
}

static void finalize(GObject *object) {
  free_decoder((ConfrecOpusDec *)object);
  G_OBJECT_CLASS(confrec_opus_dec_parent_class)->finalize(object);
}

static void confrec_opus_dec_class_init(ConfrecOpusDecClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstAudioDecoderClass *decoder_class = GST_AUDIO_DECODER_CLASS(klass);
  object_class->finalize = finalize;
  decoder_class->set_format = set_format;
  decoder_class->handle_frame = handle_frame;
  decoder_class->start = start;
  decoder_class->stop = stop;
  decoder_class->flush = flush;
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "Opus decoder (one stream)", "Codec/Decoder/Audio",
                                        "Decodes one mono or stereo Opus stream with libopus, concealing lost packets", "confrec");
}

static void confrec_opus_dec_init(ConfrecOpusDec *self) {
  GstAudioDecoder *decoder = GST_AUDIO_DECODER(self);
  gst_audio_decoder_set_needs_format(decoder, TRUE);
  gst_audio_decoder_set_use_default_pad_acceptcaps(decoder, TRUE);
  GST_PAD_SET_ACCEPT_TEMPLATE(GST_AUDIO_DECODER_SINK_PAD(decoder));
  gst_audio_decoder_set_plc(decoder, TRUE);
  gst_audio_decoder_set_drainable(decoder, TRUE);
}

gboolean confrec_register_opus_decoder(void) {
  GST_DEBUG_CATEGORY_INIT(opus_decoder_debug, OPUS_DECODER_ELEMENT, 0, "Opus decoder (one stream)");
  return gst_element_register(NULL, OPUS_DECODER_ELEMENT, GST_RANK_NONE, confrec_opus_dec_get_type());
}
