/*
 * confrecrtporder: puts RTP packets back in sequence order on the thread that received them.
 *
 * It replaces rtpjitterbuffer in the recorder's inputs. The jitter buffer pushes every packet from a
 * thread of its own, a thread switch per packet, and the recorder's profile was dominated by those
 * switches. Here a packet in order passes straight through. After a gap, later packets are held until
 * the missing one arrives (a retransmission mediasoup got from the publisher) or the sequence has not
 * moved on for `latency`; then the gap is declared lost. No timer is needed, since that decision is
 * only ever due when a packet arrives (and at EOS, which releases everything). Packets outside the
 * sequence (late, far ahead, another SSRC, or just ahead with an RTP time that does not fit) are
 * dropped unless enough of them form a new sequence, so garbage on the port cannot pull the sequence
 * away from the real stream (foreign()).
 *
 * What the jitter buffer did beyond ordering is kept:
 *  - a declared loss goes downstream as a GstRTPPacketLost event, which depayloaders turn into a GAP
 *    (opusdec conceals it) and after which video depayloaders ask for a key frame;
 *  - those upstream key-frame requests get the stream's "ssrc" and "payload" fields, which rtpsession
 *    needs to send a PLI (rtpbin's ssrc and payload demuxers added them before);
 *  - packets are stamped with their RTP time plus the smallest delay seen, not their arrival time, as
 *    the jitter buffer's skew estimation did (smoothed_pts);
 *  - the latency query reports `latency` as minimum and no maximum, as the jitter buffer did.
 */
#include "rtpOrder.h"
#include <string.h>

GST_DEBUG_CATEGORY_STATIC(rtp_order_debug);
#define GST_CAT_DEFAULT rtp_order_debug

/* At most this many packets are held, and a packet further ahead than this is not part of a gap. */
#define MAX_HELD 128
#define DEFAULT_LATENCY_MS 200
/* A change of delay this large is a jump in the sender's timestamps: start again from it. */
#define RESYNC_NS (1 * GST_SECOND)
/*
 * A packet this much later than the smallest delay says starts again from its own delay at once: the
 * timestamps moved back (mediasoup re-bases them when a simulcast consumer switches layers), and a
 * packet stamped that much too early would be too late for the mixers. Waiting for the window let a
 * tile stand still for 3 s after a switch (layerPick.test).
 */
#define RISE_RESYNC_NS (150 * GST_MSECOND)
#define DELAY_WINDOW_NS (1 * GST_SECOND)
/* Packets in a row, continuing one another, that make a new sequence the current one. */
#define FOREIGN_RUN 8

typedef struct {
  GstBuffer *buffer;
  guint16 seq;
} Held;

typedef struct {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  GstClockTime latency;
  gboolean have_expected;
  guint16 expected;
  gboolean have_last;
  guint32 last_timestamp;
  GstClockTime last_pts;
  GstClockTime last_arrival;
  guint16 last_seq;
  gint clock_rate;
  gboolean have_ssrc;
  guint32 ssrc;
  guint payload_type;
  GstClockTime last_advance;
  guint foreign_run;
  guint32 foreign_ssrc;
  guint16 foreign_seq;
  gboolean have_base;
  gint64 ext_timestamp;
  gboolean have_delay;
  gint64 delay;
  gint64 window_min;
  GstClockTime window_start;
  Held held[MAX_HELD];
  guint held_count;
  gboolean discont;
} ConfrecRtpOrder;

typedef struct {
  GstElementClass parent_class;
} ConfrecRtpOrderClass;

enum { PROP_0, PROP_LATENCY };

GType confrec_rtp_order_get_type(void);
G_DEFINE_TYPE(ConfrecRtpOrder, confrec_rtp_order, GST_TYPE_ELEMENT)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));

static gboolean parse_header(GstBuffer *buffer, guint16 *seq, guint32 *timestamp, guint32 *ssrc, guint *payload_type) {
  guint8 header[12];
  if (gst_buffer_extract(buffer, 0, header, sizeof header) != sizeof header) return FALSE;
  if ((header[0] >> 6) != 2) return FALSE;
  *payload_type = header[1] & 0x7f;
  *seq = (guint16)((header[2] << 8) | header[3]);
  *timestamp = ((guint32)header[4] << 24) | ((guint32)header[5] << 16) | ((guint32)header[6] << 8) | header[7];
  *ssrc = ((guint32)header[8] << 24) | ((guint32)header[9] << 16) | ((guint32)header[10] << 8) | header[11];
  return TRUE;
}

