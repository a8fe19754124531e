#include "demux_capture.h"

#include <glib/gstdio.h>

#include <atomic>
#include <mutex>

#include "test_asset.h"

namespace ams::test {
namespace {

using gst::GstPtr;

struct Recorder {
  std::mutex lock;
  DemuxRun* run = nullptr;
  bool sync = false;
  std::atomic<bool> got_buffer{false};
};

struct Probe {
  Recorder* recorder;
  std::string pad;
  GstSegment segment;
};

CapturedBuffer capture_buffer(GstBuffer* buf, const GstSegment& segment) {
  CapturedBuffer c;
  c.data.resize(gst_buffer_get_size(buf));
  gst_buffer_extract(buf, 0, c.data.data(), c.data.size());
  c.pts = GST_BUFFER_PTS(buf);
  c.duration = GST_BUFFER_DURATION(buf);
  if (GST_BUFFER_PTS_IS_VALID(buf)) {
    c.pts_sign = gst_segment_to_running_time_full(&segment, GST_FORMAT_TIME, c.pts, &c.pts_rt);
  }
  if (GST_BUFFER_DTS_IS_VALID(buf)) {
    c.dts_sign =
        gst_segment_to_running_time_full(&segment, GST_FORMAT_TIME, GST_BUFFER_DTS(buf), &c.dts_rt);
  }
  c.delta = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  c.discont = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT);
  c.offset = GST_BUFFER_OFFSET(buf);
  return c;
}

void record_event(Probe& p, PadCapture& pad, GstEvent* ev) {
  switch (GST_EVENT_TYPE(ev)) {
    case GST_EVENT_STREAM_START: {
      const gchar* id = nullptr;
      gst_event_parse_stream_start(ev, &id);
      pad.stream_id = id ? id : "";
      break;
    }
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(ev, &caps);
      pad.caps = GstPtr<GstCaps>::ref(caps);
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment* s = nullptr;
      gst_event_parse_segment(ev, &s);
      gst_segment_copy_into(s, &p.segment);
      break;
    }
    case GST_EVENT_TAG: {
      GstTagList* tags = nullptr;
      gst_event_parse_tag(ev, &tags);
      if (!pad.tags) pad.tags.reset(gst_tag_list_new_empty());
      gst_tag_list_insert(pad.tags.get(), tags, GST_TAG_MERGE_REPLACE);
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      ++pad.flushes;
      pad.buffers.clear();
      pad.events.clear();
      pad.eos = false;
      break;
    case GST_EVENT_EOS:
      pad.eos = true;
      break;
    case GST_EVENT_CUSTOM_DOWNSTREAM:
    case GST_EVENT_CUSTOM_DOWNSTREAM_STICKY: {
      const GstStructure* s = gst_event_get_structure(ev);
      if (!s) break;
      pad.events.push_back({gst_structure_get_name(s), pad.buffers.size(),
                            GstPtr<GstStructure>(gst_structure_copy(s))});
      break;
    }
    default:
      break;
  }
}

GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) {
  Probe& p = *static_cast<Probe*>(data);
  std::lock_guard<std::mutex> lock(p.recorder->lock);
  PadCapture& pad = p.recorder->run->pads[p.pad];
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    pad.buffers.push_back(capture_buffer(GST_PAD_PROBE_INFO_BUFFER(info), p.segment));
    p.recorder->got_buffer = true;
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_BOTH) {
    record_event(p, pad, GST_PAD_PROBE_INFO_EVENT(info));
  }
  return GST_PAD_PROBE_OK;
}

void on_pad_added(GstElement* demux, GstPad* pad, gpointer data) {
  Recorder* recorder = static_cast<Recorder*>(data);
  GstElement* pipeline = GST_ELEMENT(gst_element_get_parent(demux));
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", recorder->sync ? TRUE : FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(pipeline), sink);
  GstPtr<GstPad> sinkpad(gst_element_get_static_pad(sink, "sink"));
  GstPtr<gchar> name(gst_pad_get_name(pad));
  auto* probe = new Probe{recorder, name.get(), {}};
  gst_segment_init(&probe->segment, GST_FORMAT_TIME);
  // On the sink's pad: the sticky events the demuxer stored before linking reach it too.
  gst_pad_add_probe(
      sinkpad.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                   GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      on_data, probe, [](gpointer p) { delete static_cast<Probe*>(p); });
  gst_pad_link(pad, sinkpad.get());
  gst_element_sync_state_with_parent(sink);
  gst_object_unref(pipeline);
}

void take_error(DemuxRun& run, GstMessage* message) {
  GError* error = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(message, &error, &debug);
  if (run.error.empty()) {
    run.error_domain = error->domain;
    run.error_code = error->code;
    run.error = std::string(error->message) + " (" + (debug ? debug : "") + ")";
  }
  g_error_free(error);
  g_free(debug);
}

