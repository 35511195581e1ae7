/*
 * The GStreamer calls a recorder needs to keep ONE pipeline for its whole life while people come and
 * go: bins parsed and added to a playing pipeline, request pads, pad properties set at runtime.
 * gstreamer-superficial has none of these, which is what forced the inter* hops between pipelines.
 *
 * Every call runs on the JavaScript thread and never calls back into JavaScript: the bus is read by
 * popMessages() (non-blocking), which a threadsafe function asks for when messages are posted, so no
 * GStreamer thread ever touches V8. Elements are found by name
 * (gst_bin_get_by_name recurses into bins), so names must be unique in a pipeline.
 */
/* SCHED_BATCH */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <gst/gst.h>
#include <gio/gio.h>
#include <errno.h>
#include <sched.h>
#include <string.h>
#include "rtpOrder.h"
#include "udpReceiver.h"
#include "opusDecoder.h"

typedef struct {
  GstElement *pipeline;
  GstBus *bus;
  /* Calls the JavaScript drain on the loop thread when the bus has messages; NULL without one. */
  napi_threadsafe_function on_message;
  /* 1 from a notification until the drain it asked for starts: one call queued at a time. */
  gint notified;
} Graph;

#define CHECK(env, call)                                           \
  do {                                                             \
    if ((call) != napi_ok) {                                       \
      napi_throw_error((env), "EGST", "N-API call failed: " #call); \
      return NULL;                                                 \
    }                                                              \
  } while (0)

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value undefined(napi_env env) {
  napi_value value;
  napi_get_undefined(env, &value);
  return value;
}

/* A JS string argument as a newly allocated C string (g_free it), or NULL (error thrown). */
static char *string_arg(napi_env env, napi_value value) {
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    napi_throw_type_error(env, "EGST_ARG", "expected a string");
    return NULL;
  }
  char *text = g_malloc(length + 1);
  napi_get_value_string_utf8(env, value, text, length + 1, &length);
  return text;
}

static void graph_destroy(Graph *graph) {
  if (!graph->pipeline) return;
  gst_element_set_state(graph->pipeline, GST_STATE_NULL);
  if (graph->on_message) {
    gst_bus_set_sync_handler(graph->bus, NULL, NULL, NULL);
    napi_release_threadsafe_function(graph->on_message, napi_tsfn_abort);
    graph->on_message = NULL;
  }
  gst_object_unref(graph->bus);
  gst_object_unref(graph->pipeline);
  graph->pipeline = NULL;
  graph->bus = NULL;
}

static void graph_finalize(napi_env env, void *data, void *hint) {
  Graph *graph = data;
  graph_destroy(graph);
  g_free(graph);
}

/* Reads argc arguments; the first must be a live graph. */
static Graph *graph_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < expected) {
    napi_throw_type_error(env, "EGST_ARG", "missing arguments");
    return NULL;
  }
  Graph *graph = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&graph) != napi_ok || !graph) {
    napi_throw_type_error(env, "EGST_ARG", "not a pipeline handle");
    return NULL;
  }
  if (!graph->pipeline) {
    napi_throw_error(env, "EGST_CLOSED", "pipeline is destroyed");
    return NULL;
  }
  return graph;
}

/* The named element (a new reference), the pipeline itself for "", or NULL with an error thrown. */
static GstElement *element_arg(napi_env env, Graph *graph, napi_value value) {
  char *name = string_arg(env, value);
  if (!name) return NULL;
  GstElement *element =
      name[0] == '\0' ? gst_object_ref(graph->pipeline) : gst_bin_get_by_name(GST_BIN(graph->pipeline), name);
  if (!element) {
    char *message = g_strdup_printf("no element named %s", name);
    napi_throw_error(env, "EGST_NO_ELEMENT", message);
    g_free(message);
  }
  g_free(name);
  return element;
}