static gint64 ticks_to_ns(gint64 ticks, gint clock_rate) {
  return ticks >= 0 ? (gint64)gst_util_uint64_scale_int((guint64)ticks, GST_SECOND, clock_rate) : -(gint64)gst_util_uint64_scale_int((guint64)-ticks, GST_SECOND, clock_rate);
}

/*
 * The time a packet was sent, on our clock: its RTP time plus the smallest delay seen (arrival − RTP
 * time) in the current or the last window. Arrival times carry the network's and the sender's jitter;
 * a 15 fps frame stamped a few ms off its slot lands in the compositor's next output frame, and the
 * tile repeats a frame then skips one (the jitter buffer's skew estimation did this before). Windows
 * let the delay rise again when the sender's clock runs slower than ours.
 */
static GstClockTime smoothed_pts(ConfrecRtpOrder *self, GstClockTime arrival, guint32 timestamp) {
  if (!GST_CLOCK_TIME_IS_VALID(arrival) || self->clock_rate <= 0) return arrival;
  if (!self->have_base) {
    self->have_base = TRUE;
    self->ext_timestamp = 0;
  } else {
    self->ext_timestamp += (gint32)(timestamp - self->last_timestamp); /* push_one() updates it after this */
  }
  gint64 rtp_ns = ticks_to_ns(self->ext_timestamp, self->clock_rate);
  gint64 delay = (gint64)arrival - rtp_ns;
  gboolean jumped = self->have_delay && (delay - self->delay > (gint64)RISE_RESYNC_NS || self->delay - delay > (gint64)RESYNC_NS);
  if (!self->have_delay || jumped) {
    self->have_delay = TRUE;
    self->delay = delay;
    self->window_min = delay;
    self->window_start = arrival;
  } else {
    if (delay < self->delay) self->delay = delay;
    if (delay < self->window_min) self->window_min = delay;
    if (arrival - self->window_start >= DELAY_WINDOW_NS) {
      self->delay = self->window_min;
      self->window_min = delay;
      self->window_start = arrival;
    }
  }
  gint64 pts = rtp_ns + self->delay;
  return pts < 0 ? 0 : (GstClockTime)pts;
}

static GstFlowReturn push_one(ConfrecRtpOrder *self, GstBuffer *buffer, guint16 seq) {
  guint16 unused_seq;
  guint32 timestamp = 0, ssrc;
  guint payload_type;
  parse_header(buffer, &unused_seq, &timestamp, &ssrc, &payload_type);
  buffer = gst_buffer_make_writable(buffer);
  GstClockTime arrival = GST_BUFFER_PTS(buffer);
  GST_BUFFER_PTS(buffer) = smoothed_pts(self, arrival, timestamp);
  GST_LOG_OBJECT(self, "push #%u ts %u ssrc %u arrival %" GST_TIME_FORMAT " pts %" GST_TIME_FORMAT, seq, timestamp, ssrc, GST_TIME_ARGS(arrival), GST_TIME_ARGS(GST_BUFFER_PTS(buffer)));
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  if (self->discont) {
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  self->have_last = TRUE;
  self->last_seq = seq;
  self->last_timestamp = timestamp;
  self->last_pts = GST_BUFFER_PTS(buffer);
  self->last_arrival = arrival;
  self->expected = (guint16)(seq + 1);
  return gst_pad_push(self->srcpad, buffer);
}

/* Pushes the held packets that now follow on without a gap. */
static GstFlowReturn push_contiguous(ConfrecRtpOrder *self) {
  GstFlowReturn ret = GST_FLOW_OK;
  guint done = 0;
  while (done < self->held_count && (gint16)(self->held[done].seq - self->expected) <= 0) {
    if (self->held[done].seq != self->expected) { /* overtaken: a duplicate of a packet already pushed */
      gst_buffer_unref(self->held[done].buffer);
      done++;
      continue;
    }
    GstFlowReturn pushed = push_one(self, self->held[done].buffer, self->held[done].seq);
    if (ret == GST_FLOW_OK) ret = pushed;
    done++;
  }
  memmove(self->held, self->held + done, (self->held_count - done) * sizeof(Held));
  self->held_count -= done;
  return ret;
}

/*
 * The packets between the last one pushed and `next` are lost: say so downstream with the time span
 * they covered (from the RTP timestamps, shared evenly by sequence number), as rtpjitterbuffer did.
 */
static void announce_loss(ConfrecRtpOrder *self, GstBuffer *next, guint16 next_seq) {
  self->discont = TRUE;
  if (!self->have_last || self->clock_rate <= 0 || !GST_CLOCK_TIME_IS_VALID(self->last_pts)) return;
  guint16 seq;
  guint32 timestamp, ssrc;
  guint payload_type;
  if (!parse_header(next, &seq, &timestamp, &ssrc, &payload_type)) return;
  guint16 steps = (guint16)(next_seq - self->last_seq);
  guint16 lost = (guint16)(steps - 1);
  if (lost == 0) return;
  guint64 span = gst_util_uint64_scale_int((guint32)(timestamp - self->last_timestamp), GST_SECOND, self->clock_rate);
  GstClockTime duration = span * lost / steps;
  GstClockTime start = self->last_pts + span / steps;
  GstStructure *s = gst_structure_new("GstRTPPacketLost", "seqnum", G_TYPE_UINT, (guint)(guint16)(self->last_seq + 1), "timestamp", G_TYPE_UINT64, start,
                                      "duration", G_TYPE_UINT64, duration, "retry", G_TYPE_UINT, 0, NULL);
  GST_DEBUG_OBJECT(self, "lost %u packet(s) before #%u", lost, next_seq);
  gst_pad_push_event(self->srcpad, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, s));
}

