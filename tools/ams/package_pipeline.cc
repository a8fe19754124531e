#include "package_pipeline.h"

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <cstdio>
#include <string>

#include "glib_ptr.h"

namespace ams::tools {
namespace {

std::string join(const std::string& out, const std::string& name) {
  return out + "/" + name;
}

Status make_parent(const std::string& path) {
  GstPtr<gchar> dir(g_path_get_dirname(path.c_str()));
  if (g_mkdir_with_parents(dir.get(), 0755) != 0) {
    return io_error(std::string("cannot create ") + dir.get());
  }
  return Status::ok();
}

// Element factories are looked up by name so that the tool does not link the plugin.
Status need_elements(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    GstPtr<GstElementFactory> factory(gst_element_factory_find(name));
    if (!factory) {
      return not_found(std::string("GStreamer element ") + name +
                       " not found (is GST_PLUGIN_PATH set to the gstams plugin?)");
    }
  }
  return Status::ok();
}

Result<GstPtr<GstElement>> parse(const std::string& description) {
  GError* error = nullptr;
  GstElement* pipeline =
      gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (!pipeline) {
    std::string text = error ? error->message : "cannot build the pipeline";
    g_clear_error(&error);
    return invalid_argument(description + ": " + text);
  }
  return GstPtr<GstElement>::sink(pipeline);
}

GstPtr<GstElement> by_name(GstElement* pipeline, const char* name) {
  return GstPtr<GstElement>(gst_bin_get_by_name(GST_BIN(pipeline), name));
}

// Plays the pipeline to EOS; the first error message becomes the Status.
Status run_to_eos(GstElement* pipeline) {
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline));
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The error message on the bus says why.
  }
  Status status;
  GstPtr<GstMessage> message(
      gst_bus_timed_pop_filtered(bus.get(), GST_CLOCK_TIME_NONE,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ERROR) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message.get(), &error, &debug);
    status = io_error(std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message.get()))) + ": " +
                      error->message + (debug ? std::string(" (") + debug + ")" : ""));
    g_error_free(error);
    g_free(debug);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return status;
}

// Cuts the muxer's output into files, on the streaming thread.
struct Writer {
  std::string out;
  const SegmentJob* job = nullptr;
  size_t next = 0;
  bool init_written = false;
  Status status;

  Status write(const std::string& name, GstBuffer* const* buffers, guint count) {
    const std::string path = join(out, name);
    AMS_RETURN_IF_ERROR(make_parent(path));
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) return io_error("cannot write " + path);
    bool ok = true;
    for (guint i = 0; i < count && ok; ++i) {
      GstMapInfo map;
      if (!gst_buffer_map(buffers[i], &map, GST_MAP_READ)) return io_error("cannot map a buffer");
      ok = std::fwrite(map.data, 1, map.size, file) == map.size;
      gst_buffer_unmap(buffers[i], &map);
    }
    ok = std::fclose(file) == 0 && ok;
    return ok ? Status::ok() : io_error("cannot write " + path);
  }

  Status next_segment(GstBuffer* const* buffers, guint count) {
    if (next >= job->names.size()) {
      return invalid_data("the muxer made more segments than the manifest lists (" +
                          std::to_string(job->names.size()) + ")");
    }
    return write(job->names[next++], buffers, count);
  }

  Status take(GstSample* sample) {
    if (GstBufferList* list = gst_sample_get_buffer_list(sample)) {
      std::vector<GstBuffer*> buffers(gst_buffer_list_length(list));
      for (guint i = 0; i < buffers.size(); ++i) buffers[i] = gst_buffer_list_get(list, i);
      return next_segment(buffers.data(), static_cast<guint>(buffers.size()));
    }
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (!buffer) return Status::ok();
    if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_HEADER)) {
      if (job->init_name.empty() || init_written) return Status::ok();
      init_written = true;
      return write(job->init_name, &buffer, 1);
    }
    return next_segment(&buffer, 1);  // a fragment of a single buffer
  }
};

GstFlowReturn on_new_sample(GstElement* appsink, gpointer data) {
  auto* writer = static_cast<Writer*>(data);
  GstSample* raw = nullptr;
  g_signal_emit_by_name(appsink, "pull-sample", &raw);
  GstPtr<GstSample> sample(raw);
  if (!sample) return GST_FLOW_EOS;
  if (writer->status.is_ok()) writer->status = writer->take(sample.get());
  return writer->status.is_ok() ? GST_FLOW_OK : GST_FLOW_ERROR;
}

