/*
 * confrecudpsrc: a UDP source whose sockets, those of every instance in the process, are read by one
 * thread.
 *
 * udpsrc gives each socket a streaming thread of its own, woken by every packet: a per-participant
 * recorder of 12 streams woke its 12 threads 636 times a second, and the thread switches were the
 * largest share of its profile. Here one thread (UDP_RECEIVER_THREAD) waits on all the sockets with
 * epoll; once woken it lets TICK_NS of packets gather, then reads every socket that has any with
 * recvmmsg and pushes their packets downstream, and goes on so a tick at a time while packets come.
 * The process wakes at most 1 s / TICK_NS times a second, whatever the number of streams, and each
 * packet is still stamped with its own arrival: the kernel's receive time (SO_TIMESTAMPNS), not the
 * time it was read.
 *
 * What runs downstream of a socket (order, depayload, decode, a muxer) runs on that thread, so one
 * element blocking there holds every socket's packets back; the kernel keeps them meanwhile
 * (`buffer-size`), and their arrival times stay right. The recorder has one process per recording.
 *
 * Otherwise it stands in for udpsrc as the recorder used it: `address`, `port` (0: the OS picks; read
 * back after NULL→READY, when the socket is bound), `buffer-size`, `caps`; a live source whose
 * buffers carry the running time of their arrival; EOS sent to it goes downstream at once, even if no
 * packet ever came. An empty datagram, or one larger than SLOT_BYTES, is dropped (counted in `dropped`).
 */
/* recvmmsg */
#define _GNU_SOURCE
#include "udpReceiver.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC(udp_receiver_debug);
#define GST_CAT_DEFAULT udp_receiver_debug

/*
 * Longer ticks batch more: each wake-up hands every mixer a burst (at 80 ms one audio block per input,
 * a frame or two per video input) that its thread then takes in one go, where at 20 ms it woke for
 * nearly every buffer (what 40 and 80 ms saved: the commit that set it). The tick adds to the latency
 * the mixers wait for (the latency query below, RECEIVE_TICK_MS in launch.ts), never to the timing of
 * the recording: packets keep their arrival times.
 */
#define TICK_NS (80 * GST_MSECOND)
#define BATCH 32
#define SLOT_BYTES 4096
#define MAX_EVENTS 64
#define DEFAULT_ADDRESS "0.0.0.0"

typedef struct {
  GstElement parent;
  GstPad *srcpad;
  gchar *address;
  gint port;
  gint buffer_size;
  GstCaps *caps;
  int fd;
  /* Held while packets or EOS go downstream: by the reader thread, or by whoever sends EOS. */
  GMutex push_lock;
  gboolean playing;
  gboolean started;
  gboolean ended;
  gboolean discont;
  guint64 received;
  guint64 dropped;
} ConfrecUdpSrc;

typedef struct {
  GstElementClass parent_class;
} ConfrecUdpSrcClass;

enum { PROP_0, PROP_ADDRESS, PROP_PORT, PROP_BUFFER_SIZE, PROP_CAPS, PROP_RECEIVED, PROP_DROPPED, PROP_TICK };

GType confrec_udp_src_get_type(void);
G_DEFINE_TYPE(ConfrecUdpSrc, confrec_udp_src, GST_TYPE_ELEMENT)

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* The reader: one per process, started with the first socket, never stopped. */
static struct {
  GMutex lock;
  GCond idle;
  int epfd;
  /* The registered sources; the reader reads only these. */
  GHashTable *sources;
  /* The source being read now (unregistering waits until it is not). */
  ConfrecUdpSrc *busy;
} reader;

static GstClockTime clock_ns(clockid_t id) {
  struct timespec now;
  clock_gettime(id, &now);
  return (GstClockTime)now.tv_sec * GST_SECOND + (GstClockTime)now.tv_nsec;
}

