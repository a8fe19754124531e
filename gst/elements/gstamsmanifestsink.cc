/**
 * SECTION:element-amsmanifestsink
 * @title: amsmanifestsink
 *
 * Renders the manifest AMS serves for an asset — the Smooth client manifest, the HLS master or
 * media playlist, or the DASH MPD — from the `ams-presentation` event of `amsdemux`
 * (docs/element-contract.md). It answers the `ams-payload` query with `needs-payload=FALSE`, so
 * `amsdemux` reads the `moov` index only and pushes EOS at once: no sample is ever read.
 *
 * The text goes to `location` when set, and always to the application as an element message
 * named `ams-manifest` on the bus, posted before EOS, with the fields:
 *
 * - `text` (string): the manifest;
 * - `content-type` (string): its MIME type (`application/vnd.apple.mpegurl`, ...);
 * - `format` (string): the canonical AMS format name (`m3u8-aapl`, `mpd-time-csf`, ...).
 *
 * A server waits for that message and then for EOS (or an error) on the pipeline's bus.
 *
 * Only one pad of `amsdemux` needs to be linked: the presentation describes every track.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=asset/big.ism ! amsdemux ! \
 *     amsmanifestsink format=mpd-time-csf location=big.mpd
 * ]| Writes the DASH CSF MPD of an asset.
 * |[
 * gst-launch-1.0 -m filesrc location=asset/big.ism ! amsdemux ! \
 *     amsmanifestsink format=m3u8-aapl track=video bitrate=381048
 * ]| Prints (as a bus message) the HLS v4 media playlist of the 381 kbit/s video level.
 */
#include "gstamsmanifestsink.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "gstamspresentation.h"
#include "gstptr.h"
#include "manifest/manifest.h"

GST_DEBUG_CATEGORY_STATIC(gst_ams_manifest_sink_debug);
#define GST_CAT_DEFAULT gst_ams_manifest_sink_debug

namespace {

using ams::gst::GstPtr;
using ams::manifest::Format;

enum {
  PROP_0,
  PROP_FORMAT,
  PROP_TRACK,
  PROP_BITRATE,
  PROP_KEYFRAMES,
  PROP_AUDIO_TRACK,
  PROP_AUDIO_ONLY,
  PROP_LOCATION,
};

struct Settings {
  std::string format;
  std::string track;
  guint bitrate = 0;
  bool keyframes = false;
  std::string audio_track;
  bool audio_only = true;
  std::string location;
};

struct Impl {
  std::mutex lock;  // guards settings
  Settings settings;

  // Streaming-thread state, reset in start().
  Settings active;  // the settings copied when the sink started
  Format format = Format::kSmooth;
  bool rendered = false;
};

}  // namespace

struct _GstAmsManifestSink {
  GstBaseSink parent;
  Impl* impl;
};

G_DEFINE_TYPE(GstAmsManifestSink, gst_ams_manifest_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE(amsmanifestsink, "amsmanifestsink", GST_RANK_NONE,
                            GST_TYPE_AMS_MANIFEST_SINK);

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

// The master manifest, or the media playlist of the track the settings name.
static ams::Result<std::string> render(const ams::model::Presentation& presentation, Format format,
                                       const Settings& settings) {
  ams::manifest::Options options;
  options.audio_only = settings.audio_only;
  options.audio_track = settings.audio_track;
  if (settings.track.empty()) return ams::manifest::render_master(presentation, format, options);
  std::optional<uint32_t> bitrate;
  if (settings.bitrate != 0) bitrate = settings.bitrate;
  const ams::model::Track* track = presentation.find(settings.track, bitrate);
  if (track == nullptr) {
    return ams::not_found("no track \"" + settings.track + "\"" +
                          (bitrate ? " at " + std::to_string(*bitrate) + " bit/s" : ""));
  }
  return ams::manifest::render_media_playlist(presentation, format, *track, options,
                                              settings.keyframes);
}

static bool write_location(GstAmsManifestSink* self, const std::string& text) {
  const std::string& location = self->impl->active.location;
  GError* error = nullptr;
  // g_file_set_contents writes a temporary file and renames it: a reader never sees half a file.
  if (g_file_set_contents(location.c_str(), text.data(), static_cast<gssize>(text.size()),
                          &error)) {
    return true;
  }
  GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                    ("Could not write the manifest to \"%s\"", location.c_str()),
                    ("%s", error->message));
  g_error_free(error);
  return false;
}