std::string segment_description(const SegmentJob& job) {
  const std::string sink =
      "appsink name=out sync=false async=false buffer-list=true emit-signals=true "
      "max-buffers=4";
  if (job.tracks.size() == 2) {  // HLS v3: video then audio into one TS
    return "amsdemux name=demux demux.video_0 ! queue ! " + job.muxer + " name=mux ! " + sink +
           " demux.audio_0 ! queue ! mux.";
  }
  return "amsdemux name=demux ! " + job.muxer + " name=mux ! " + sink;
}

}  // namespace

std::string SegmentJob::key() const {
  std::string k = muxer;
  k += '/';
  k += mux_format;
  if (key_units_only) k += "/keys";
  for (size_t t : tracks) {
    k += '/';
    k += std::to_string(t);
  }
  k += '/';
  if (!names.empty()) k += names.front();
  return k;
}

Status run_manifest_pipeline(const std::string& ism, const std::string& out,
                             const ManifestJob& job) {
  AMS_RETURN_IF_ERROR(need_elements({"amsdemux", "amsmanifestsink"}));
  const std::string path = join(out, job.name);
  AMS_RETURN_IF_ERROR(make_parent(path));
  AMS_ASSIGN_OR_RETURN(GstPtr<GstElement> pipeline,
                       parse("amsdemux name=demux ! amsmanifestsink name=sink"));
  // amsdemux opens the asset itself: an .ism, one MP4 or a folder.
  g_object_set(by_name(pipeline.get(), "demux").get(), "location", ism.c_str(), nullptr);
  g_object_set(by_name(pipeline.get(), "sink").get(), "format",
               std::string(manifest::format_name(job.format)).c_str(), "track", job.track.c_str(),
               "bitrate", static_cast<guint>(job.bitrate), "keyframes",
               static_cast<gboolean>(job.keyframes), "audio-track", job.audio_track.c_str(),
               "location", path.c_str(), nullptr);
  Status st = run_to_eos(pipeline.get());
  return st.is_ok() ? st : st.with_context(job.name);
}

Status run_segment_pipeline(const std::string& ism, const std::string& out, const SegmentJob& job) {
  AMS_RETURN_IF_ERROR(need_elements({"amsdemux", job.muxer.c_str(), "appsink"}));
  AMS_ASSIGN_OR_RETURN(GstPtr<GstElement> pipeline, parse(segment_description(job)));
  std::string tracks;
  for (size_t t : job.tracks) tracks += (tracks.empty() ? "#" : ",#") + std::to_string(t);
  GstPtr<GstElement> demux = by_name(pipeline.get(), "demux");
  g_object_set(demux.get(), "location", ism.c_str(), nullptr);
  g_object_set(demux.get(), "tracks", tracks.c_str(), "key-units-only",
               static_cast<gboolean>(job.key_units_only), nullptr);
  if (job.fragment_time >= 0)
    g_object_set(demux.get(), "fragment-time", job.fragment_time, nullptr);
  GstPtr<GstElement> mux = by_name(pipeline.get(), "mux");
  if (!job.mux_format.empty())
    gst_util_set_object_arg(G_OBJECT(mux.get()), "format", job.mux_format.c_str());
  if (job.key_units_only) g_object_set(mux.get(), "fragments-per-segment", 1u, nullptr);
  Writer writer;
  writer.out = out;
  writer.job = &job;
  g_signal_connect(by_name(pipeline.get(), "out").get(), "new-sample", G_CALLBACK(on_new_sample),
                   &writer);
  Status st = run_to_eos(pipeline.get());
  const std::string what = job.names.empty() ? job.init_name : job.names.front();
  if (!writer.status.is_ok()) return writer.status.with_context(what);
  if (!st.is_ok()) return st.with_context(what);
  if (writer.next != job.names.size()) {
    return Status(StatusCode::kInvalidData, "the muxer made " + std::to_string(writer.next) +
                                                " segments, the manifest lists " +
                                                std::to_string(job.names.size()))
        .with_context(what);
  }
  if (!job.init_name.empty() && !writer.init_written) {
    return invalid_data("the muxer made no init segment").with_context(job.init_name);
  }
  return Status::ok();
}

}  // namespace ams::tools