static GstPad *pad_arg(napi_env env, GstElement *element, napi_value value) {
  char *name = string_arg(env, value);
  if (!name) return NULL;
  GstPad *pad = gst_element_get_static_pad(element, name);
  if (!pad) {
    char *message = g_strdup_printf("%s has no pad %s", GST_ELEMENT_NAME(element), name);
    napi_throw_error(env, "EGST_NO_PAD", message);
    g_free(message);
  }
  g_free(name);
  return pad;
}

/*
 * Runs on whichever thread posts the message: queues one call of the JavaScript drain unless one is
 * pending, and leaves the message on the bus for popMessages(). Nothing runs while the bus is quiet,
 * where a timer per pipeline woke the process ten times a second for each.
 */
static GstBusSyncReply notify_message(GstBus *bus, GstMessage *message, gpointer data) {
  Graph *graph = data;
  if (g_atomic_int_compare_and_exchange(&graph->notified, 0, 1)) {
    napi_call_threadsafe_function(graph->on_message, NULL, napi_tsfn_nonblocking);
  }
  return GST_BUS_PASS;
}

static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return fail(env, "EGST_ARG", "missing description");
  GError *error = NULL;
  if (!gst_init_check(NULL, NULL, &error)) {
    napi_value result = fail(env, "EGST_INIT", error ? error->message : "gst_init failed");
    g_clear_error(&error);
    return result;
  }
  char *description = string_arg(env, argv[0]);
  if (!description) return NULL;
  GstElement *pipeline = gst_parse_launch_full(description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  g_free(description);
  if (!pipeline || error) {
    napi_value result = fail(env, "EGST_PARSE", error ? error->message : "could not parse the pipeline");
    g_clear_error(&error);
    if (pipeline) gst_object_unref(pipeline);
    return result;
  }
  if (!GST_IS_PIPELINE(pipeline)) {
    GstElement *wrapper = gst_pipeline_new(NULL);
    gst_bin_add(GST_BIN(wrapper), pipeline);
    pipeline = wrapper;
  }
  Graph *graph = g_new0(Graph, 1);
  graph->pipeline = pipeline;
  graph->bus = gst_element_get_bus(pipeline);
  napi_valuetype callback_type = napi_undefined;
  if (argc >= 2) CHECK(env, napi_typeof(env, argv[1], &callback_type));
  if (callback_type == napi_function) {
    napi_value name;
    CHECK(env, napi_create_string_utf8(env, "gstBusMessage", NAPI_AUTO_LENGTH, &name));
    CHECK(env, napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, NULL, &graph->on_message));
    // The pipeline does not keep the process alive; its owner closes it.
    CHECK(env, napi_unref_threadsafe_function(env, graph->on_message));
    gst_bus_set_sync_handler(graph->bus, notify_message, graph, NULL);
  }
  napi_value handle;
  CHECK(env, napi_create_external(env, graph, graph_finalize, NULL, &handle));
  return handle;
}

static napi_value destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Graph *graph = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&graph) != napi_ok || !graph) {
    return fail(env, "EGST_ARG", "not a pipeline handle");
  }
  graph_destroy(graph);
  return undefined(env);
}

