// GStreamer's own adaptive demuxers (hlsdemux2, dashdemux2, mssdemux2) behind playbin3 play every
// format the endpoint serves: to EOS without an error, every video frame decoded exactly once, the
// full duration, and a seek to the middle that lands within one fragment (one segment for TS).
//
// tests/e2e/run_e2e.py starts the endpoint and runs one case (one asset, one format: pick it with
// --gtest_filter) per process, with what the corpus says of the asset in the environment:
//   AMS_E2E_BASE      http://127.0.0.1:PORT/{locator}/{name}.ism
//   AMS_E2E_ASSET     the asset's corpus name; AMS_E2E_TRY  which try of the case this is (1-3)
//   AMS_E2E_RUNGS     HEIGHT:FRAMES,... per video rung; AMS_E2E_FPS  N/D
//   AMS_E2E_DURATION  the longest source stream (s); AMS_E2E_VIDEO_START  its first video frame (s)
//   AMS_E2E_FRAGMENT  fragment duration (s); AMS_E2E_TS_SEGMENT  HLS v3/v4 segment duration (s)
//   AMS_E2E_RESULTS   JSON-lines file the row of the case is appended to as it ends
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "base/json.h"
#include "gstptr.h"

namespace {

using ams::gst::GstPtr;

struct Format {
  const char* id;        // the key of the result file and the README table
  const char* manifest;  // the last path segment of the URL
  const char* demuxer;   // the element that must do the work
  bool ts_segments;      // HLS v3/v4: MPEG-TS segments of several fragments
};

constexpr Format kFormats[] = {
    {"hls-v3", "manifest(format=m3u8-aapl-v3)", "hlsdemux2", true},
    {"hls-v4", "manifest(format=m3u8-aapl)", "hlsdemux2", true},
    {"hls-cmaf", "manifest(format=m3u8-cmaf)", "hlsdemux2", false},
    {"dash-csf", "manifest(format=mpd-time-csf)", "dashdemux2", false},
    {"dash-cmaf", "manifest(format=mpd-time-cmaf)", "dashdemux2", false},
    {"smooth", "manifest", "mssdemux2", false},
};

void PrintTo(const Format& format, std::ostream* os) {
  *os << format.id;
}

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

double env_seconds(const char* name) {
  return std::atof(env(name).value_or("0").c_str());
}

std::string json_string(const std::string& s) {
  return "\"" + ams::json_escape(s) + "\"";
}

double seconds(GstClockTime t) {
  return GST_CLOCK_TIME_IS_VALID(t) ? t / 1e9 : -1;
}

// What reaches the video sink, seen by a pad probe on its sink pad (a streaming thread).
struct VideoSinkLog {
  std::mutex mutex;
  GstSegment segment;
  int64_t frames = 0;
  GstClockTime first_stream_time = GST_CLOCK_TIME_NONE;
  GstClockTime end_stream_time = GST_CLOCK_TIME_NONE;
  std::chrono::steady_clock::time_point first_frame_at;
  int last_height = 0;
  int switches = 0;
  std::vector<int> heights;

  void reset_after_flush() {
    frames = 0;
    first_stream_time = end_stream_time = GST_CLOCK_TIME_NONE;
  }
};

GstPadProbeReturn on_video_sink_data(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* log = static_cast<VideoSinkLog*>(data);
  std::lock_guard lock(log->mutex);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    GstClockTime t =
        gst_segment_to_stream_time(&log->segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    if (log->frames++ == 0) {
      log->first_stream_time = t;
      log->first_frame_at = std::chrono::steady_clock::now();
    }
    if (GST_CLOCK_TIME_IS_VALID(t) && GST_BUFFER_DURATION_IS_VALID(buffer)) {
      GstClockTime end = t + GST_BUFFER_DURATION(buffer);
      if (!GST_CLOCK_TIME_IS_VALID(log->end_stream_time) || end > log->end_stream_time)
        log->end_stream_time = end;
    }
    return GST_PAD_PROBE_OK;
  }
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment(event, &log->segment);
      break;
    case GST_EVENT_FLUSH_STOP:
      log->reset_after_flush();
      break;
    case GST_EVENT_CAPS: {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(event, &caps);
      int height = 0;
      if (gst_structure_get_int(gst_caps_get_structure(caps, 0), "height", &height) &&
          height != log->last_height) {
        if (log->last_height != 0) ++log->switches;
        log->last_height = height;
        log->heights.push_back(height);
      }
      break;
    }
    default:
      break;
  }
  return GST_PAD_PROBE_OK;
}