/* Gives up on the gap before the oldest held packet. */
static GstFlowReturn release_oldest(ConfrecRtpOrder *self) {
  announce_loss(self, self->held[0].buffer, self->held[0].seq);
  self->expected = self->held[0].seq;
  return push_contiguous(self);
}

static GstFlowReturn release_all(ConfrecRtpOrder *self) {
  GstFlowReturn ret = GST_FLOW_OK;
  while (self->held_count > 0) {
    GstFlowReturn pushed = release_oldest(self);
    if (ret == GST_FLOW_OK) ret = pushed;
  }
  return ret;
}

static void drop_held(ConfrecRtpOrder *self) {
  for (guint i = 0; i < self->held_count; i++) gst_buffer_unref(self->held[i].buffer);
  self->held_count = 0;
}

static void hold(ConfrecRtpOrder *self, GstBuffer *buffer, guint16 seq) {
  if (self->held_count >= MAX_HELD) { /* not reached: chain() releases before the store is full */
    gst_buffer_unref(buffer);
    return;
  }
  guint at = self->held_count;
  for (guint i = 0; i < self->held_count; i++) {
    gint16 order = (gint16)(seq - self->held[i].seq);
    if (order == 0) {
      gst_buffer_unref(buffer); /* a duplicate */
      return;
    }
    if (order < 0) {
      at = i;
      break;
    }
  }
  memmove(self->held + at + 1, self->held + at, (self->held_count - at) * sizeof(Held));
  self->held[at].buffer = buffer;
  self->held[at].seq = seq;
  self->held_count++;
}

/*
 * Whether the gap has been waited for long enough: the sequence has not moved on for `latency`. Timed
 * from the last packet that moved it, not from the oldest held one: while packets keep arriving in
 * order, nothing held is waited for (a stray packet a little ahead, say garbage with the stream's SSRC,
 * is dropped once the sequence passes it instead of pulling the sequence forward to itself).
 */
static gboolean waited_enough(ConfrecRtpOrder *self, GstClockTime now) {
  if (self->held_count == 0) return FALSE;
  if (self->held_count >= MAX_HELD) return TRUE;
  if (!GST_CLOCK_TIME_IS_VALID(now) || !GST_CLOCK_TIME_IS_VALID(self->last_advance)) return TRUE;
  return now > self->last_advance && now - self->last_advance >= self->latency;
}

