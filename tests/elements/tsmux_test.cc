// amstsmux: HLS TS segments made one pipeline run each (as the server makes them), concatenated and
// read back by tsdemux, decoders and ffprobe. A player notices gaps, continuity errors, lost
// frames and changed bytes; so do these tests.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "gstptr.h"
#include "model/builder.h"
#include "test_asset.h"

namespace ams::test {
namespace {

using gst::GstPtr;

constexpr uint16_t kVideoPid = 0x100, kAudioPid = 0x101;

// --- Running pipelines ---------------------------------------------------------------------------

struct Pulled {
  std::vector<GstPtr<GstSample>> samples;
  std::string error;
};

// Runs `description`, which ends in an appsink named "out", to EOS; returns what the sink got.
Pulled pull_all(const std::string& description, bool lists = false) {
  Pulled r;
  GError* err = nullptr;
  auto pipeline = GstPtr<GstElement>::sink(
      gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err));
  if (!pipeline) {
    r.error = std::string("parse: ") + (err ? err->message : "?");
    g_clear_error(&err);
    return r;
  }
  GstPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  g_object_set(sink.get(), "sync", FALSE, "buffer-list", lists, nullptr);
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  const gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  // An error posts its message before the EOS that follows it reaches the sink: look at the bus
  // once more after EOS.
  auto take_error = [&]() {
    GstPtr<GstMessage> msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    if (!msg) return false;
    GError* e = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg.get(), &e, &debug);
    r.error = std::string(e->message) + " (" + (debug ? debug : "") + ")";
    g_error_free(e);
    g_free(debug);
    return true;
  };
  bool eos = false;
  while (!eos && g_get_monotonic_time() < deadline) {
    if (take_error()) break;
    GstSample* s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 50 * GST_MSECOND);
    if (s) {
      r.samples.emplace_back(s);
    } else {
      eos = gst_app_sink_is_eos(GST_APP_SINK(sink.get()));
    }
  }
  if (eos) take_error();
  if (!eos && r.error.empty()) r.error = "timeout";
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return r;
}

Bytes buffer_bytes(GstBuffer* b) {
  Bytes out(gst_buffer_get_size(b));
  gst_buffer_extract(b, 0, out.data(), out.size());
  return out;
}

// One buffer list from amstsmux.
struct Segment {
  Bytes data;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  guint64 offset = 0;
  bool discont = false;
};

std::vector<Segment> segments_of(const Pulled& pulled) {
  std::vector<Segment> out;
  for (const auto& s : pulled.samples) {
    GstBufferList* list = gst_sample_get_buffer_list(s.get());
    EXPECT_NE(list, nullptr) << "amstsmux pushed a buffer, not a buffer list";
    if (!list || gst_buffer_list_length(list) == 0) continue;
    Segment seg;
    GstBuffer* first = gst_buffer_list_get(list, 0);
    seg.pts = GST_BUFFER_PTS(first);
    seg.duration = GST_BUFFER_DURATION(first);
    seg.offset = GST_BUFFER_OFFSET(first);
    seg.discont = GST_BUFFER_FLAG_IS_SET(first, GST_BUFFER_FLAG_DISCONT);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) {
      Bytes b = buffer_bytes(gst_buffer_list_get(list, i));
      seg.data.insert(seg.data.end(), b.begin(), b.end());
    }
    out.push_back(std::move(seg));
  }
  return out;
}

// --- Reading the TS itself -----------------------------------------------------------------------

struct TsInfo {
  std::map<uint16_t, size_t> packets;
  std::set<uint16_t> pcr_pids;
  std::vector<std::string> continuity_errors;
  std::map<uint16_t, std::vector<int64_t>> pes_pts;  // 90 kHz, in file order
  std::map<uint16_t, std::vector<bool>> random_access;
};

int64_t read_pts(const uint8_t* p) {
  return (int64_t{p[0] & 0x0e} << 29) | (int64_t{p[1]} << 22) | (int64_t{p[2] >> 1} << 15) |
         (int64_t{p[3]} << 7) | (p[4] >> 1);
}