void on_deep_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (factory == nullptr) return;
  std::string name = GST_OBJECT_NAME(factory);
  if (name.find("demux") != std::string::npos) {
    auto* demuxers = static_cast<std::vector<std::string>*>(data);
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    demuxers->push_back(name);
  }
}

struct Playback {
  bool eos = false;
  std::string error;  // what the pipeline said, if it failed
  double duration_s = -1;
  double ttff_ms = -1;
  int64_t frames = 0;
  double first_s = -1;  // stream time of the first frame (after the seek, if any)
  double end_s = -1;    // stream time of the end of the last frame
  int switches = 0;
  std::vector<int> heights;
  std::vector<std::string> demuxers;
};

// Plays `uri` with playbin3 into fake sinks as fast as it decodes; with `seek_to`, goes to PAUSED
// first and seeks there (flushing, to a key unit) before playing.
Playback play(const std::string& uri, std::optional<double> seek_to, int deadline_s) {
  Playback result;
  auto pipeline = GstPtr<GstElement>::sink(gst_element_factory_make("playbin3", nullptr));
  GstElement* video_sink = gst_element_factory_make("fakesink", "video-sink");
  GstElement* audio_sink = gst_element_factory_make("fakesink", "audio-sink");
  if (!pipeline || !video_sink || !audio_sink) {
    result.error = "playbin3 or fakesink is missing";
    return result;
  }
  g_object_set(video_sink, "sync", FALSE, nullptr);
  g_object_set(audio_sink, "sync", FALSE, nullptr);
  // video | audio: no subtitles, no software volume, no visualisation.
  g_object_set(pipeline.get(), "uri", uri.c_str(), "video-sink", video_sink, "audio-sink",
               audio_sink, "flags", 0x3, nullptr);
  g_signal_connect(pipeline.get(), "deep-element-added", G_CALLBACK(on_deep_element_added),
                   &result.demuxers);

  VideoSinkLog log;
  gst_segment_init(&log.segment, GST_FORMAT_TIME);
  GstPtr<GstPad> sink_pad(gst_element_get_static_pad(video_sink, "sink"));
  gst_pad_add_probe(
      sink_pad.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                   GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      on_video_sink_data, &log, nullptr);

  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  enum class Stage {
    kPreroll,
    kSeeking,
    kPlaying
  } stage = seek_to ? Stage::kPreroll : Stage::kPlaying;
  auto started = std::chrono::steady_clock::now();
  gst_element_set_state(pipeline.get(), seek_to ? GST_STATE_PAUSED : GST_STATE_PLAYING);
  const auto deadline = started + std::chrono::seconds(deadline_s);
  while (!result.eos && result.error.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      result.error = "no EOS within " + std::to_string(deadline_s) + " s";
      break;
    }
    GstPtr<GstMessage> msg(gst_bus_timed_pop_filtered(
        bus.get(), GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE)));
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg.get())) {
      case GST_MESSAGE_ERROR: {
        GError* err = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(msg.get(), &err, &debug);
        result.error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg.get()))) + ": " +
                       err->message + " (" + (debug ? debug : "") + ")";
        g_error_free(err);
        g_free(debug);
        break;
      }
      case GST_MESSAGE_EOS:
        result.eos = true;
        break;
      case GST_MESSAGE_ASYNC_DONE: {
        gint64 duration = -1;
        if (result.duration_s < 0 &&
            gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &duration))
          result.duration_s = seconds(duration);
        if (stage == Stage::kPreroll) {
          stage = Stage::kSeeking;
          if (!gst_element_seek_simple(
                  pipeline.get(), GST_FORMAT_TIME,
                  static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                  static_cast<gint64>(*seek_to * GST_SECOND)))
            result.error = "the seek was refused";
        } else if (stage == Stage::kSeeking) {
          stage = Stage::kPlaying;
          started = std::chrono::steady_clock::now();
          gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
        }
        break;
      }
      default:
        break;
    }
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);

  std::lock_guard lock(log.mutex);
  result.frames = log.frames;
  result.first_s = seconds(log.first_stream_time);
  result.end_s = seconds(log.end_stream_time);
  result.switches = log.switches;
  result.heights = log.heights;
  if (log.frames > 0)
    result.ttff_ms =
        std::chrono::duration<double, std::milli>(log.first_frame_at - started).count();
  return result;
}