/*
 * A packet outside the current sequence: too late (its gap was given up, or a duplicate), further ahead
 * than a gap could ever be waited for, or from another SSRC. Dropped, unless FOREIGN_RUN of them in a row continue one another: then the sender
 * really restarted its sequence and it becomes the current one. Garbage, however much of it, never
 * forms such a run, so it cannot capture the stream (a single stray packet once set the expected
 * number, and the real packets after it were dropped as late).
 */
static GstFlowReturn foreign(ConfrecRtpOrder *self, GstBuffer *buffer, guint16 seq, guint32 ssrc, guint payload_type, GstClockTime now) {
  gboolean continues = self->foreign_run > 0 && ssrc == self->foreign_ssrc && seq == (guint16)(self->foreign_seq + 1);
  self->foreign_run = continues ? self->foreign_run + 1 : 1;
  self->foreign_ssrc = ssrc;
  self->foreign_seq = seq;
  if (self->foreign_run < FOREIGN_RUN) {
    GST_DEBUG_OBJECT(self, "dropped #%u (SSRC %u), expecting #%u", seq, ssrc, self->expected);
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  GST_DEBUG_OBJECT(self, "the sequence restarts at #%u (SSRC %u)", seq, ssrc);
  GstFlowReturn ret = release_all(self);
  self->foreign_run = 0;
  self->last_advance = now;
  self->ssrc = ssrc;
  self->payload_type = payload_type;
  self->have_last = FALSE;
  self->have_base = FALSE;
  self->have_delay = FALSE;
  self->discont = TRUE;
  GstFlowReturn pushed = push_one(self, buffer, seq);
  return ret != GST_FLOW_OK ? ret : pushed;
}

/*
 * Whether a packet ahead of the sequence could be the stream's: its RTP time is no further from the
 * last pushed packet's than the time between their arrivals allows, give or take RESYNC_NS. Garbage
 * with the stream's SSRC and a sequence number just ahead was held, then pushed in the real packet's
 * place with a random RTP time and its old arrival time: opusdec stamped its output seconds in the
 * past and the mixer dropped the voice after a flood (garbageRtp.test). Packets in order are not
 * checked: mediasoup moves timestamps when a consumer switches layers, and those come in order.
 */
static gboolean fits_in_time(ConfrecRtpOrder *self, guint32 timestamp, GstClockTime arrival) {
  if (!self->have_last || self->clock_rate <= 0 || !GST_CLOCK_TIME_IS_VALID(arrival) || !GST_CLOCK_TIME_IS_VALID(self->last_arrival)) return TRUE;
  gint64 step_ns = ticks_to_ns((gint32)(timestamp - self->last_timestamp), self->clock_rate);
  gint64 elapsed = (gint64)arrival - (gint64)self->last_arrival;
  return step_ns >= -(gint64)RESYNC_NS && step_ns <= elapsed + (gint64)RESYNC_NS;
}

static GstFlowReturn chain(GstPad *pad, GstObject *parent, GstBuffer *buffer) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)parent;
  guint16 seq;
  guint32 timestamp, ssrc;
  guint payload_type;
  if (!parse_header(buffer, &seq, &timestamp, &ssrc, &payload_type)) {
    gst_buffer_unref(buffer); /* not RTP: the depayloader would drop it too */
    return GST_FLOW_OK;
  }
  GstClockTime now = GST_BUFFER_PTS(buffer);
  if (!self->have_expected) {
    self->have_expected = TRUE;
    self->last_advance = now;
    self->have_ssrc = TRUE;
    self->ssrc = ssrc;
    self->payload_type = payload_type;
    return push_one(self, buffer, seq);
  }
  gint16 distance = (gint16)(seq - self->expected);
  if (ssrc != self->ssrc || distance < 0 || distance >= MAX_HELD) return foreign(self, buffer, seq, ssrc, payload_type, now);
  self->foreign_run = 0;
  if (distance == 0) {
    self->last_advance = now;
    GstFlowReturn ret = push_one(self, buffer, seq);
    GstFlowReturn more = push_contiguous(self);
    return ret != GST_FLOW_OK ? ret : more;
  }
  if (!fits_in_time(self, timestamp, now)) return foreign(self, buffer, seq, ssrc, payload_type, now);
  hold(self, buffer, seq);
  GstFlowReturn ret = GST_FLOW_OK;
  while (waited_enough(self, now)) {
    GstFlowReturn pushed = release_oldest(self);
    if (ret == GST_FLOW_OK) ret = pushed;
    self->last_advance = now;
  }
  return ret;
}