TsInfo parse_ts(const Bytes& ts) {
  TsInfo info;
  EXPECT_EQ(ts.size() % 188, 0u);
  std::map<uint16_t, int> last_cc;
  for (size_t off = 0; off + 188 <= ts.size(); off += 188) {
    const uint8_t* b = &ts[off];
    EXPECT_EQ(b[0], 0x47);
    const uint16_t pid = static_cast<uint16_t>(((b[1] & 0x1f) << 8) | b[2]);
    ++info.packets[pid];
    const int cc = b[3] & 0xf;
    if (last_cc.count(pid) && cc != ((last_cc[pid] + 1) & 0xf)) {
      info.continuity_errors.push_back("PID " + std::to_string(pid) + " at byte " +
                                       std::to_string(off) + ": " + std::to_string(cc) + " after " +
                                       std::to_string(last_cc[pid]));
    }
    last_cc[pid] = cc;
    size_t pos = 4;
    bool rai = false;
    if (b[3] & 0x20) {
      if (b[4] > 0) {
        rai = b[5] & 0x40;
        if (b[5] & 0x10) info.pcr_pids.insert(pid);
      }
      pos += 1 + b[4];
    }
    const bool unit_start = b[1] & 0x40;
    if (unit_start && pos + 14 <= 188 && b[pos] == 0 && b[pos + 1] == 0 && b[pos + 2] == 1) {
      info.pes_pts[pid].push_back(read_pts(&b[pos + 9]));
      info.random_access[pid].push_back(rai);
    }
  }
  return info;
}

// --- Decoding and comparing ----------------------------------------------------------------------

std::vector<GstClockTime> decoded_pts(const std::string& file, const std::string& branch) {
  Pulled r =
      pull_all("filesrc location=\"" + file + "\" ! tsdemux ! " + branch + " ! appsink name=out");
  EXPECT_EQ(r.error, "");
  std::vector<GstClockTime> pts;
  for (const auto& s : r.samples) pts.push_back(GST_BUFFER_PTS(gst_sample_get_buffer(s.get())));
  return pts;
}

// Every step between consecutive presentation times equals `step` (within 1 ms): no gap, no
// overlap, at segment boundaries too.
void expect_continuous(std::vector<GstClockTime> pts, GstClockTime step) {
  std::sort(pts.begin(), pts.end());
  for (size_t i = 1; i < pts.size(); ++i) {
    const GstClockTimeDiff d = GST_CLOCK_DIFF(pts[i - 1], pts[i]);
    ASSERT_NEAR(static_cast<double>(d), static_cast<double>(step), 1e6)
        << "between frames " << i - 1 << " and " << i;
  }
}

// The NAL units of an Annex B access unit without AUD, SPS and PPS (which the TS adds).
std::vector<Bytes> coded_nals(const Bytes& au) {
  std::vector<Bytes> nals;
  size_t i = 0, start = SIZE_MAX;
  auto close = [&](size_t end) {
    if (start == SIZE_MAX) return;
    while (end > start && au[end - 1] == 0) --end;
    const uint8_t type = au[start] & 0x1f;
    if (type != 7 && type != 8 && type != 9)
      nals.emplace_back(au.begin() + start, au.begin() + end);
  };
  while (i + 3 <= au.size()) {
    if (au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1) {
      close(i);
      start = i + 3;
      i += 3;
    } else {
      ++i;
    }
  }
  close(au.size());
  return nals;
}

std::vector<Bytes> pulled_bytes(const Pulled& r) {
  std::vector<Bytes> out;
  for (const auto& s : r.samples) out.push_back(buffer_bytes(gst_sample_get_buffer(s.get())));
  return out;
}

Bytes read_file_bytes(const std::string& path) {
  const std::string text = read_file(path);
  return Bytes(text.begin(), text.end());
}

bool write_file(const std::string& path, const Bytes& data) {
  return g_file_set_contents(path.c_str(), reinterpret_cast<const gchar*>(data.data()),
                             static_cast<gssize>(data.size()), nullptr);
}

// --- The fixture ---------------------------------------------------------------------------------

class TsMuxTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    ism_ = new std::string(test_asset(why));
    if (ism_->empty()) return;
    auto built = model::build_presentation(*ism_);
    if (built.is_ok()) presentation_ = new std::shared_ptr<const model::Presentation>(*built);
  }
  void SetUp() override {
    if (ism_->empty() || !presentation_) GTEST_FAIL() << "no test asset";
    dir_ = make_temp_dir();
    video_ = presentation().tracks_of(model::TrackType::kVideo).back();
    audio_ = presentation().tracks_of(model::TrackType::kAudio).front();
    ASSERT_GE(video_->fragments.size(), 3u);
  }
  void TearDown() override { remove_tree(dir_); }

  const model::Presentation& presentation() const { return **presentation_; }
  std::string video_selector() const { return "video@" + std::to_string(video_->bitrate); }
  std::string source_file(const model::Track& t) const {
    return ism_->substr(0, ism_->rfind('/') + 1) + t.file;
  }

  // The amsdemux ! amstsmux pipeline: v3 muxes the audio track with the video.
  std::string launch(bool v3, const std::string& demux_props, const std::string& mux_props) const {
    const std::string tracks = video_selector() + (v3 ? "," + audio_->name : "");
    std::string d =
        "filesrc location=\"" + *ism_ + "\" ! amsdemux name=d tracks=" + tracks + " " + demux_props;
    const std::string m = "amstsmux name=m " + mux_props + " ! appsink name=out";
    return v3 ? d + " d.video_0 ! " + m + " d.audio_0 ! m." : d + " ! " + m;
  }

  // Segment n of fragments [n*k, n*k+k), one pipeline run each, like the server.
  std::vector<Segment> segments_alone(bool v3, guint k) {
    std::vector<Segment> out;
    for (size_t f = 0; f < video_->fragments.size(); f += k) {
      const std::string props = "fragment-time=" + std::to_string(video_->fragment_start_10mhz(f)) +
                                " fragment-count=" + std::to_string(k);
      Pulled r = pull_all(launch(v3, props, "fragments-per-segment=" + std::to_string(k)), true);
      EXPECT_EQ(r.error, "");
      std::vector<Segment> got = segments_of(r);
      EXPECT_EQ(got.size(), 1u) << "one buffer list per segment";
      if (!got.empty()) out.push_back(std::move(got[0]));
    }
    return out;
  }

  std::string concatenate(const std::vector<Segment>& segments, const std::string& name) const {
    Bytes all;
    for (const Segment& s : segments) all.insert(all.end(), s.data.begin(), s.data.end());
    const std::string path = dir_ + "/" + name;
    EXPECT_TRUE(write_file(path, all));
    return path;
  }

  GstClockTime frame_duration(const model::Track& t) const {
    return gst_util_uint64_scale(t.samples()[0].duration, GST_SECOND, t.timescale);
  }

  static std::string* ism_;
  static std::shared_ptr<const model::Presentation>* presentation_;
  const model::Track* video_ = nullptr;
  const model::Track* audio_ = nullptr;
  std::string dir_;
};
std::string* TsMuxTest::ism_ = nullptr;
std::shared_ptr<const model::Presentation>* TsMuxTest::presentation_ = nullptr;

TEST_F(TsMuxTest, V4SegmentsMadeAloneChainIntoOneContinuousStream) {
  const std::vector<Segment> segments = segments_alone(false, 1);
  ASSERT_EQ(segments.size(), video_->fragments.size());
  for (size_t n = 0; n < segments.size(); ++n) {
    SCOPED_TRACE("segment " + std::to_string(n));
    const model::Fragment& f = video_->fragments[n];
    EXPECT_EQ(segments[n].offset, n);
    EXPECT_EQ(segments[n].pts, gst_util_uint64_scale(f.start, GST_SECOND, video_->timescale));
    EXPECT_NEAR(
        static_cast<double>(segments[n].duration),
        static_cast<double>(gst_util_uint64_scale(f.duration, GST_SECOND, video_->timescale)), 1e3);
    EXPECT_TRUE(segments[n].discont);  // each run starts a stream of its own
    // The first PES of a segment presents at its fragment's start, 10 s later.
    const TsInfo info = parse_ts(segments[n].data);
    ASSERT_FALSE(info.pes_pts.at(kVideoPid).empty());
    EXPECT_EQ(
        *std::min_element(info.pes_pts.at(kVideoPid).begin(), info.pes_pts.at(kVideoPid).end()),
        900000 + static_cast<int64_t>(gst_util_uint64_scale(f.start, 90000, video_->timescale)));
    EXPECT_TRUE(info.random_access.at(kVideoPid).front());
  }
  const std::string file = concatenate(segments, "v4.ts");
  const TsInfo info = parse_ts(read_file_bytes(file));
  EXPECT_EQ(info.continuity_errors, std::vector<std::string>());
  EXPECT_EQ(info.packets.count(kAudioPid), 0u);
  EXPECT_EQ(info.pcr_pids, std::set<uint16_t>{kVideoPid});
  EXPECT_EQ(info.pes_pts.at(kVideoPid).size(), video_->samples().size());

  // Every frame decodes, none lost, and no gap or overlap at the segment boundaries.
  const auto pts = decoded_pts(file, "h264parse ! avdec_h264");
  EXPECT_EQ(pts.size(), video_->samples().size());
  expect_continuous(pts, frame_duration(*video_));

  // The same bytes as one run over the whole track.
  Pulled whole = pull_all(launch(false, "", "fragments-per-segment=1"), true);
  ASSERT_EQ(whole.error, "");
  const std::vector<Segment> in_one_run = segments_of(whole);
  ASSERT_EQ(in_one_run.size(), segments.size());
  for (size_t n = 0; n < segments.size(); ++n) {
    EXPECT_EQ(in_one_run[n].data, segments[n].data) << "segment " << n;
    EXPECT_EQ(in_one_run[n].discont, n == 0);
  }
}

