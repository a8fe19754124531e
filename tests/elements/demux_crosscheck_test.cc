// amsdemux against an independent demuxer: for every track of an asset, `filesrc ! amsdemux` must
// push the same samples as `filesrc ! qtdemux` on the MP4 that holds the track: the same bytes,
// keyframe flags, and timestamps as running time (both put the edit-list shift in the segment, so
// raw timestamps may differ in convention but never in running time; expect_same_buffers says
// where the two differ by design), and the same caps.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

#include "codec/aac.h"
#include "demux_capture.h"
#include "model/builder.h"
#include "test_asset.h"

namespace ams::test {
namespace {

std::string dirname_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The qtdemux pad of track `track_id`: qtdemux ends its stream ids with "/%03u" of the track ID.
const PadCapture* qt_pad(const DemuxRun& run, uint32_t track_id) {
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "/%03u", track_id);
  for (const auto& [name, pad] : run.pads) {
    if (pad.stream_id.ends_with(suffix)) return &pad;
  }
  return nullptr;
}

void expect_same_caps(const PadCapture& ams, const PadCapture& qt) {
  ASSERT_TRUE(ams.caps && qt.caps);
  const GstStructure* a = gst_caps_get_structure(ams.caps.get(), 0);
  const GstStructure* q = gst_caps_get_structure(qt.caps.get(), 0);
  EXPECT_STREQ(gst_structure_get_name(a), gst_structure_get_name(q));
  for (const char* field : {"stream-format", "width", "height", "mpegversion"}) {
    if (!gst_structure_has_field(q, field)) continue;
    EXPECT_EQ(caps_field(ams.caps.get(), field), caps_field(qt.caps.get(), field)) << field;
  }
  auto ams_cd = caps_buffer(ams.caps.get(), "codec_data");
  auto qt_cd = caps_buffer(qt.caps.get(), "codec_data");
  ASSERT_TRUE(ams_cd && qt_cd) << "codec_data missing";
  EXPECT_EQ(*ams_cd, *qt_cd) << "codec_data";
  if (!gst_structure_has_name(a, "audio/mpeg")) return;
  // qtdemux copies channels from the sample entry, which ffmpeg always sets to 2 for AAC; the
  // AudioSpecificConfig (the same bytes on both sides, checked above) is what a decoder obeys.
  auto asc = codec::parse_audio_specific_config(*qt_cd);
  ASSERT_TRUE(asc) << asc.status().to_string();
  EXPECT_EQ(caps_field(ams.caps.get(), "rate"), std::to_string(asc->sample_rate));
  EXPECT_EQ(caps_field(ams.caps.get(), "channels"), std::to_string(asc->channel_config));
}

// Compares buffer by buffer; stops at the first difference (one report, not thousands). Where the
// two demuxers differ by design (docs/asset-model.md, "Times"):
// - amsdemux does not present what the edit list hides entirely: qtdemux's leading samples that
//   end at or before the segment start (AAC priming) are skipped;
// - a first frame that starts before 0 is moved to 0 by amsdemux (a priming shorter than a frame),
//   so the presentation times may differ by one constant of less than the first sample's duration;
// - decode times: qtdemux takes the edit's media time as the decode lead, amsdemux the least lead
//   that keeps every DTS at or before its PTS, so DTS running times differ by one constant;
// - each side rounds ticks to nanoseconds on its own: times agree to 1 ns.
// qtdemux leaves out the last AAC frame of ffmpeg's files (a short frame inside the edit, which
// ffprobe counts and amsdemux pushes). One extra sample is accepted, only at the very end, starting
// where qtdemux's last one ends.
int64_t signed_rt(int sign, uint64_t rt) {
  return sign * static_cast<int64_t>(rt);
}

void expect_same_buffers(const PadCapture& ams, const PadCapture& qt) {
  ASSERT_FALSE(qt.buffers.empty());
  size_t skip = 0;
  while (skip < qt.buffers.size() && signed_rt(qt.buffers[skip].pts_sign, qt.buffers[skip].pts_rt) +
                                             static_cast<int64_t>(qt.buffers[skip].duration) <=
                                         0) {
    ++skip;
  }
  const size_t qt_count = qt.buffers.size() - skip;
  const bool extra_last = ams.buffers.size() == qt_count + 1 && qt_count > 0 &&
                          signed_rt(ams.buffers.back().pts_sign, ams.buffers.back().pts_rt) + 1 >=
                              signed_rt(qt.buffers.back().pts_sign, qt.buffers.back().pts_rt) +
                                  static_cast<int64_t>(qt.buffers.back().duration);
  if (!extra_last) {
    EXPECT_EQ(ams.buffers.size(), qt_count) << skip << " leading qtdemux samples skipped";
  }
  const size_t n = std::min(ams.buffers.size(), qt_count);
  ASSERT_GT(n, 0u);
  const auto pts = [](const CapturedBuffer& b) { return signed_rt(b.pts_sign, b.pts_rt); };
  const auto dts = [](const CapturedBuffer& b) { return signed_rt(b.dts_sign, b.dts_rt); };
  const int64_t pts_shift = pts(ams.buffers[0]) - pts(qt.buffers[skip]);
  const int64_t dts_shift = dts(ams.buffers[0]) - dts(qt.buffers[skip]);
  EXPECT_GE(pts_shift, 0);
  EXPECT_LT(pts_shift, std::max<int64_t>(1, qt.buffers[skip].duration));
  for (size_t i = 0; i < n; ++i) {
    const CapturedBuffer& a = ams.buffers[i];
    const CapturedBuffer& q = qt.buffers[skip + i];
    // Times are compared to the nanosecond: each side rounds ticks to nanoseconds on its own.
    const auto near = [](int64_t x, int64_t y) { return x - y <= 1 && y - x <= 1; };
    if (a.data == q.data && a.delta == q.delta && near(pts(a), pts(q) + pts_shift) &&
        near(dts(a), dts(q) + dts_shift) && dts(a) <= pts(a) && pts(a) >= 0) {
      continue;
    }
    ADD_FAILURE() << "sample " << i << " (qtdemux " << skip + i << ") differs: bytes "
                  << a.data.size() << " vs " << q.data.size()
                  << (a.data == q.data ? " (same)" : " (differ)") << ", delta " << a.delta << " vs "
                  << q.delta << ", pts running time " << pts(a) << " vs " << pts(q) << " (+"
                  << pts_shift << "), dts running time " << dts(a) << " vs " << dts(q) << " (+"
                  << dts_shift << ")";
    return;
  }
}

// Every track amsdemux exposes for `location` (an .ism or an MP4) against qtdemux on its file.
void expect_same_as_qtdemux(const std::string& location, size_t expected_tracks) {
  auto presentation = model::build_presentation(location);
  ASSERT_TRUE(presentation) << presentation.status().to_string();
  const DemuxRun ams = run_demux(location, "amsdemux");
  ASSERT_TRUE(ams.eos) << ams.error;
  ASSERT_EQ(ams.pads.size(), expected_tracks);
  std::map<std::string, DemuxRun> qt_runs;
  std::map<model::TrackType, int> counts;
  for (const model::Track& t : (*presentation)->tracks) {
    const std::string pad_name =
        std::string(model::track_type_name(t.type)) + "_" + std::to_string(counts[t.type]++);
    const std::string file = t.file.starts_with('/') ? t.file : dirname_of(location) + "/" + t.file;
    SCOPED_TRACE(pad_name + " (" + t.name + ") vs qtdemux on " + file + " track " +
                 std::to_string(t.file_track_id));
    auto it = qt_runs.find(file);
    if (it == qt_runs.end()) it = qt_runs.emplace(file, run_demux(file, "qtdemux")).first;
    ASSERT_TRUE(it->second.eos) << it->second.error;
    const PadCapture* qt = qt_pad(it->second, t.file_track_id);
    ASSERT_NE(qt, nullptr);
    auto pad = ams.pads.find(pad_name);
    ASSERT_NE(pad, ams.pads.end());
    expect_same_caps(pad->second, *qt);
    expect_same_buffers(pad->second, *qt);
  }
}

#define ASSET_OR_FAIL(var, expr)  \
  std::string why;                \
  const std::string var = (expr); \
  if (var.empty()) GTEST_FAIL() << why;

TEST(DemuxCrosscheck, AmsEncodeAssetThroughIsm) {
  std::string why;
  const std::string ism = ams_encode_asset(why);
  ASSERT_FALSE(ism.empty()) << why;
  expect_same_as_qtdemux(ism, 3);  // two video rungs, one audio
}

TEST(DemuxCrosscheck, AmsEncodeMp4Directly) {
  std::string why;
  const std::string ism = ams_encode_asset(why);
  ASSERT_FALSE(ism.empty()) << why;
  auto presentation = model::build_presentation(ism);
  ASSERT_TRUE(presentation) << presentation.status().to_string();
  // The top rung's MP4 (video and the audio muxed with it).
  expect_same_as_qtdemux(dirname_of(ism) + "/" + (*presentation)->tracks[0].file, 2);
}

TEST(DemuxCrosscheck, FfmpegBFramesEditList2997Audio441) {
  ASSET_OR_FAIL(mp4, ffmpeg_asset("bframes.mp4",
                                  {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24000/1001",
                                   "-f", "lavfi", "-i", "sine=sample_rate=44100", "-t", "4", "-c:v",
                                   "libx264", "-bf", "2", "-g", "24", "-c:a", "aac"},
                                  why));
  expect_same_as_qtdemux(mp4, 2);
}

TEST(DemuxCrosscheck, AudioInASeparateFileNamedByIsm) {
  ASSET_OR_FAIL(video, ffmpeg_asset("sep_video.mp4",
                                    {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t",
                                     "4", "-c:v", "libx264", "-g", "50", "-an"},
                                    why));
  const std::string audio = ffmpeg_asset(
      "sep_audio.mp4",
      {"-f", "lavfi", "-i", "sine=sample_rate=48000", "-t", "4", "-c:a", "aac", "-vn"}, why);
  ASSERT_FALSE(audio.empty()) << why;
  const std::string ism = write_asset_file("separate.ism", R"(<?xml version="1.0" encoding="utf-8"?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head><meta name="formats" content="mp4-v3" /></head>
  <body>
    <switch>
      <video src="sep_video.mp4" systemBitrate="300000">
        <param name="trackID" value="1" valuetype="data" />
        <param name="trackName" value="video" valuetype="data" />
      </video>
      <audio src="sep_audio.mp4" systemBitrate="128000" systemLanguage="eng">
        <param name="trackID" value="1" valuetype="data" />
        <param name="trackName" value="aac_eng_2_128000_1_1" valuetype="data" />
      </audio>
    </switch>
  </body>
</smil>
)");
  expect_same_as_qtdemux(ism, 2);
}

TEST(DemuxCrosscheck, Hevc) {
  ASSET_OR_FAIL(
      mp4, ffmpeg_asset("hevc.mp4",
                        {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i",
                         "sine=sample_rate=48000", "-t", "3", "-c:v", "libx265", "-x265-params",
                         "keyint=30:log-level=error", "-c:a", "aac"},
                        why));
  expect_same_as_qtdemux(mp4, 2);
}

TEST(DemuxCrosscheck, FragmentedMp4) {
  ASSET_OR_FAIL(
      mp4, ffmpeg_asset("fragmented.mp4",
                        {"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i",
                         "sine=sample_rate=48000", "-t", "4", "-c:v", "libx264", "-g", "30", "-c:a",
                         "aac", "-movflags", "frag_keyframe+empty_moov"},
                        why));
  expect_same_as_qtdemux(mp4, 2);
}

}  // namespace
}  // namespace ams::test

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  ams::test::remove_asset_dir();
  return rc;
}