static void push_stream_start(ConfrecUdpSrc *self) {
  gchar *stream_id = gst_pad_create_stream_id(self->srcpad, GST_ELEMENT(self), NULL);
  gst_pad_push_event(self->srcpad, gst_event_new_stream_start(stream_id));
  g_free(stream_id);
  GST_OBJECT_LOCK(self);
  GstCaps *caps = self->caps ? gst_caps_ref(self->caps) : NULL;
  GST_OBJECT_UNLOCK(self);
  if (caps) {
    gst_pad_push_event(self->srcpad, gst_event_new_caps(caps));
    gst_caps_unref(caps);
  }
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_push_event(self->srcpad, gst_event_new_segment(&segment));
  self->started = TRUE;
}

/* Where the element's running time is now, or GST_CLOCK_TIME_NONE before it plays. */
static GstClockTime running_time_now(ConfrecUdpSrc *self) {
  GstClock *clock = gst_element_get_clock(GST_ELEMENT(self));
  if (!clock) return GST_CLOCK_TIME_NONE;
  GstClockTime now = gst_clock_get_time(clock);
  GstClockTime base = gst_element_get_base_time(GST_ELEMENT(self));
  gst_object_unref(clock);
  return now >= base ? now - base : 0;
}

static GstClockTime arrival_of(struct msghdr *header, GstClockTime read_at_real) {
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(header); cmsg; cmsg = CMSG_NXTHDR(header, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec stamp;
      memcpy(&stamp, CMSG_DATA(cmsg), sizeof stamp);
      return (GstClockTime)stamp.tv_sec * GST_SECOND + (GstClockTime)stamp.tv_nsec;
    }
  }
  return read_at_real;
}

/* A flow error ends this source as udpsrc's streaming thread would: an error on the bus, then EOS. */
static void push_packet(ConfrecUdpSrc *self, const guint8 *data, gsize size, GstClockTime pts) {
  GstBuffer *buffer = gst_buffer_new_memdup(data, size);
  GST_BUFFER_PTS(buffer) = pts;
  if (self->discont) {
    GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    self->discont = FALSE;
  }
  GstFlowReturn ret = gst_pad_push(self->srcpad, buffer);
  if (ret == GST_FLOW_EOS) {
    self->ended = TRUE;
  } else if (ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR(self, ret);
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
    self->ended = TRUE;
  }
}

/* Reads everything the socket holds; pushes it while the element plays, drops it otherwise. */
static void read_socket(ConfrecUdpSrc *self) {
  static guint8 slots[BATCH][SLOT_BYTES];
  static char controls[BATCH][CMSG_SPACE(sizeof(struct timespec))];
  struct mmsghdr messages[BATCH];
  struct iovec vectors[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      vectors[i] = (struct iovec){.iov_base = slots[i], .iov_len = SLOT_BYTES};
      messages[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &vectors[i], .msg_iovlen = 1, .msg_control = controls[i], .msg_controllen = sizeof controls[i]}};
    }
    int count = recvmmsg(self->fd, messages, BATCH, MSG_DONTWAIT, NULL);
    if (count <= 0) {
      if (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) GST_WARNING_OBJECT(self, "recvmmsg: %s", g_strerror(errno));
      return;
    }
    GstClockTime read_at_real = clock_ns(CLOCK_REALTIME);
    GstClockTime running = self->playing ? running_time_now(self) : GST_CLOCK_TIME_NONE;
    for (int i = 0; i < count; i++) {
      if (messages[i].msg_len == 0 || (messages[i].msg_hdr.msg_flags & MSG_TRUNC) || self->ended || !GST_CLOCK_TIME_IS_VALID(running)) {
        self->dropped++;
        continue;
      }
      self->received++;
      GstClockTime arrival = arrival_of(&messages[i].msg_hdr, read_at_real);
      GstClockTime age = read_at_real > arrival ? read_at_real - arrival : 0;
      if (!self->started) push_stream_start(self);
      push_packet(self, slots[i], messages[i].msg_len, running > age ? running - age : 0);
    }
    if (count < BATCH) return;
  }
}