static void read_clock_rate(ConfrecRtpOrder *self, GstCaps *caps) {
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  gint rate = 0;
  if (s && gst_structure_get_int(s, "clock-rate", &rate)) self->clock_rate = rate;
}

static gboolean sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)parent;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      read_clock_rate(self, caps);
      break;
    }
    case GST_EVENT_EOS:
      release_all(self);
      break;
    case GST_EVENT_FLUSH_STOP:
      drop_held(self);
      self->foreign_run = 0;
      self->have_expected = FALSE;
      self->have_last = FALSE;
      self->have_base = FALSE;
      self->have_delay = FALSE;
      break;
    default:
      break;
  }
  return gst_pad_event_default(pad, parent, event);
}

static gboolean src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)parent;
  if (GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_UPSTREAM && self->have_ssrc && gst_event_has_name(event, "GstForceKeyUnit")) {
    event = gst_event_make_writable(event);
    gst_structure_set(gst_event_writable_structure(event), "ssrc", G_TYPE_UINT, self->ssrc, "payload", G_TYPE_UINT, self->payload_type, NULL);
    GST_DEBUG_OBJECT(self, "key frame request for SSRC %u", self->ssrc);
  }
  return gst_pad_event_default(pad, parent, event);
}

static gboolean src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)parent;
  if (GST_QUERY_TYPE(query) != GST_QUERY_LATENCY) return gst_pad_query_default(pad, parent, query);
  if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(query, &live, &min, &max);
  gst_query_set_latency(query, live, min + self->latency, GST_CLOCK_TIME_NONE);
  return TRUE;
}

static GstStateChangeReturn change_state(GstElement *element, GstStateChange transition) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)element;
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(confrec_rtp_order_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    drop_held(self); /* streaming has stopped: the pads were deactivated above */
    self->have_expected = FALSE;
    self->have_last = FALSE;
    self->have_ssrc = FALSE;
    self->foreign_run = 0;
    self->have_base = FALSE;
    self->have_delay = FALSE;
  }
  return ret;
}

static void set_property(GObject *object, guint id, const GValue *value, GParamSpec *spec) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)object;
  if (id == PROP_LATENCY) self->latency = (GstClockTime)g_value_get_uint(value) * GST_MSECOND;
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, spec);
}

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *spec) {
  ConfrecRtpOrder *self = (ConfrecRtpOrder *)object;
  if (id == PROP_LATENCY) g_value_set_uint(value, (guint)(self->latency / GST_MSECOND));
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, spec);
}

static void finalize(GObject *object) {
  drop_held((ConfrecRtpOrder *)object);
  G_OBJECT_CLASS(confrec_rtp_order_parent_class)->finalize(object);
}

static void confrec_rtp_order_class_init(ConfrecRtpOrderClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  object_class->set_property = set_property;
  object_class->get_property = get_property;
  object_class->finalize = finalize;
  g_object_class_install_property(object_class, PROP_LATENCY,
                                  g_param_spec_uint("latency", "Latency", "How long (ms) a gap is waited for before it is declared lost", 0, 10000,
                                                    DEFAULT_LATENCY_MS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  element_class->change_state = change_state;
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "RTP order", "Filter/Network/RTP", "Reorders RTP packets by sequence number on the receiving thread",
                                        "confrec");
}

static void confrec_rtp_order_init(ConfrecRtpOrder *self) {
  self->latency = DEFAULT_LATENCY_MS * GST_MSECOND;
  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, chain);
  gst_pad_set_event_function(self->sinkpad, sink_event);
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_event_function(self->srcpad, src_event);
  gst_pad_set_query_function(self->srcpad, src_query);
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  GST_PAD_SET_PROXY_ALLOCATION(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}

gboolean confrec_register_rtp_order(void) {
  GST_DEBUG_CATEGORY_INIT(rtp_order_debug, RTP_ORDER_ELEMENT, 0, "RTP order");
  return gst_element_register(NULL, RTP_ORDER_ELEMENT, GST_RANK_NONE, confrec_rtp_order_get_type());
}