// Pops bus messages until one of `types` (or an error); false on timeout or error.
bool wait_for(GstBus* bus, GstMessageType types, DemuxRun& run, gint64 deadline,
              GstPtr<GstMessage>* out = nullptr) {
  while (true) {
    const gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0) {
      if (run.error.empty()) run.error = "timeout";
      return false;
    }
    GstPtr<GstMessage> m(
        gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(left) * GST_USECOND,
                                   static_cast<GstMessageType>(types | GST_MESSAGE_ERROR)));
    if (!m) continue;
    if (GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_ERROR) {
      take_error(run, m.get());
      return false;
    }
    if (out) *out = std::move(m);
    return true;
  }
}

}  // namespace

DemuxRun run_demux(const std::string& location, const std::string& demuxer,
                   const std::function<guint32(GstElement*)>& on_first_buffer,
                   GstClockTime timeout) {
  DemuxRun run;
  Recorder recorder;
  recorder.run = &run;
  recorder.sync = static_cast<bool>(on_first_buffer);  // some time to act before EOS
  GError* error = nullptr;
  GstPtr<gchar> quoted(g_strescape(location.c_str(), nullptr));
  const std::string desc =
      "filesrc location=\"" + std::string(quoted.get()) + "\" ! " + demuxer + " name=demux";
  GstPtr<GstElement> pipeline = GstPtr<GstElement>::sink(
      gst_parse_launch_full(desc.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error));
  if (!pipeline) {
    run.error = std::string("parse: ") + (error ? error->message : "?");
    g_clear_error(&error);
    return run;
  }
  GstPtr<GstElement> demux(gst_bin_get_by_name(GST_BIN(pipeline.get()), "demux"));
  g_signal_connect(demux.get(), "pad-added", G_CALLBACK(on_pad_added), &recorder);
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout / GST_USECOND);
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  bool ok = true;
  guint32 eos_seqnum = 0;
  if (on_first_buffer) {
    while (ok && !recorder.got_buffer) {
      GstPtr<GstMessage> m(gst_bus_timed_pop_filtered(
          bus.get(), 10 * GST_MSECOND,
          static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
      if (m && GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_ERROR) take_error(run, m.get());
      if (!m && g_get_monotonic_time() > deadline) run.error = "timeout";
      run.eos = m && GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_EOS;
      ok = !run.eos && run.error.empty();
    }
    if (ok) eos_seqnum = on_first_buffer(pipeline.get());
  }
  // An EOS posted before the seek may still be queued: wait for the one that follows it.
  while (ok && !run.eos) {
    GstPtr<GstMessage> eos;
    ok = wait_for(bus.get(), GST_MESSAGE_EOS, run, deadline, &eos);
    run.eos = ok && (eos_seqnum == 0 || gst_message_get_seqnum(eos.get()) == eos_seqnum);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return run;
}

std::string asset_dir() {
  static std::string dir = make_temp_dir();
  return dir;
}

void remove_asset_dir() {
  remove_tree(asset_dir());
}

bool have_ffmpeg() {
  static bool found = run_command({"ffmpeg", "-version"}, nullptr, 30) == 0;
  return found;
}

std::string ams_encode_asset(std::string& why) {
  const std::string dir = asset_dir() + "/ams";
  const std::string ism = dir + "/testsrc.ism";
  if (file_exists(ism)) return ism;
  const std::string ams = build_root() + "/tools/ams";
  std::string output;
  if (build_root().empty() || run_command({ams, "encode", "--test-source", "4", "--width", "320",
                                           "--height", "180", "--ladder", "180,90", dir},
                                          &output, 300) != 0) {
    why = "ams encode failed (AMS_BUILD_ROOT=" + build_root() + "): " + output;
    return "";
  }
  return ism;
}

std::string ffmpeg_asset(const std::string& name, const std::vector<std::string>& args,
                         std::string& why) {
  if (!have_ffmpeg()) {
    why = "ffmpeg is not installed";
    return "";
  }
  const std::string path = asset_dir() + "/" + name;
  if (file_exists(path)) return path;
  std::vector<std::string> argv = {"ffmpeg", "-v", "error", "-y"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(path);
  std::string output;
  if (run_command(argv, &output, 300) != 0) {
    why = "ffmpeg failed: " + output;
    return "";
  }
  return path;
}

std::string write_asset_file(const std::string& name, const std::string& text) {
  const std::string path = asset_dir() + "/" + name;
  g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), nullptr);
  return path;
}

std::string caps_field(const GstCaps* caps, const char* field) {
  if (!caps || gst_caps_is_empty(caps)) return "";
  const GValue* v = gst_structure_get_value(gst_caps_get_structure(caps, 0), field);
  if (!v) return "";
  GstPtr<gchar> text(gst_value_serialize(v));
  return text ? text.get() : "";
}

std::optional<Bytes> caps_buffer(const GstCaps* caps, const char* field) {
  if (!caps || gst_caps_is_empty(caps)) return std::nullopt;
  const GValue* v = gst_structure_get_value(gst_caps_get_structure(caps, 0), field);
  if (!v || !GST_VALUE_HOLDS_BUFFER(v)) return std::nullopt;
  GstBuffer* buf = gst_value_get_buffer(v);
  Bytes out(gst_buffer_get_size(buf));
  gst_buffer_extract(buf, 0, out.data(), out.size());
  return out;
}

}  // namespace ams::test