// What the corpus says of the asset (tests/corpus, corpus.json), handed over by run_e2e.py.
struct Expected {
  std::map<int, int64_t> frames_by_height;  // video rungs: height -> frames (ffprobe -count_frames)
  double fps = 0;                           // the video frame rate
  double duration = 0;                      // the longest source stream, seconds
  double video_start = 0;  // where the source (its edit list applied) presents its first frame
  int deadline_s = 90;     // a playback that has no EOS by then has hung
  double unit = 0;         // what a seek may miss by: a fragment, or a TS segment
  // Frames a switch between bitrates may show twice or skip: their fragments start this many
  // frames apart somewhere (open GOPs; run_e2e.py reads it from the index). 0: aligned encodes.
  int64_t switch_slack = 0;

  static Expected from_env(bool ts_segments) {
    Expected e;
    std::stringstream rungs(env("AMS_E2E_RUNGS").value_or(""));
    std::string rung;
    while (std::getline(rungs, rung, ',')) {
      auto colon = rung.find(':');
      if (colon == std::string::npos) continue;
      e.frames_by_height[std::atoi(rung.substr(0, colon).c_str())] =
          std::atoll(rung.substr(colon + 1).c_str());
    }
    std::string fps = env("AMS_E2E_FPS").value_or("0");
    auto slash = fps.find('/');
    e.fps = slash == std::string::npos ? std::atof(fps.c_str())
                                       : std::atof(fps.substr(0, slash).c_str()) /
                                             std::atof(fps.substr(slash + 1).c_str());
    e.duration = env_seconds("AMS_E2E_DURATION");
    e.video_start = env_seconds("AMS_E2E_VIDEO_START");
    // Decoding into fake sinks runs far faster than real time: three times the duration, and
    // at least 30 s, is a hang.
    e.deadline_s = std::max(30, static_cast<int>(std::ceil(3 * e.duration)));
    e.unit = ts_segments ? env_seconds("AMS_E2E_TS_SEGMENT") : env_seconds("AMS_E2E_FRAGMENT");
    e.switch_slack = std::atoll(env("AMS_E2E_SWITCH_SLACK").value_or("0").c_str());
    return e;
  }
};