static void read_source(ConfrecUdpSrc *self) {
  g_mutex_lock(&reader.lock);
  gboolean registered = g_hash_table_contains(reader.sources, self);
  if (registered) reader.busy = self;
  g_mutex_unlock(&reader.lock);
  if (!registered) return;
  g_mutex_lock(&self->push_lock);
  read_socket(self);
  g_mutex_unlock(&self->push_lock);
  g_mutex_lock(&reader.lock);
  reader.busy = NULL;
  g_cond_broadcast(&reader.idle);
  g_mutex_unlock(&reader.lock);
}

static void sleep_until(GstClockTime deadline) {
  struct timespec until = {.tv_sec = (time_t)(deadline / GST_SECOND), .tv_nsec = (long)(deadline % GST_SECOND)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
  }
}

/*
 * Idle, it blocks in epoll until a packet comes. Then, as long as packets keep coming, it sleeps to the
 * next tick and reads what gathered meanwhile: one wake-up a tick, where waking on the packet and then
 * sleeping out the tick would be two.
 */
static gpointer read_loop(gpointer unused) {
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    if (epoll_wait(reader.epfd, events, MAX_EVENTS, -1) < 0) {
      if (errno == EINTR) continue;
      GST_ERROR("epoll_wait: %s", g_strerror(errno));
      return NULL;
    }
    GstClockTime tick = clock_ns(CLOCK_MONOTONIC);
    for (;;) {
      tick += TICK_NS;
      sleep_until(tick);
      int ready = epoll_wait(reader.epfd, events, MAX_EVENTS, 0);
      if (ready <= 0) break;
      for (int i = 0; i < ready; i++) read_source(events[i].data.ptr);
      GstClockTime now = clock_ns(CLOCK_MONOTONIC);
      if (now > tick + TICK_NS) tick = now; /* reading took longer than a tick: no catching up */
    }
  }
  return NULL;
}

static gpointer start_reader(gpointer unused) {
  g_mutex_init(&reader.lock);
  g_cond_init(&reader.idle);
  reader.sources = g_hash_table_new(g_direct_hash, g_direct_equal);
  reader.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (reader.epfd < 0) return GINT_TO_POINTER(FALSE);
  GThread *thread = g_thread_try_new(UDP_RECEIVER_THREAD, read_loop, NULL, NULL);
  if (!thread) return GINT_TO_POINTER(FALSE);
  g_thread_unref(thread);
  return GINT_TO_POINTER(TRUE);
}

static gboolean register_source(ConfrecUdpSrc *self) {
  static GOnce once = G_ONCE_INIT;
  if (!GPOINTER_TO_INT(g_once(&once, start_reader, NULL))) return FALSE;
  g_mutex_lock(&reader.lock);
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = self};
  gboolean ok = epoll_ctl(reader.epfd, EPOLL_CTL_ADD, self->fd, &event) == 0;
  if (ok) g_hash_table_add(reader.sources, self);
  g_mutex_unlock(&reader.lock);
  return ok;
}

/* Returns once the reader no longer reads this source and never will again. */
static void unregister_source(ConfrecUdpSrc *self) {
  if (!reader.sources) return;
  g_mutex_lock(&reader.lock);
  if (g_hash_table_remove(reader.sources, self)) epoll_ctl(reader.epfd, EPOLL_CTL_DEL, self->fd, NULL);
  while (reader.busy == self) g_cond_wait(&reader.idle, &reader.lock);
  g_mutex_unlock(&reader.lock);
}

