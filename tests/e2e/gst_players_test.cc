// GStreamer's own adaptive demuxers (hlsdemux2, dashdemux2, mssdemux2) behind playbin3 play every
// format the endpoint serves: to EOS without an error, every video frame decoded exactly once, the
// full duration, and a seek to the middle that lands within one fragment (one segment for TS).
//
// tests/e2e/run_e2e.sh starts the endpoint and sets the environment:
//   AMS_E2E_BASE      http://127.0.0.1:PORT/{locator}/{name}.ism
//   AMS_E2E_FRAMES    video samples per rung; AMS_E2E_VIDEO_DURATION, AMS_E2E_DURATION (seconds)
//   AMS_E2E_FRAGMENT  fragment duration (s); AMS_E2E_TS_SEGMENT  HLS v3/v4 segment duration (s)
//   AMS_E2E_RESULTS   JSON-lines file the result of each format is appended to
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
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
Playback play(const std::string& uri, std::optional<double> seek_to) {
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
  const auto deadline = started + std::chrono::seconds(90);
  while (!result.eos && result.error.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      result.error = "no EOS within 90 s";
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

class GstPlayers : public testing::TestWithParam<Format> {
 protected:
  void SetUp() override {
    auto base = env("AMS_E2E_BASE");
    if (!base) GTEST_SKIP() << "AMS_E2E_BASE is not set: run through tests/e2e/run_e2e.sh";
    url_ = *base + "/" + GetParam().manifest;
  }

  // One line per format in the result file, written whatever happened.
  void TearDown() override {
    auto path = env("AMS_E2E_RESULTS");
    if (!path || IsSkipped()) return;
    std::ofstream out(*path, std::ios::app);
    std::ostringstream heights;
    for (size_t i = 0; i < full_.heights.size(); ++i) heights << (i ? "," : "") << full_.heights[i];
    out << "{\"client\":\"gstreamer\",\"format\":" << json_string(GetParam().id)
        << ",\"ok\":" << (HasFailure() ? "false" : "true") << ",\"url\":" << json_string(url_)
        << ",\"ttff_ms\":" << std::lround(full_.ttff_ms) << ",\"switches\":" << full_.switches
        << ",\"frames\":" << full_.frames << ",\"duration\":" << full_.duration_s
        << ",\"seek_landed\":" << seek_.first_s << ",\"heights\":[" << heights.str() << "]"
        << ",\"demuxer\":" << json_string(full_.demuxers.empty() ? "" : full_.demuxers.front())
        << ",\"error\":" << json_string(summary()) << "}\n";
  }

  // What went wrong, in one line for the result file (the test log has every failed check).
  std::string summary() const {
    if (!HasFailure()) return "";
    if (!full_.error.empty()) return full_.error;
    if (!seek_.error.empty()) return "after a seek: " + seek_.error;
    if (full_.frames != std::atoll(env("AMS_E2E_FRAMES").value_or("0").c_str()))
      return std::to_string(full_.frames) + " video frames decoded";
    if (seek_.frames == 0)
      return "no video frame after a flushing key-unit seek to the middle, then EOS";
    return "a check failed: see the test log";
  }

  std::string url_;
  Playback full_;
  Playback seek_;
};

TEST_P(GstPlayers, PlaysToTheEndAndSeeks) {
  const Format& format = GetParam();
  const int64_t frames = std::atoll(env("AMS_E2E_FRAMES").value_or("0").c_str());
  const double video_duration = env_seconds("AMS_E2E_VIDEO_DURATION");
  const double duration = env_seconds("AMS_E2E_DURATION");
  const double unit =
      format.ts_segments ? env_seconds("AMS_E2E_TS_SEGMENT") : env_seconds("AMS_E2E_FRAGMENT");
  ASSERT_GT(frames, 0);
  ASSERT_GT(unit, 0);

  full_ = play(url_, std::nullopt);
  std::string ctx = " (" + url_ + ")";
  EXPECT_EQ(full_.error, "") << ctx;
  EXPECT_TRUE(full_.eos) << ctx;
  ASSERT_FALSE(full_.demuxers.empty()) << ctx;
  EXPECT_EQ(full_.demuxers.front(), format.demuxer) << ctx;
  // Every frame once: a bitrate switch must neither repeat nor drop a frame.
  EXPECT_EQ(full_.frames, frames) << ctx;
  // The first frame may be presented a few frames after 0: B-frames delay it and MPEG-TS has no
  // edit list to take that off (qtdemux shows the source MP4 itself starting at 67 ms). Beyond
  // that, the frames must cover the video's duration with no gap.
  EXPECT_GE(full_.first_s, 0.0) << ctx;
  EXPECT_LT(full_.first_s, 0.1) << ctx;
  EXPECT_NEAR(full_.end_s - full_.first_s, video_duration, 0.002) << ctx;
  // The manifest's duration: the video's or the asset's (audio can run a little longer).
  EXPECT_GE(full_.duration_s, video_duration - 0.05) << ctx;
  EXPECT_LE(full_.duration_s, duration + 0.05) << ctx;

  const double middle = video_duration / 2;
  seek_ = play(url_, middle);
  EXPECT_EQ(seek_.error, "") << "seek to " << middle << " s" << ctx;
  EXPECT_TRUE(seek_.eos) << ctx;
  EXPECT_LE(std::fabs(seek_.first_s - middle), unit) << "landed at " << seek_.first_s << ctx;
  // From where it landed, every frame to the end.
  const double fps = frames / video_duration;
  EXPECT_NEAR(static_cast<double>(seek_.frames), (full_.end_s - seek_.first_s) * fps, 0.01)
      << "landed at " << seek_.first_s << ctx;
  EXPECT_NEAR(seek_.end_s, full_.end_s, 0.001) << ctx;

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