static bool handle_presentation(GstAmsManifestSink* self,
                                const ams::model::Presentation& presentation) {
  Impl* impl = self->impl;
  if (impl->rendered) return true;  // sticky events are resent on reconfiguration
  ams::Result<std::string> text = render(presentation, impl->format, impl->active);
  if (!text.is_ok()) {
    GST_ELEMENT_ERROR(
        self, STREAM, FORMAT,
        ("Could not render the %s manifest of \"%s\"",
         std::string(ams::manifest::format_name(impl->format)).c_str(), presentation.name.c_str()),
        ("%s", text.status().to_string().c_str()));
    return false;
  }
  impl->rendered = true;
  if (!impl->active.location.empty() && !write_location(self, *text)) return false;
  GstStructure* s = gst_structure_new(
      "ams-manifest", "text", G_TYPE_STRING, text->c_str(), "content-type", G_TYPE_STRING,
      std::string(ams::manifest::content_type(impl->format)).c_str(), "format", G_TYPE_STRING,
      std::string(ams::manifest::format_name(impl->format)).c_str(), nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
  return true;
}

static gboolean gst_ams_manifest_sink_event(GstBaseSink* sink, GstEvent* event) {
  GstAmsManifestSink* self = GST_AMS_MANIFEST_SINK(sink);
  ams::gst::PresentationPtr presentation;
  guint track_index = 0;
  if (ams::gst::presentation_event_parse(event, presentation, track_index)) {
    if (!handle_presentation(self, *presentation)) {
      gst_event_unref(event);
      return FALSE;
    }
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && !self->impl->rendered) {
    GST_ELEMENT_ERROR(self, STREAM, WRONG_TYPE, ("No presentation to render a manifest from"),
                      ("EOS before any ams-presentation event: link amsmanifestsink to amsdemux"));
  }
  return GST_BASE_SINK_CLASS(gst_ams_manifest_sink_parent_class)->event(sink, event);
}

static gboolean gst_ams_manifest_sink_query(GstBaseSink* sink, GstQuery* query) {
  if (ams::gst::payload_query_is(query)) {
    ams::gst::payload_query_set(query, false);
    return TRUE;
  }
  return GST_BASE_SINK_CLASS(gst_ams_manifest_sink_parent_class)->query(sink, query);
}

// Sample buffers never arrive from amsdemux; anything else pushed here is not needed.
static GstFlowReturn gst_ams_manifest_sink_render(GstBaseSink*, GstBuffer*) {
  return GST_FLOW_OK;
}

static gboolean gst_ams_manifest_sink_start(GstBaseSink* sink) {
  GstAmsManifestSink* self = GST_AMS_MANIFEST_SINK(sink);
  Impl* impl = self->impl;
  {
    std::lock_guard<std::mutex> lock(impl->lock);
    impl->active = impl->settings;
  }
  impl->rendered = false;
  std::optional<Format> format = ams::manifest::format_from_name(impl->active.format);
  if (!format) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("Unknown manifest format \"%s\"", impl->active.format.c_str()),
                      ("use fmp4, fmp4-v20, m3u8-aapl, m3u8-aapl-v4, m3u8-aapl-v3, m3u8-cmaf, "
                       "mpd-time-csf or mpd-time-cmaf"));
    return FALSE;
  }
  impl->format = *format;
  if (impl->active.keyframes && impl->active.track.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("keyframes=true needs a video track"),
                      ("an I-frame playlist is a media playlist: set track and bitrate"));
    return FALSE;
  }
  return TRUE;
}

// --- Properties -------------------------------------------------------------------------------