static gboolean open_socket(ConfrecUdpSrc *self) {
  struct sockaddr_storage address = {0};
  socklen_t length;
  GST_OBJECT_LOCK(self);
  const gchar *text = self->address ? self->address : DEFAULT_ADDRESS;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&address;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&address;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((guint16)self->port);
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((guint16)self->port);
    length = sizeof *v6;
  } else {
    GST_OBJECT_UNLOCK(self);
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("not a numeric IP address: %s", text), (NULL));
    return FALSE;
  }
  gint buffer_size = self->buffer_size;
  GST_OBJECT_UNLOCK(self);
  int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int on = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 || bind(fd, (struct sockaddr *)&address, length) < 0) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("could not bind a UDP socket: %s", g_strerror(errno)), (NULL));
    if (fd >= 0) close(fd);
    return FALSE;
  }
  /*
   * The socket holds a tick of packets before they are read. SO_RCVBUF is capped by
   * net.core.rmem_max (208 KiB by default); SO_RCVBUFFORCE, allowed with CAP_NET_ADMIN, is not.
   */
  if (buffer_size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
  struct sockaddr_storage bound;
  socklen_t bound_length = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bound_length);
  GST_OBJECT_LOCK(self);
  self->fd = fd;
  self->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

static void close_socket(ConfrecUdpSrc *self) {
  if (self->fd < 0) return;
  close(self->fd);
  self->fd = -1;
}

static GstStateChangeReturn change_state(GstElement *element, GstStateChange transition) {
  ConfrecUdpSrc *self = (ConfrecUdpSrc *)element;
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!open_socket(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      g_mutex_lock(&self->push_lock);
      self->started = FALSE;
      self->ended = FALSE;
      self->discont = TRUE;
      g_mutex_unlock(&self->push_lock);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_mutex_lock(&self->push_lock);
      self->playing = TRUE;
      g_mutex_unlock(&self->push_lock);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock(&self->push_lock);
      self->playing = FALSE;
      g_mutex_unlock(&self->push_lock);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      unregister_source(self);
      break;
    default:
      break;
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(confrec_udp_src_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) return ret;
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* Registered once the pad is active, so the reader never pushes on an inactive one. */
      if (!register_source(self)) {
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("could not watch the socket: %s", g_strerror(errno)), (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      return GST_STATE_CHANGE_NO_PREROLL;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      return GST_STATE_CHANGE_NO_PREROLL;
    case GST_STATE_CHANGE_READY_TO_NULL:
      close_socket(self);
      break;
    default:
      break;
  }
  return ret;
}

/* EOS goes downstream from the caller's thread, between two of the reader's pushes. */
static gboolean send_event(GstElement *element, GstEvent *event) {
  ConfrecUdpSrc *self = (ConfrecUdpSrc *)element;
  if (GST_EVENT_TYPE(event) != GST_EVENT_EOS) {
    gst_event_unref(event);
    return FALSE;
  }
  g_mutex_lock(&self->push_lock);
  if (!self->ended) {
    self->ended = TRUE;
    if (!self->started) push_stream_start(self);
    gst_pad_push_event(self->srcpad, event);
  } else {
    gst_event_unref(event);
  }
  g_mutex_unlock(&self->push_lock);
  return TRUE;
}

static gboolean src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  ConfrecUdpSrc *self = (ConfrecUdpSrc *)parent;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_LATENCY:
      /* A packet waits up to a tick before it is read; the socket holds what comes meanwhile. */
      gst_query_set_latency(query, TRUE, TICK_NS, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS: {
      GstCaps *filter;
      gst_query_parse_caps(query, &filter);
      GST_OBJECT_LOCK(self);
      GstCaps *caps = self->caps ? gst_caps_ref(self->caps) : gst_caps_new_any();
      GST_OBJECT_UNLOCK(self);
      if (filter) {
        GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = both;
      }
      gst_query_set_caps_result(query, caps);
      gst_caps_unref(caps);
      return TRUE;
    }
    case GST_QUERY_SCHEDULING:
      gst_query_set_scheduling(query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1, 0);
      gst_query_add_scheduling_mode(query, GST_PAD_MODE_PUSH);
      return TRUE;
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

/* Nothing upstream of a socket: key-frame requests and the like end here, as at udpsrc. */
static gboolean src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  gst_event_unref(event);
  return TRUE;
}

static void set_property(GObject *object, guint id, const GValue *value, GParamSpec *spec) {
  ConfrecUdpSrc *self = (ConfrecUdpSrc *)object;
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_ADDRESS:
      g_free(self->address);
      self->address = g_value_dup_string(value);
      break;
    case PROP_PORT:
      self->port = g_value_get_int(value);
      break;
    case PROP_BUFFER_SIZE:
      self->buffer_size = g_value_get_int(value);
      break;
    case PROP_CAPS:
      gst_caps_replace(&self->caps, (GstCaps *)gst_value_get_caps(value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, spec);
  }
  GST_OBJECT_UNLOCK(self);
}

static void get_property(GObject *object, guint id, GValue *value, GParamSpec *spec) {
  ConfrecUdpSrc *self = (ConfrecUdpSrc *)object;
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_ADDRESS:
      g_value_set_string(value, self->address ? self->address : DEFAULT_ADDRESS);
      break;
    case PROP_PORT:
      g_value_set_int(value, self->port);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int(value, self->buffer_size);
      break;
    case PROP_CAPS:
      gst_value_set_caps(value, self->caps);
      break;
    case PROP_RECEIVED:
      g_value_set_uint64(value, self->received);
      break;
    case PROP_DROPPED:
      g_value_set_uint64(value, self->dropped);
      break;
    case PROP_TICK:
      g_value_set_uint(value, (guint)(TICK_NS / GST_MSECOND));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, spec);
  }
  GST_OBJECT_UNLOCK(self);
}