TEST_F(TsMuxTest, VideoBytesAreTheSourceSamplesInAnnexB) {
  const std::string file = concatenate(segments_alone(false, 2), "v4.ts");
  const std::string to_annexb = "h264parse ! video/x-h264,stream-format=byte-stream,alignment=au";
  Pulled ours = pull_all("filesrc location=\"" + file + "\" ! tsdemux ! " + to_annexb +
                         " ! appsink name=out");
  Pulled source = pull_all("filesrc location=\"" + source_file(*video_) + "\" ! qtdemux ! " +
                           to_annexb + " ! appsink name=out");
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(source.error, "");
  const auto a = pulled_bytes(ours), b = pulled_bytes(source);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.size(), video_->samples().size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(coded_nals(a[i]), coded_nals(b[i])) << "access unit " << i;
  }
}

TEST_F(TsMuxTest, EachSegmentDecodesAlone) {
  const std::vector<Segment> segments = segments_alone(false, 1);
  ASSERT_EQ(segments.size(), video_->fragments.size());
  const std::string file = dir_ + "/one.ts";
  ASSERT_TRUE(write_file(file, segments[1].data));
  EXPECT_EQ(decoded_pts(file, "h264parse ! avdec_h264").size(), video_->fragments[1].sample_count);
}

TEST_F(TsMuxTest, V3SegmentsCarryTheAudioTrackMuxedAndComplete) {
  const std::vector<Segment> segments = segments_alone(true, 2);
  ASSERT_EQ(segments.size(), (video_->fragments.size() + 1) / 2);
  EXPECT_EQ(segments.back().offset, segments.size() - 1);
  const std::string file = concatenate(segments, "v3.ts");
  for (const Segment& s : segments) {
    const TsInfo info = parse_ts(s.data);
    EXPECT_GT(info.packets.count(kAudioPid), 0u) << "segment " << s.offset << " without audio";
    EXPECT_GT(info.packets.count(kVideoPid), 0u);
  }
  const TsInfo info = parse_ts(read_file_bytes(file));
  EXPECT_EQ(info.continuity_errors, std::vector<std::string>());
  EXPECT_EQ(info.pcr_pids, std::set<uint16_t>{kVideoPid});

  EXPECT_EQ(decoded_pts(file, "h264parse ! avdec_h264").size(), video_->samples().size());
  const auto audio_pts = decoded_pts(file, "aacparse ! avdec_aac");
  EXPECT_EQ(audio_pts.size(), audio_->samples().size());
  expect_continuous(audio_pts, frame_duration(*audio_));

  // AAC frames as stored in the MP4 once the ADTS headers are taken off again.
  const std::string to_raw = "aacparse ! audio/mpeg,stream-format=raw";
  Pulled ours =
      pull_all("filesrc location=\"" + file + "\" ! tsdemux ! " + to_raw + " ! appsink name=out");
  Pulled source = pull_all("filesrc location=\"" + source_file(*audio_) + "\" ! qtdemux ! " +
                           to_raw + " ! appsink name=out");
  ASSERT_EQ(ours.error, "");
  ASSERT_EQ(source.error, "");
  EXPECT_EQ(pulled_bytes(ours), pulled_bytes(source));
}