static napi_value set_state(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Graph *graph = graph_args(env, info, 3, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  char *name = string_arg(env, argv[2]);
  if (!name) {
    gst_object_unref(element);
    return NULL;
  }
  GstState state = strcmp(name, "playing") == 0 ? GST_STATE_PLAYING
                   : strcmp(name, "paused") == 0 ? GST_STATE_PAUSED
                   : strcmp(name, "ready") == 0  ? GST_STATE_READY
                                                 : GST_STATE_NULL;
  g_free(name);
  GstStateChangeReturn change = gst_element_set_state(element, state);
  gst_object_unref(element);
  napi_value result;
  CHECK(env, napi_create_string_utf8(env, gst_element_state_change_return_get_name(change), NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value sync_state(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Graph *graph = graph_args(env, info, 2, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  gboolean synced = gst_element_sync_state_with_parent(element);
  gst_object_unref(element);
  if (!synced) return fail(env, "EGST_STATE", "could not sync the element's state with the pipeline");
  return undefined(env);
}

/* FALSE, with EGST_NO_PROPERTY thrown, if the object has no such property. */
static gboolean has_property(napi_env env, GObject *object, const char *property) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(object), property)) return TRUE;
  char *message = g_strdup_printf("%s has no property %s", GST_OBJECT_NAME(object), property);
  fail(env, "EGST_NO_PROPERTY", message);
  g_free(message);
  return FALSE;
}

/* g_object property set from its string form (gst_util_set_object_arg parses enums, caps, fractions). */
static napi_value set_object_property(napi_env env, GObject *object, napi_value property_value, napi_value value) {
  char *property = string_arg(env, property_value);
  if (!property) return NULL;
  char *text = string_arg(env, value);
  if (!text) {
    g_free(property);
    return NULL;
  }
  napi_value result = NULL;
  if (has_property(env, object, property)) {
    gst_util_set_object_arg(object, property, text);
    result = undefined(env);
  }
  g_free(property);
  g_free(text);
  return result;
}

static napi_value set_property(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Graph *graph = graph_args(env, info, 4, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  napi_value result = set_object_property(env, G_OBJECT(element), argv[2], argv[3]);
  gst_object_unref(element);
  return result;
}

static napi_value set_pad_property(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  Graph *graph = graph_args(env, info, 5, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  GstPad *pad = pad_arg(env, element, argv[2]);
  gst_object_unref(element);
  if (!pad) return NULL;
  napi_value result = set_object_property(env, G_OBJECT(pad), argv[3], argv[4]);
  gst_object_unref(pad);
  return result;
}

/*
 * Reads the (graph, element, property) arguments and the property's value into `value`; FALSE, with
 * an exception thrown, when they name no such property or (with `required`) one not of that type.
 */
static gboolean read_element_property(napi_env env, napi_callback_info info, GType required, GValue *value) {
  napi_value argv[3];
  Graph *graph = graph_args(env, info, 3, argv);
  if (!graph) return FALSE;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return FALSE;
  char *property = string_arg(env, argv[2]);
  if (!property) {
    gst_object_unref(element);
    return FALSE;
  }
  GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), property);
  gboolean found = spec && (required == G_TYPE_INVALID || g_type_is_a(spec->value_type, required));
  if (found) {
    g_value_init(value, spec->value_type);
    g_object_get_property(G_OBJECT(element), property, value);
  } else {
    const char *kind = required == G_TYPE_INVALID ? "" : g_type_name(required);
    char *message = g_strdup_printf("%s has no %s property %s", GST_ELEMENT_NAME(element), kind, property);
    fail(env, "EGST_NO_PROPERTY", message);
    g_free(message);
  }
  g_free(property);
  gst_object_unref(element);
  return found;
}

/* Numbers and booleans as themselves; everything else in its serialized form (caps, structures). */
static napi_value get_property(napi_env env, napi_callback_info info) {
  GValue value = G_VALUE_INIT;
  if (!read_element_property(env, info, G_TYPE_INVALID, &value)) return NULL;
  napi_value result;
  switch (G_TYPE_FUNDAMENTAL(G_VALUE_TYPE(&value))) {
    case G_TYPE_BOOLEAN:
      napi_get_boolean(env, g_value_get_boolean(&value), &result);
      break;
    case G_TYPE_INT:
      napi_create_double(env, g_value_get_int(&value), &result);
      break;
    case G_TYPE_UINT:
      napi_create_double(env, g_value_get_uint(&value), &result);
      break;
    case G_TYPE_INT64:
      napi_create_double(env, (double)g_value_get_int64(&value), &result);
      break;
    case G_TYPE_UINT64:
      napi_create_double(env, (double)g_value_get_uint64(&value), &result);
      break;
    case G_TYPE_DOUBLE:
      napi_create_double(env, g_value_get_double(&value), &result);
      break;
    case G_TYPE_FLOAT:
      napi_create_double(env, g_value_get_float(&value), &result);
      break;
    case G_TYPE_STRING: {
      const char *text = g_value_get_string(&value);
      if (text) napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
      else napi_get_null(env, &result);
      break;
    }
    default: {
      // A structure (basesink's stats) as gst_structure_to_string writes it; serialized, it is quoted and escaped.
      const GstStructure *structure = G_VALUE_HOLDS(&value, GST_TYPE_STRUCTURE) ? gst_value_get_structure(&value) : NULL;
      char *text = structure ? gst_structure_to_string(structure) : gst_value_serialize(&value);
      if (text) napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
      else napi_get_null(env, &result);
      g_free(text);
    }
  }
  g_value_unset(&value);
  return result;
}

/*
 * The local port of the GSocket an element holds in `property` (udpsink's used-socket), or 0 while it
 * has none. Lets a sink bind port 0 and the caller learn the port afterwards: a port chosen free and
 * bound later can be taken by another socket in between.
 */
static napi_value socket_port(napi_env env, napi_callback_info info) {
  GValue value = G_VALUE_INIT;
  if (!read_element_property(env, info, G_TYPE_SOCKET, &value)) return NULL;
  GSocket *socket = g_value_get_object(&value);
  guint port = 0;
  if (socket) {
    GSocketAddress *address = g_socket_get_local_address(socket, NULL);
    if (address && G_IS_INET_SOCKET_ADDRESS(address)) port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(address));
    if (address) g_object_unref(address);
  }
  g_value_unset(&value);
  napi_value result;
  napi_create_uint32(env, port, &result);
  return result;
}

static napi_value pad_caps(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Graph *graph = graph_args(env, info, 3, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  GstPad *pad = pad_arg(env, element, argv[2]);
  gst_object_unref(element);
  if (!pad) return NULL;
  GstCaps *caps = gst_pad_get_current_caps(pad);
  gst_object_unref(pad);
  napi_value result;
  if (!caps) {
    napi_get_null(env, &result);
    return result;
  }
  char *text = gst_caps_to_string(caps);
  gst_caps_unref(caps);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  g_free(text);
  return result;
}

static napi_value request_pad(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Graph *graph = graph_args(env, info, 3, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  char *template_name = string_arg(env, argv[2]);
  if (!template_name) {
    gst_object_unref(element);
    return NULL;
  }
  GstPad *pad = gst_element_request_pad_simple(element, template_name);
  g_free(template_name);
  gst_object_unref(element);
  if (!pad) return fail(env, "EGST_NO_PAD", "the element gave no request pad");
  char *name = gst_pad_get_name(pad);
  gst_object_unref(pad);
  napi_value result;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &result);
  g_free(name);
  return result;
}

static napi_value release_pad(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Graph *graph = graph_args(env, info, 3, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  GstPad *pad = pad_arg(env, element, argv[2]);
  if (pad) {
    gst_element_release_request_pad(element, pad);
    gst_object_unref(pad);
  }
  gst_object_unref(element);
  return pad ? undefined(env) : NULL;
}

/*
 * Parses a bin, names it, ghosts the src pad of its element `output` as the bin's "src" (only that
 * one: ghosting every unlinked pad would also take the pads a delayed link waits for, such as
 * rtpbin's, whose source pads appear with the first packet) and adds it to the pipeline, still in
 * NULL state.
 */
static napi_value add_bin(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Graph *graph = graph_args(env, info, 4, argv);
  if (!graph) return NULL;
  char *description = string_arg(env, argv[1]);
  if (!description) return NULL;
  char *name = string_arg(env, argv[2]);
  char *output = name ? string_arg(env, argv[3]) : NULL;
  if (!output) {
    g_free(description);
    g_free(name);
    return NULL;
  }
  GError *error = NULL;
  GstElement *bin = gst_parse_bin_from_description_full(description, FALSE, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  g_free(description);
  napi_value result = undefined(env);
  if (!bin || error) {
    result = fail(env, "EGST_PARSE", error ? error->message : "could not parse the bin");
    g_clear_error(&error);
    if (bin) gst_object_unref(bin);
    bin = NULL;
  }
  if (bin && output[0] != '\0') {
    GstElement *last = gst_bin_get_by_name(GST_BIN(bin), output);
    GstPad *pad = last ? gst_element_get_static_pad(last, "src") : NULL;
    if (!pad || !gst_element_add_pad(bin, gst_ghost_pad_new("src", pad))) {
      result = fail(env, "EGST_NO_PAD", "the bin's output element has no src pad");
      gst_object_unref(bin);
      bin = NULL;
    }
    if (pad) gst_object_unref(pad);
    if (last) gst_object_unref(last);
  }
  if (bin) {
    gst_object_set_name(GST_OBJECT(bin), name);
    if (!gst_bin_add(GST_BIN(graph->pipeline), bin)) result = fail(env, "EGST_ADD", "could not add the bin (name taken?)");
  }
  g_free(name);
  g_free(output);
  return result;
}

/* Links src (pad name or null: any) to sink (pad name or null). */
static napi_value link_elements(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  Graph *graph = graph_args(env, info, 5, argv);
  if (!graph) return NULL;
  GstElement *source = element_arg(env, graph, argv[1]);
  if (!source) return NULL;
  GstElement *sink = element_arg(env, graph, argv[3]);
  if (!sink) {
    gst_object_unref(source);
    return NULL;
  }
  napi_valuetype type;
  char *source_pad = NULL;
  char *sink_pad = NULL;
  napi_typeof(env, argv[2], &type);
  if (type == napi_string) source_pad = string_arg(env, argv[2]);
  napi_typeof(env, argv[4], &type);
  if (type == napi_string) sink_pad = string_arg(env, argv[4]);
  gboolean linked = gst_element_link_pads(source, source_pad, sink, sink_pad);
  g_free(source_pad);
  g_free(sink_pad);
  gst_object_unref(source);
  gst_object_unref(sink);
  if (!linked) return fail(env, "EGST_LINK", "could not link the elements");
  return undefined(env);
}

/* Stops an element (a bin: its threads are joined here) and takes it out of the pipeline. */
static napi_value remove_element(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Graph *graph = graph_args(env, info, 2, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  gst_element_set_locked_state(element, TRUE);
  gst_element_set_state(element, GST_STATE_NULL);
  GstObject *parent = gst_object_get_parent(GST_OBJECT(element));
  if (parent) {
    gst_bin_remove(GST_BIN(parent), element);
    gst_object_unref(parent);
  }
  gst_object_unref(element);
  return undefined(env);
}

static napi_value send_eos(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Graph *graph = graph_args(env, info, 2, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  gboolean sent = gst_element_send_event(element, gst_event_new_eos());
  gst_object_unref(element);
  napi_value result;
  napi_get_boolean(env, sent, &result);
  return result;
}

static napi_value position(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Graph *graph = graph_args(env, info, 1, argv);
  if (!graph) return NULL;
  gint64 nanoseconds = -1;
  napi_value result;
  if (!gst_element_query_position(graph->pipeline, GST_FORMAT_TIME, &nanoseconds)) nanoseconds = -1;
  napi_create_double(env, nanoseconds < 0 ? -1 : (double)nanoseconds / GST_SECOND, &result);
  return result;
}

static GstPadProbeReturn drop_untimestamped(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer && !GST_BUFFER_PTS_IS_VALID(buffer)) {
    GST_WARNING_OBJECT(pad, "dropping a buffer without PTS");
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

/*
 * Drops every buffer without a PTS that leaves the element's src pad: mp4mux fails the whole file on
 * one ("Buffer has no PTS"), and now and then h264parse hands it one.
 */
static napi_value drop_untimestamped_buffers(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Graph *graph = graph_args(env, info, 2, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  GstPad *pad = gst_element_get_static_pad(element, "src");
  gst_object_unref(element);
  if (!pad) return fail(env, "EGST_NO_PAD", "the element has no src pad");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, drop_untimestamped, NULL, NULL);
  gst_object_unref(pad);
  return undefined(env);
}

typedef struct {
  GObject *object;
  char *property;
  char *value;
} PendingProperty;

static void pending_property_free(gpointer data) {
  PendingProperty *pending = data;
  g_object_unref(pending->object);
  g_free(pending->property);
  g_free(pending->value);
  g_free(pending);
}

static GstPadProbeReturn apply_pending_property(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  PendingProperty *pending = user_data;
  gst_util_set_object_arg(pending->object, pending->property, pending->value);
  return GST_PAD_PROBE_REMOVE;
}

/*
 * Sets a property on the element's streaming thread, just before its next buffer. For a property the
 * element applies to its current caps (aspectratiocrop's aspect-ratio): set from our thread while a
 * caps event was going through, aspectratiocrop cropped with the caps before it and videocrop stayed
 * configured for the old size, so every later frame was cut wrong (a black tile) until the next caps.
 */
static napi_value set_property_in_stream(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  Graph *graph = graph_args(env, info, 4, argv);
  if (!graph) return NULL;
  GstElement *element = element_arg(env, graph, argv[1]);
  if (!element) return NULL;
  char *property = string_arg(env, argv[2]);
  char *value = property ? string_arg(env, argv[3]) : NULL;
  GstPad *pad = value ? gst_element_get_static_pad(element, "sink") : NULL;
  napi_value result = NULL;
  if (!value) {
    /* string_arg has thrown */
  } else if (!has_property(env, G_OBJECT(element), property)) {
    /* thrown */
  } else if (!pad) {
    result = fail(env, "EGST_NO_PAD", "the element has no sink pad");
  } else {
    PendingProperty *pending = g_new0(PendingProperty, 1);
    pending->object = G_OBJECT(gst_object_ref(element));
    pending->property = property;
    pending->value = value;
    property = value = NULL;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, apply_pending_property, pending, pending_property_free);
    result = undefined(env);
  }
  if (pad) gst_object_unref(pad);
  g_free(property);
  g_free(value);
  gst_object_unref(element);
  return result;
}

static void set_string(napi_env env, napi_value object, const char *key, const char *text) {
  napi_value value;
  if (!text) return;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, object, key, value);
}

/*
 * The bus messages a recorder acts on (eos, error, warning), oldest first, without blocking. A latency
 * message is answered here: a bin added to a playing pipeline can raise the pipeline's latency.
 */
static napi_value pop_messages(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Graph *graph = graph_args(env, info, 1, argv);
  if (!graph) return NULL;
  napi_value list;
  CHECK(env, napi_create_array(env, &list));
  uint32_t count = 0;
  GstMessage *message;
  g_atomic_int_set(&graph->notified, 0);
  GstMessageType wanted = GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_LATENCY;
  while ((message = gst_bus_pop_filtered(graph->bus, wanted)) != NULL) {
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_LATENCY) {
      gst_bin_recalculate_latency(GST_BIN(graph->pipeline));
      gst_message_unref(message);
      continue;
    }
    napi_value entry;
    napi_create_object(env, &entry);
    set_string(env, entry, "type", GST_MESSAGE_TYPE_NAME(message));
    set_string(env, entry, "source", GST_MESSAGE_SRC_NAME(message));
    if (GST_MESSAGE_SRC(message)) {
      char *path = gst_object_get_path_string(GST_MESSAGE_SRC(message));
      set_string(env, entry, "path", path);
      g_free(path);
    }
    GError *error = NULL;
    char *debug = NULL;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) gst_message_parse_error(message, &error, &debug);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) gst_message_parse_warning(message, &error, &debug);
    if (error) set_string(env, entry, "message", error->message);
    set_string(env, entry, "debug", debug);
    g_clear_error(&error);
    g_free(debug);
    gst_message_unref(message);
    napi_set_element(env, list, count++, entry);
  }
  return list;
}

/*
 * Initializes GStreamer and registers the addon's own elements in this process, so launch strings
 * parsed by anyone here (gstreamer-superficial too) can use them. Called once when the addon loads.
 */
static napi_value register_elements(napi_env env, napi_callback_info info) {
  GError *error = NULL;
  if (!gst_init_check(NULL, NULL, &error)) {
    napi_value result = fail(env, "EGST_INIT", error ? error->message : "gst_init failed");
    g_clear_error(&error);
    return result;
  }
  if (!confrec_register_rtp_order()) return fail(env, "EGST_REGISTER", "could not register " RTP_ORDER_ELEMENT);
  if (!confrec_register_udp_receiver()) return fail(env, "EGST_REGISTER", "could not register " UDP_RECEIVER_ELEMENT);
  if (!confrec_register_opus_decoder()) return fail(env, "EGST_REGISTER", "could not register " OPUS_DECODER_ELEMENT);
  return undefined(env);
}

/*
 * Puts the calling thread, and so every thread it creates from now on (GStreamer's streaming threads,
 * the socket reader), in SCHED_BATCH: a recorder is throughput work behind a third of a second of mixer latency, so its
 * threads need not preempt whatever runs when they wake, and they no longer preempt each other. Without
 * it the socket reader was switched out for a mixer thread at nearly every buffer it handed over, the
 * mixer found one pad ready and slept again (what it saved: the commit that set it). The mediasoup
 * worker, which forwards live media, keeps the normal policy and now preempts recorders.
 */
static napi_value use_batch_scheduling(napi_env env, napi_callback_info info) {
  struct sched_param param = {.sched_priority = 0};
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) return fail(env, "ESCHED", g_strerror(errno));
  return undefined(env);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
      {"setState", NULL, set_state, NULL, NULL, NULL, napi_default, NULL},
      {"syncState", NULL, sync_state, NULL, NULL, NULL, napi_default, NULL},
      {"setProperty", NULL, set_property, NULL, NULL, NULL, napi_default, NULL},
      {"setPadProperty", NULL, set_pad_property, NULL, NULL, NULL, napi_default, NULL},
      {"getProperty", NULL, get_property, NULL, NULL, NULL, napi_default, NULL},
      {"socketPort", NULL, socket_port, NULL, NULL, NULL, napi_default, NULL},
      {"padCaps", NULL, pad_caps, NULL, NULL, NULL, napi_default, NULL},
      {"requestPad", NULL, request_pad, NULL, NULL, NULL, napi_default, NULL},
      {"releasePad", NULL, release_pad, NULL, NULL, NULL, napi_default, NULL},
      {"addBin", NULL, add_bin, NULL, NULL, NULL, napi_default, NULL},
      {"link", NULL, link_elements, NULL, NULL, NULL, napi_default, NULL},
      {"removeElement", NULL, remove_element, NULL, NULL, NULL, napi_default, NULL},
      {"sendEos", NULL, send_eos, NULL, NULL, NULL, napi_default, NULL},
      {"position", NULL, position, NULL, NULL, NULL, napi_default, NULL},
      {"popMessages", NULL, pop_messages, NULL, NULL, NULL, napi_default, NULL},
      {"registerElements", NULL, register_elements, NULL, NULL, NULL, napi_default, NULL},
      {"dropUntimestampedBuffers", NULL, drop_untimestamped_buffers, NULL, NULL, NULL, napi_default, NULL},
      {"setPropertyInStream", NULL, set_property_in_stream, NULL, NULL, NULL, napi_default, NULL},
      {"useBatchScheduling", NULL, use_batch_scheduling, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