static void finalize(GObject *object) {
  ConfrecUdpSrc *self = (ConfrecUdpSrc *)object;
  unregister_source(self);
  close_socket(self);
  g_free(self->address);
  gst_caps_replace(&self->caps, NULL);
  g_mutex_clear(&self->push_lock);
  G_OBJECT_CLASS(confrec_udp_src_parent_class)->finalize(object);
}

static void confrec_udp_src_class_init(ConfrecUdpSrcClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  object_class->set_property = set_property;
  object_class->get_property = get_property;
  object_class->finalize = finalize;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;
  g_object_class_install_property(object_class, PROP_ADDRESS, g_param_spec_string("address", "Address", "The numeric IP address to bind", DEFAULT_ADDRESS, rw));
  g_object_class_install_property(object_class, PROP_PORT, g_param_spec_int("port", "Port", "The port to bind (0: any); the bound port once READY", 0, 65535, 0, rw));
  g_object_class_install_property(object_class, PROP_BUFFER_SIZE,
                                  g_param_spec_int("buffer-size", "Buffer size", "The socket's receive buffer to ask for (0: the default)", 0, G_MAXINT, 0, rw));
  g_object_class_install_property(object_class, PROP_CAPS, g_param_spec_boxed("caps", "Caps", "The caps of the packets", GST_TYPE_CAPS, rw));
  g_object_class_install_property(object_class, PROP_RECEIVED, g_param_spec_uint64("received", "Received", "Packets pushed downstream", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(object_class, PROP_DROPPED,
                                  g_param_spec_uint64("dropped", "Dropped", "Packets dropped: too large, or not playing", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(object_class, PROP_TICK,
                                  g_param_spec_uint("tick", "Tick", "How long (ms) packets gather between two reads: the source's latency", 0, G_MAXUINT, TICK_NS / GST_MSECOND, ro));
  element_class->change_state = change_state;
  element_class->send_event = send_event;
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "UDP source on a shared reader", "Source/Network",
                                        "Receives UDP packets; one thread per process reads every such socket", "confrec");
}

static void confrec_udp_src_init(ConfrecUdpSrc *self) {
  self->fd = -1;
  g_mutex_init(&self->push_lock);
  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, src_query);
  gst_pad_set_event_function(self->srcpad, src_event);
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
}

gboolean confrec_register_udp_receiver(void) {
  GST_DEBUG_CATEGORY_INIT(udp_receiver_debug, UDP_RECEIVER_ELEMENT, 0, "UDP source on a shared reader");
  return gst_element_register(NULL, UDP_RECEIVER_ELEMENT, GST_RANK_NONE, confrec_udp_src_get_type());
}
