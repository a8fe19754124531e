#include "encode_pipeline.h"

#include <glib-unix.h>
#include <gst/video/video.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "glib_ptr.h"

namespace ams::tools {
namespace {

constexpr int kAudioRate = 48000;
constexpr int kSamplesPerBuffer = 480;  // 10 ms: a test length in ms is a whole number of buffers
constexpr int kBframes = 2;             // gives the assets composition offsets

std::string fraction(int n, int d) {
  return std::to_string(n) + "/" + std::to_string(d);
}

uint64_t ceil_div(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

uint64_t audio_buffers(GstClockTime duration) {
  return ceil_div(duration, GST_SECOND * kSamplesPerBuffer / kAudioRate);
}

std::string audio_encoder(const EncodeJob& job, const std::string& language) {
  return "audioconvert ! audioresample ! audio/x-raw,rate=" + std::to_string(kAudioRate) +
         ",channels=2 ! avenc_aac bitrate=" + std::to_string(job.audio_kbps * 1000) +
         " ! aacparse ! taginject tags=\"language-code=" + language + "\"";
}

// The pipeline in gst-launch syntax. Only numbers, validated language codes and preset names go
// into it; file names are set as properties afterwards, so that no path needs quoting.
std::string describe(const EncodeJob& job) {
  std::ostringstream d;
  std::string fps = fraction(job.fps_n, job.fps_d);
  if (job.input_path.empty()) {
    uint64_t frames = gst_util_uint64_scale_ceil(job.duration, job.fps_n, GST_SECOND * job.fps_d);
    d << "videotestsrc pattern=ball num-buffers=" << frames
      << " ! video/x-raw,width=" << job.test_width << ",height=" << job.test_height
      << ",framerate=" << fps << " ! videoconvert name=vin ";
    if (job.audio) {
      d << "audiotestsrc wave=sine freq=440 samplesperbuffer=" << kSamplesPerBuffer
        << " num-buffers=" << audio_buffers(job.duration) << " ! audioconvert name=ain ";
    }
  } else {
    // decodebin's pads are linked to vin and ain when they appear (on_pad_added).
    d << "filesrc name=src ! decodebin name=dec videoconvert name=vin ";
    if (job.audio) d << "audioconvert name=ain ";
  }
  d << "vin. ! videorate ! capsfilter name=vcfr caps=video/x-raw,framerate=" << fps
    << " ! tee name=vtee ";
  for (size_t i = 0; i < job.videos.size(); ++i) {
    const Rung& r = job.videos[i].rung;
    // x264 clamps min-keyint to key-int-max/2+1; with scenecut=0 no key frame comes early anyway.
    d << "vtee. ! queue max-size-buffers=4 max-size-bytes=0 max-size-time=0"
      << " ! videoscale add-borders=false ! videoconvert ! video/x-raw,format=I420,width="
      << r.width << ",height=" << r.height << ",pixel-aspect-ratio=1/1"
      << " ! x264enc bitrate=" << r.video_kbps << " speed-preset=" << job.speed_preset
      << " key-int-max=" << job.gop_frames << " bframes=" << kBframes
      << " option-string=\"scenecut=0:open-gop=0:min-keyint=" << job.gop_frames << "\""
      << " ! mux" << i << ".video_0 ";
    d << "mp4mux name=mux" << i << " faststart=true ! filesink name=vsink" << i << " ";
  }
  if (job.audio) {
    d << "ain. ! " << audio_encoder(job, job.audio_language) << " ! tee name=atee ";
    for (size_t i = 0; i < job.videos.size(); ++i) {
      // Unbounded: the audio waits here while x264enc fills its look-ahead.
      d << "atee. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! mux" << i
        << ".audio_0 ";
    }
  }
  for (size_t i = 0; i < job.extra_audio.size(); ++i) {
    const EncodeJob::ExtraAudio& extra = job.extra_audio[i];
    d << "audiotestsrc wave=sine freq=" << extra.frequency
      << " samplesperbuffer=" << kSamplesPerBuffer << " num-buffers=" << audio_buffers(job.duration)
      << " ! " << audio_encoder(job, extra.language)
      << " ! mp4mux faststart=true ! filesink name=xsink" << i << " ";
  }
  return d.str();
}

// Links decodebin's first video and first audio pad; any other stream goes to a fakesink so
// that it neither blocks nor fails the demuxer.
struct DecodeLinks {
  GstElement* pipeline = nullptr;
  GstElement* video_in = nullptr;
  GstElement* audio_in = nullptr;  // null when the job has no audio
  std::mutex mutex;
  bool video_linked = false;
  bool audio_linked = false;
};

bool link_to(GstPad* pad, GstElement* element) {
  GstPtr<GstPad> sink(gst_element_get_static_pad(element, "sink"));
  return sink && GST_PAD_LINK_SUCCESSFUL(gst_pad_link(pad, sink.get()));
}

void on_pad_added(GstElement* /*decodebin*/, GstPad* pad, gpointer data) {
  auto* links = static_cast<DecodeLinks*>(data);
  GstPtr<GstCaps> caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const gchar* media = caps && !gst_caps_is_empty(caps.get())
                           ? gst_structure_get_name(gst_caps_get_structure(caps.get(), 0))
                           : "";
  std::lock_guard<std::mutex> lock(links->mutex);
  if (g_str_has_prefix(media, "video/") && !links->video_linked) {
    links->video_linked = link_to(pad, links->video_in);
    return;
  }
  if (g_str_has_prefix(media, "audio/") && links->audio_in != nullptr && !links->audio_linked) {
    links->audio_linked = link_to(pad, links->audio_in);
    return;
  }
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
  gst_bin_add(GST_BIN(links->pipeline), sink);
  gst_element_sync_state_with_parent(sink);
  link_to(pad, sink);
}

void on_no_more_pads(GstElement* decodebin, gpointer data) {
  auto* links = static_cast<DecodeLinks*>(data);
  std::lock_guard<std::mutex> lock(links->mutex);
  const char* missing = !links->video_linked                                 ? "video"
                        : links->audio_in != nullptr && !links->audio_linked ? "audio"
                                                                             : nullptr;
  if (missing == nullptr) return;
  GError* error = g_error_new(GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND,
                              "the input's %s stream could not be decoded", missing);
  gst_element_post_message(decodebin, gst_message_new_error(GST_OBJECT(decodebin), error, nullptr));
  g_error_free(error);
}

// Forces an IDR on every gop_frames-th frame, in every rung at once (the event goes through tee).
struct KeyFrameClock {
  uint64_t gop_frames = 60;
  uint64_t frame = 0;
};

GstPadProbeReturn force_key_frames(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* clock = static_cast<KeyFrameClock*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (clock->frame % clock->gop_frames == 0) {
    GstClockTime pts = GST_BUFFER_PTS(buffer);
    // running_time NONE: force the very next frame, which is this buffer.
    gst_pad_push_event(pad, gst_video_event_new_downstream_force_key_unit(
                                pts, pts, GST_CLOCK_TIME_NONE, FALSE,
                                static_cast<guint>(clock->frame / clock->gop_frames)));
  }
  ++clock->frame;
  return GST_PAD_PROBE_OK;
}

struct RunState {
  GMainLoop* loop = nullptr;
  GstElement* pipeline = nullptr;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  bool tty = false;
  unsigned ticks = 0;
  bool progress_shown = false;
  Status status;
};

gboolean on_bus_message(GstBus* /*bus*/, GstMessage* message, gpointer data) {
  auto* state = static_cast<RunState*>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_EOS:
      g_main_loop_quit(state->loop);
      break;
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
      GError* error = nullptr;
      gchar* debug = nullptr;
      bool is_error = GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR;
      if (is_error) {
        gst_message_parse_error(message, &error, &debug);
      } else {
        gst_message_parse_warning(message, &error, &debug);
      }
      std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                         (error != nullptr ? error->message : "unknown error");
      if (is_error && state->status.is_ok()) {
        state->status = Status(StatusCode::kIo,
                               text + (debug != nullptr ? "\n  (" + std::string(debug) + ")" : ""));
      }
      if (is_error) {
        g_main_loop_quit(state->loop);
      } else {
        std::fprintf(stderr, "%sams encode: warning: %s\n", state->progress_shown ? "\n" : "",
                     text.c_str());
      }
      g_clear_error(&error);
      g_free(debug);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

// Every second: on a terminal, rewrite one line; elsewhere (logs, CI), a line every 5 s.
gboolean on_progress_tick(gpointer data) {
  auto* state = static_cast<RunState*>(data);
  ++state->ticks;
  gint64 position = 0;
  if (!GST_CLOCK_TIME_IS_VALID(state->duration) || state->duration == 0 ||
      !gst_element_query_position(state->pipeline, GST_FORMAT_TIME, &position) || position < 0) {
    return G_SOURCE_CONTINUE;
  }
  if (!state->tty && state->ticks % 5 != 0) return G_SOURCE_CONTINUE;
  double done = static_cast<double>(position) / GST_SECOND;
  double total = static_cast<double>(state->duration) / GST_SECOND;
  int percent = static_cast<int>(std::min(100.0, 100.0 * done / total));
  std::fprintf(stderr, "%sams encode: %3d%% (%.1f s of %.1f s)%s", state->tty ? "\r" : "", percent,
               done, total, state->tty ? "" : "\n");
  state->progress_shown = state->tty;
  return G_SOURCE_CONTINUE;
}

gboolean on_interrupt(gpointer data) {
  auto* state = static_cast<RunState*>(data);
  state->status = Status(StatusCode::kIo, "interrupted");
  g_main_loop_quit(state->loop);
  return G_SOURCE_CONTINUE;
}

void set_location(GstElement* pipeline, const std::string& name, const std::string& path) {
  GstPtr<GstElement> element(gst_bin_get_by_name(GST_BIN(pipeline), name.c_str()));
  g_object_set(element.get(), "location", path.c_str(), nullptr);
}

}  // namespace

Status run_encode_pipeline(const EncodeJob& job) {
  std::string description = describe(job);
  GError* error = nullptr;
  auto pipeline = GstPtr<GstElement>::sink(
      gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &error));
  if (!pipeline || error != nullptr) {
    std::string text = error != nullptr ? error->message : "unknown error";
    g_clear_error(&error);
    return Status(StatusCode::kInvalidArgument, "cannot build the pipeline: " + text);
  }
  GstBin* bin = GST_BIN(pipeline.get());
  for (size_t i = 0; i < job.videos.size(); ++i) {
    set_location(pipeline.get(), "vsink" + std::to_string(i), job.videos[i].path);
  }
  for (size_t i = 0; i < job.extra_audio.size(); ++i) {
    set_location(pipeline.get(), "xsink" + std::to_string(i), job.extra_audio[i].path);
  }

  DecodeLinks links;
  GstPtr<GstElement> video_in(gst_bin_get_by_name(bin, "vin"));
  GstPtr<GstElement> audio_in(gst_bin_get_by_name(bin, "ain"));
  if (!job.input_path.empty()) {
    set_location(pipeline.get(), "src", job.input_path);
    links.pipeline = pipeline.get();
    links.video_in = video_in.get();
    links.audio_in = audio_in.get();
    GstPtr<GstElement> decodebin(gst_bin_get_by_name(bin, "dec"));
    g_signal_connect(decodebin.get(), "pad-added", G_CALLBACK(on_pad_added), &links);
    g_signal_connect(decodebin.get(), "no-more-pads", G_CALLBACK(on_no_more_pads), &links);
  }

  KeyFrameClock key_frames;
  key_frames.gop_frames = job.gop_frames;
  GstPtr<GstElement> cfr(gst_bin_get_by_name(bin, "vcfr"));
  GstPtr<GstPad> cfr_src(gst_element_get_static_pad(cfr.get(), "src"));
  gst_pad_add_probe(cfr_src.get(), GST_PAD_PROBE_TYPE_BUFFER, force_key_frames, &key_frames,
                    nullptr);

  GLibPtr<GMainLoop> loop(g_main_loop_new(nullptr, FALSE));
  RunState state;
  state.loop = loop.get();
  state.pipeline = pipeline.get();
  state.duration = job.duration;
  state.tty = isatty(STDERR_FILENO) != 0;
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_bus_add_watch(bus.get(), on_bus_message, &state);
  guint progress = g_timeout_add_seconds(1, on_progress_tick, &state);
  guint interrupt = g_unix_signal_add(SIGINT, on_interrupt, &state);

  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The element that failed usually posted why; the loop dispatches it and stops.
    GstPtr<GstMessage> why(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    if (why) {
      on_bus_message(bus.get(), why.get(), &state);
    } else {
      state.status = Status(StatusCode::kIo, "the pipeline refused to start");
    }
  } else {
    g_main_loop_run(loop.get());
  }

  if (state.progress_shown) std::fputc('\n', stderr);
  g_source_remove(interrupt);
  g_source_remove(progress);
  gst_bus_remove_watch(bus.get());
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return state.status;
}

}  // namespace ams::tools