std::string fmt(double v, int decimals = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

class GstPlayers : public testing::TestWithParam<Format> {
 protected:
  void SetUp() override {
    auto base = env("AMS_E2E_BASE");
    if (!base) GTEST_SKIP() << "AMS_E2E_BASE is not set: run through tests/e2e/run_e2e.sh";
    // Further arguments of the asset's URLs (",encryption=cbc"), inside the selector.
    std::string manifest = GetParam().manifest;
    if (auto args = env("AMS_E2E_MANIFEST_ARGS"); args && !args->empty()) {
      manifest = manifest.back() == ')' ? manifest.substr(0, manifest.size() - 1) + *args + ")"
                                        : manifest + "(" + args->substr(1) + ")";
    }
    url_ = *base + "/" + manifest;
    started_ = std::chrono::steady_clock::now();
  }

  // A check: a failure is one item of the row's "errors" (what known_failures.txt signatures are
  // matched against) and one gtest failure.
  void check(bool ok, const std::string& item) {
    if (ok) return;
    errors_.push_back(item);
    ADD_FAILURE() << item << " (" << url_ << ")";
  }

  // One line per case in the result file, written (and flushed) as the case ends.
  void TearDown() override {
    auto path = env("AMS_E2E_RESULTS");
    if (!path || IsSkipped()) return;
    if (HasFailure() && errors_.empty()) errors_.push_back("a check failed: see the test log");
    std::ostringstream heights, errors;
    for (size_t i = 0; i < full_.heights.size(); ++i) heights << (i ? "," : "") << full_.heights[i];
    std::string joined;
    for (size_t i = 0; i < errors_.size(); ++i) {
      errors << (i ? "," : "") << json_string(errors_[i]);
      joined += (i ? " | " : "") + errors_[i];
    }
    std::ofstream out(*path, std::ios::app);
    out << "{\"asset\":" << json_string(env("AMS_E2E_ASSET").value_or(""))
        << ",\"client\":\"gstreamer\",\"format\":" << json_string(GetParam().id)
        << ",\"try\":" << std::atoi(env("AMS_E2E_TRY").value_or("1").c_str())
        << ",\"ok\":" << (HasFailure() ? "false" : "true") << ",\"url\":" << json_string(url_)
        << ",\"wall_ms\":"
        << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started_)
               .count()
        << ",\"ttff_ms\":" << std::lround(full_.ttff_ms) << ",\"switches\":" << full_.switches
        << ",\"frames\":" << full_.frames << ",\"duration\":" << full_.duration_s
        << ",\"seek_landed\":" << seek_.first_s << ",\"heights\":[" << heights.str() << "]"
        << ",\"demuxer\":" << json_string(full_.demuxers.empty() ? "" : full_.demuxers.front())
        << ",\"error\":" << json_string(joined) << ",\"errors\":[" << errors.str() << "]}\n";
    out.flush();
  }

  std::string url_;
  std::chrono::steady_clock::time_point started_;
  Playback full_;
  Playback seek_;
  std::vector<std::string> errors_;
};