TEST_F(TsMuxTest, AudioOnlySegmentsCarryThePcrOnTheAudioPid) {
  const std::string tracks = audio_->name;
  Pulled r = pull_all("filesrc location=\"" + *ism_ + "\" ! amsdemux tracks=" + tracks +
                          " ! amstsmux fragments-per-segment=1 ! appsink name=out",
                      true);
  ASSERT_EQ(r.error, "");
  const std::vector<Segment> segments = segments_of(r);
  EXPECT_EQ(segments.size(), audio_->fragments.size());
  const std::string file = concatenate(segments, "audio.ts");
  const TsInfo info = parse_ts(read_file_bytes(file));
  EXPECT_EQ(info.pcr_pids, std::set<uint16_t>{kAudioPid});
  EXPECT_EQ(info.packets.count(kVideoPid), 0u);
  EXPECT_EQ(info.continuity_errors, std::vector<std::string>());
  EXPECT_EQ(decoded_pts(file, "aacparse ! avdec_aac").size(), audio_->samples().size());
}

TEST_F(TsMuxTest, PackingRatioComesFromThePresentationByDefault) {
  const guint k = presentation().fragments_per_hls_segment;
  ASSERT_GT(k, 0u);
  Pulled r = pull_all(launch(false, "", ""), true);
  ASSERT_EQ(r.error, "");
  const std::vector<Segment> segments = segments_of(r);
  ASSERT_EQ(segments.size(), (video_->fragments.size() + k - 1) / k);
  const size_t last = std::min<size_t>(k, video_->fragments.size()) - 1;
  const model::Fragment& end = video_->fragments[last];
  EXPECT_EQ(segments[0].pts, 0u);
  EXPECT_NEAR(static_cast<double>(segments[0].duration),
              static_cast<double>(
                  gst_util_uint64_scale(end.start + end.duration, GST_SECOND, video_->timescale)),
              1e3);
}

TEST_F(TsMuxTest, KeyFramesSegmentHoldsTheFragmentsFirstFrameOnly) {
  GstPtr<GstElement> demux =
      GstPtr<GstElement>::sink(gst_element_factory_make("amsdemux", nullptr));
  ASSERT_TRUE(demux);
  ASSERT_TRUE(g_object_class_find_property(G_OBJECT_GET_CLASS(demux.get()), "key-units-only"));
  const std::string props =
      "key-units-only=true fragment-time=" + std::to_string(video_->fragment_start_10mhz(1));
  Pulled r = pull_all(launch(false, props, "fragments-per-segment=1"), true);
  ASSERT_EQ(r.error, "");
  const std::vector<Segment> segments = segments_of(r);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].offset, 1u);
  const TsInfo info = parse_ts(segments[0].data);
  ASSERT_EQ(info.pes_pts.at(kVideoPid).size(), 1u);
  EXPECT_TRUE(info.random_access.at(kVideoPid)[0]);
  const std::string file = dir_ + "/iframe.ts";
  ASSERT_TRUE(write_file(file, segments[0].data));
  EXPECT_EQ(decoded_pts(file, "h264parse ! avdec_h264").size(), 1u);
}

TEST_F(TsMuxTest, FfprobeSeesTheStreamsWithoutComplaint) {
  std::string version;
  if (run_command({"ffprobe", "-version"}, &version, 30) != 0) GTEST_FAIL() << "no ffprobe";
  const std::string file = concatenate(segments_alone(true, 1), "v3.ts");
  std::string out;
  ASSERT_EQ(run_command({"sh", "-c",
                         "ffprobe -v warning -show_packets -show_entries stream=codec_name "
                         "-of compact \"" +
                             file + "\" 2>&1"},
                        &out, 60),
            0);
  EXPECT_NE(out.find("codec_name=h264"), std::string::npos);
  EXPECT_NE(out.find("codec_name=aac"), std::string::npos);
  EXPECT_EQ(out.find("iscontinuity"), std::string::npos) << out.substr(0, 2000);
  EXPECT_EQ(out.find("ontinuity"), std::string::npos);
  EXPECT_EQ(out.find("corrupt"), std::string::npos);
}

TEST_F(TsMuxTest, WithoutAmsdemuxUpstreamItFailsClearly) {
  Pulled r = pull_all("filesrc location=\"" + source_file(*video_) +
                      "\" ! qtdemux ! h264parse ! amstsmux ! appsink name=out");
  EXPECT_NE(r.error.find("needs amsdemux upstream"), std::string::npos) << r.error;
}

}  // namespace
}  // namespace ams::test

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