static void gst_ams_manifest_sink_set_property(GObject* object, guint prop_id, const GValue* value,
                                               GParamSpec* pspec) {
  GstAmsManifestSink* self = GST_AMS_MANIFEST_SINK(object);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  Settings& s = self->impl->settings;
  const char* str = G_VALUE_HOLDS_STRING(value) ? g_value_get_string(value) : nullptr;
  switch (prop_id) {
    case PROP_FORMAT:
      s.format = str ? str : "";
      break;
    case PROP_TRACK:
      s.track = str ? str : "";
      break;
    case PROP_BITRATE:
      s.bitrate = g_value_get_uint(value);
      break;
    case PROP_KEYFRAMES:
      s.keyframes = g_value_get_boolean(value);
      break;
    case PROP_AUDIO_TRACK:
      s.audio_track = str ? str : "";
      break;
    case PROP_AUDIO_ONLY:
      s.audio_only = g_value_get_boolean(value);
      break;
    case PROP_LOCATION:
      s.location = str ? str : "";
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_manifest_sink_get_property(GObject* object, guint prop_id, GValue* value,
                                               GParamSpec* pspec) {
  GstAmsManifestSink* self = GST_AMS_MANIFEST_SINK(object);
  std::lock_guard<std::mutex> lock(self->impl->lock);
  const Settings& s = self->impl->settings;
  switch (prop_id) {
    case PROP_FORMAT:
      g_value_set_string(value, s.format.c_str());
      break;
    case PROP_TRACK:
      g_value_set_string(value, s.track.c_str());
      break;
    case PROP_BITRATE:
      g_value_set_uint(value, s.bitrate);
      break;
    case PROP_KEYFRAMES:
      g_value_set_boolean(value, s.keyframes);
      break;
    case PROP_AUDIO_TRACK:
      g_value_set_string(value, s.audio_track.c_str());
      break;
    case PROP_AUDIO_ONLY:
      g_value_set_boolean(value, s.audio_only);
      break;
    case PROP_LOCATION:
      g_value_set_string(value, s.location.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void gst_ams_manifest_sink_finalize(GObject* object) {
  delete GST_AMS_MANIFEST_SINK(object)->impl;
  G_OBJECT_CLASS(gst_ams_manifest_sink_parent_class)->finalize(object);
}

static void gst_ams_manifest_sink_init(GstAmsManifestSink* self) {
  self->impl = new Impl();
  // No buffer ever arrives, so there is nothing to preroll on or to synchronise to the clock:
  // the state change completes at once and EOS is posted as soon as amsdemux sends it.
  gst_base_sink_set_async_enabled(GST_BASE_SINK(self), FALSE);
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}

static void install_properties(GObjectClass* gobject_class) {
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  g_object_class_install_property(
      gobject_class, PROP_FORMAT,
      g_param_spec_string("format", "Format",
                          "AMS format name, as in the URL's format=: \"\" or fmp4 (Smooth 2.2), "
                          "fmp4-v20, m3u8-aapl or m3u8-aapl-v4 (HLS v4), m3u8-aapl-v3, m3u8-cmaf, "
                          "mpd-time-csf, mpd-time-cmaf",
                          "", flags));
  g_object_class_install_property(
      gobject_class, PROP_TRACK,
      g_param_spec_string("track", "Track",
                          "AMS track name of an HLS media playlist (\"video\", "
                          "\"aac_eng_2_128041_2_1\"); empty = the master manifest",
                          "", flags));
  g_object_class_install_property(
      gobject_class, PROP_BITRATE,
      g_param_spec_uint("bitrate", "Bitrate",
                        "Bitrate (bit/s, as in QualityLevels(N)) of the track, to pick one video "
                        "level; 0 = the first track of that name",
                        0, G_MAXUINT, 0, flags));
  g_object_class_install_property(
      gobject_class, PROP_KEYFRAMES,
      g_param_spec_boolean("keyframes", "Key frames",
                           "Render the HLS I-frame playlist of the track (type=keyframes)", FALSE,
                           flags));
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_TRACK,
      g_param_spec_string("audio-track", "Audio track",
                          "HLS v3: the audio track muxed into the video variants (audiotrack=); "
                          "empty = the first audio track",
                          "", flags));
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_ONLY,
      g_param_spec_boolean("audio-only", "Audio only",
                           "HLS master: list the audio-only variant (audio-only=false drops it)",
                           TRUE, flags));
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "File to write the manifest to (replaced atomically); empty = only the "
                          "ams-manifest bus message",
                          "", flags));
}

static void gst_ams_manifest_sink_class_init(GstAmsManifestSinkClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass* base_sink_class = GST_BASE_SINK_CLASS(klass);
  gobject_class->set_property = gst_ams_manifest_sink_set_property;
  gobject_class->get_property = gst_ams_manifest_sink_get_property;
  gobject_class->finalize = gst_ams_manifest_sink_finalize;
  base_sink_class->start = gst_ams_manifest_sink_start;
  base_sink_class->event = gst_ams_manifest_sink_event;
  base_sink_class->query = gst_ams_manifest_sink_query;
  base_sink_class->render = gst_ams_manifest_sink_render;
  install_properties(gobject_class);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "AMS manifest sink", "Sink",
      "Renders the Smooth, HLS or DASH manifest of the presentation amsdemux reads, from its index "
      "alone, to a file and an ams-manifest bus message",
      "gst-ams developers");
  GST_DEBUG_CATEGORY_INIT(gst_ams_manifest_sink_debug, "amsmanifestsink", 0, "AMS manifest sink");
}