TEST_P(GstPlayers, PlaysToTheEndAndSeeks) {
  const Format& format = GetParam();
  const Expected want = Expected::from_env(format.ts_segments);
  ASSERT_FALSE(want.frames_by_height.empty()) << "AMS_E2E_RUNGS names no video rung";
  ASSERT_GT(want.fps, 0);
  ASSERT_GT(want.unit, 0);

  // Each check that fails is one item of the row's errors; a check that only follows from an
  // earlier one (no EOS after a pipeline error, a frame count after no EOS) is not made, so the
  // items name causes and a known failure's signature has to match each of them.
  full_ = play(url_, std::nullopt, want.deadline_s);
  check(full_.error.empty(), "full: " + full_.error);
  check(!full_.error.empty() || full_.eos, "full: no EOS");
  check(!full_.demuxers.empty() && full_.demuxers.front() == format.demuxer,
        "full: demuxer " + (full_.demuxers.empty() ? "none" : full_.demuxers.front()) +
            ", expected " + format.demuxer);
  // Every frame once: a bitrate switch must neither repeat nor drop a frame. The frame count is
  // the corpus's for the rungs played (they agree when the rungs come from one source).
  int64_t frames = want.frames_by_height.begin()->second;
  bool rungs_known = true;
  for (size_t i = 0; i < full_.heights.size(); ++i) {
    auto rung = want.frames_by_height.find(full_.heights[i]);
    if (rung == want.frames_by_height.end()) {
      rungs_known = false;
      check(false, "full: played a " + std::to_string(full_.heights[i]) +
                       "p rung the asset does not have");
    } else if (i > 0 && rung->second != frames) {
      rungs_known = false;
      check(false, "full: switched between rungs of different frame counts");
    } else {
      frames = rung->second;
    }
  }
  const double video_duration = frames / want.fps;
  // The manifest's duration: the video's or the asset's (audio can run a little longer).
  check(full_.duration_s >= video_duration - 0.05 && full_.duration_s <= want.duration + 0.05,
        "full: duration " + fmt(full_.duration_s) + " s, expected " + fmt(video_duration) + " to " +
            fmt(want.duration) + " s");
  const bool played_all = full_.error.empty() && full_.eos;
  if (played_all && rungs_known) {
    // Every frame once. After a switch between bitrates whose fragments start a frame apart
    // (open GOPs: each bitrate's fragment begins with its own leading frames), the frames in
    // between come from both bitrates or neither: up to switch_slack frames either way, per switch.
    const int64_t slack = full_.switches * want.switch_slack;
    check(std::llabs(full_.frames - frames) <= slack,
          "full: " + std::to_string(full_.frames) + " video frames decoded, expected " +
              std::to_string(frames) +
              (slack ? " (" + std::to_string(slack) + " either way after the switches)" : ""));
    // The first frame where the source presents it (0, or later for a file without an edit
    // list), or up to three frames later: B-frames in MPEG-TS can delay it (qtdemux shows a
    // B-frame MP4 without its edit list starting two frames late). Beyond that, the frames must
    // cover the video's duration with no gap.
    const double first_limit = want.video_start + std::max(0.1, 3 / want.fps);
    check(full_.first_s >= want.video_start - 0.001 && full_.first_s < first_limit,
          "full: first frame at " + fmt(full_.first_s) + " s, expected in [" +
              fmt(want.video_start) + ", " + fmt(first_limit) + ") s");
    check(std::fabs(full_.end_s - full_.first_s - video_duration) <= 0.002,
          "full: frames cover " + fmt(full_.end_s - full_.first_s) + " s, expected " +
              fmt(video_duration) + " s");
  }

  // The middle of the video's own timeline (a filtered Smooth presentation keeps its media times:
  // it starts where the filter does).
  const double middle = want.video_start + video_duration / 2;
  seek_ = play(url_, middle, want.deadline_s);
  check(seek_.error.empty(), "seek: " + seek_.error);
  check(!seek_.error.empty() || seek_.eos, "seek: no EOS");
  if (seek_.frames == 0) {
    check(!seek_.error.empty(),
          "seek: no video frame after a flushing key-unit seek to " + fmt(middle, 1) + " s");
  } else {
    check(std::fabs(seek_.first_s - middle) <= want.unit,
          "seek: to " + fmt(middle, 1) + " s landed at " + fmt(seek_.first_s) + " s, more than " +
              fmt(want.unit, 1) + " s away");
    if (played_all && seek_.error.empty() && seek_.eos) {
      // From where it landed, every frame to the end: a frame missing or shown twice is a whole
      // frame. The first frame's stream time can sit off the frame grid by less than one:
      // dashdemux2 took the seek's segment start from the audio track on ffmpeg-fmp4, whose
      // audio fragments start 10.7 ms after its video fragments (4.091 s for a frame at 4.080).
      const double due = (full_.end_s - seek_.first_s) * want.fps;
      check(std::fabs(seek_.frames - due) < 0.5, "seek: " + std::to_string(seek_.frames) +
                                                     " frames from " + fmt(seek_.first_s) +
                                                     " s to the end, expected " + fmt(due, 1));
      check(std::fabs(seek_.end_s - full_.end_s) <= 0.001, "seek: ended at " + fmt(seek_.end_s) +
                                                               " s, the full playback at " +
                                                               fmt(full_.end_s) + " s");
    }
  }

  std::printf("[ e2e      ] gstreamer %-9s %s: ttff %.0f ms, %d quality switches (heights",
              format.id, format.demuxer, full_.ttff_ms, full_.switches);
  for (int h : full_.heights) std::printf(" %d", h);
  std::printf(
      "), %lld frames from %.3f to %.3f s, duration %.3f s, seek to %.1f s landed at "
      "%.3f s\n",
      static_cast<long long>(full_.frames), full_.first_s, full_.end_s, full_.duration_s, middle,
      seek_.first_s);
}

INSTANTIATE_TEST_SUITE_P(Formats, GstPlayers, testing::ValuesIn(kFormats),
                         [](const testing::TestParamInfo<Format>& info) {
                           std::string name = info.param.id;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace

int main(int argc, char** argv) {
  // The adaptivedemux2 family is what this suite proves; make playbin3 pick it over the old one.
  g_setenv("GST_PLUGIN_FEATURE_RANK", "hlsdemux2:MAX,dashdemux2:MAX,mssdemux2:MAX", FALSE);
  gst_init(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
