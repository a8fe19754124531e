// amsmanifestsink: the text it posts and writes is the core's rendering, for every format and for
// media playlists; it ends promptly in gst-launch; it never makes amsdemux read sample payload.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "model/builder.h"
#include "test_asset.h"

namespace ams::test {
namespace {

class ManifestSinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;  // a local: a `new std::string()` here was never freed (LeakSanitizer)
    ism_ = new std::string(test_asset(why));
    if (!ism_->empty()) {
      auto built = model::build_presentation(*ism_);
      if (built.is_ok()) presentation_ = new std::shared_ptr<const model::Presentation>(*built);
    }
  }
  void SetUp() override {
    if (ism_->empty() || presentation_ == nullptr) GTEST_FAIL() << "no test asset";
    dir_ = make_temp_dir();
  }
  void TearDown() override { remove_tree(dir_); }

  const model::Presentation& presentation() const { return **presentation_; }
  std::string launch(const std::string& sink_properties) const {
    return "filesrc location=\"" + *ism_ + "\" ! amsdemux ! amsmanifestsink " + sink_properties;
  }

  static std::string* ism_;
  static std::shared_ptr<const model::Presentation>* presentation_;
  std::string dir_;
};
std::string* ManifestSinkTest::ism_ = nullptr;
std::shared_ptr<const model::Presentation>* ManifestSinkTest::presentation_ = nullptr;

TEST_F(ManifestSinkTest, EveryFormatRendersTheCoreTextToTheBusAndTheFile) {
  for (const char* name : {"", "fmp4", "fmp4-v20", "m3u8-aapl", "m3u8-aapl-v4", "m3u8-aapl-v3",
                           "m3u8-cmaf", "mpd-time-csf", "mpd-time-cmaf"}) {
    SCOPED_TRACE(name);
    const manifest::Format format = *manifest::format_from_name(name);
    auto expected = manifest::render_master(presentation(), format, {});
    ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
    const std::string file = dir_ + "/manifest";
    PipelineRun run =
        run_launch(launch("format=\"" + std::string(name) + "\" location=\"" + file + "\""));
    ASSERT_TRUE(run.eos) << run.error;
    ASSERT_EQ(run.manifests.size(), 1u);
    EXPECT_EQ(run.manifests[0], *expected);
    EXPECT_EQ(run.content_types[0], manifest::content_type(format));
    EXPECT_EQ(read_file(file), *expected);
  }
}

TEST_F(ManifestSinkTest, MediaPlaylistsOfOneVideoLevelAndOfAudio) {
  const model::Track& video = *presentation().tracks_of(model::TrackType::kVideo).back();
  const model::Track& audio = *presentation().tracks_of(model::TrackType::kAudio).front();
  struct Case {
    const char* format;
    const model::Track* track;
    bool keyframes;
  };
  for (const Case& c : {Case{"m3u8-aapl", &video, false}, Case{"m3u8-aapl", &video, true},
                        Case{"m3u8-aapl", &audio, false}, Case{"m3u8-cmaf", &video, false},
                        Case{"m3u8-aapl-v3", &video, false}}) {
    SCOPED_TRACE(std::string(c.format) + " " + c.track->name + (c.keyframes ? " keyframes" : ""));
    const manifest::Format format = *manifest::format_from_name(c.format);
    auto expected =
        manifest::render_media_playlist(presentation(), format, *c.track, {}, c.keyframes);
    ASSERT_TRUE(expected.is_ok()) << expected.status().to_string();
    PipelineRun run = run_launch(launch(
        std::string("format=") + c.format + " track=\"" + c.track->name +
        "\" bitrate=" + std::to_string(c.track->bitrate) + (c.keyframes ? " keyframes=true" : "")));
    ASSERT_TRUE(run.eos) << run.error;
    ASSERT_EQ(run.manifests.size(), 1u);
    EXPECT_EQ(run.manifests[0], *expected);
  }
}

TEST_F(ManifestSinkTest, MasterOptionsReachTheWriter) {
  manifest::Options options;
  options.audio_only = false;
  auto expected = manifest::render_master(presentation(), manifest::Format::kHlsV4, options);
  PipelineRun run = run_launch(launch("format=m3u8-aapl audio-only=false"));
  ASSERT_TRUE(run.eos) << run.error;
  ASSERT_EQ(run.manifests.size(), 1u);
  EXPECT_EQ(run.manifests[0], *expected);
  EXPECT_NE(run.manifests[0],
            *manifest::render_master(presentation(), manifest::Format::kHlsV4, {}));
}

TEST_F(ManifestSinkTest, BadSettingsAreErrorsNotHangs) {
  for (const char* props : {"format=m3u8-foo", "format=m3u8-aapl track=nosuchtrack",
                            "format=m3u8-aapl track=video bitrate=1",
                            "format=m3u8-aapl-v3 audio-track=nosuchaudio", "keyframes=true"}) {
    SCOPED_TRACE(props);
    PipelineRun run = run_launch(launch(props), 10 * GST_SECOND);
    EXPECT_FALSE(run.eos);
    EXPECT_NE(run.error, "");
    EXPECT_NE(run.error, "timeout");
    EXPECT_TRUE(run.manifests.empty());
  }
}

// gst-launch links one amsdemux pad (the others stay unlinked) and must come back on its own.
TEST_F(ManifestSinkTest, GstLaunchWritesTheMpdAndExits) {
  const std::string mpd = dir_ + "/a.mpd";
  std::string output;
  const int status =
      run_command({"gst-launch-1.0", "-q", "filesrc", "location=" + *ism_, "!", "amsdemux", "!",
                   "amsmanifestsink", "format=mpd-time-csf", "location=" + mpd},
                  &output, 20);
  ASSERT_EQ(status, 0) << output;
  EXPECT_EQ(read_file(mpd),
            *manifest::render_master(presentation(), manifest::Format::kDashCsf, {}));
}

// Bytes this process has read through read(2)/pread(2) so far.
uint64_t bytes_read() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return 0;
}

uint64_t sample_bytes(const model::Track& track) {
  uint64_t total = 0;
  for (const model::Sample& s : track.samples()) total += s.size;
  return total;
}

// The bytes of an MP4 file's top-level boxes other than mdat and free space: its index.
uint64_t bytes_outside_mdat(const std::string& path) {
  const std::string data = read_file(path);
  uint64_t total = 0;
  for (size_t at = 0; at + 8 <= data.size();) {
    auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(data[i])); };
    uint64_t size = byte(at) << 24 | byte(at + 1) << 16 | byte(at + 2) << 8 | byte(at + 3);
    if (size == 1 && at + 16 <= data.size()) {
      size = 0;
      for (size_t i = 0; i < 8; ++i) size = size << 8 | byte(at + 8 + i);
    }
    if (size < 8) break;
    const std::string type = data.substr(at + 4, 4);
    if (type != "mdat" && type != "free" && type != "skip") total += size;
    at += size;
  }
  return total;
}

// Rendering needs the moov index only. The kernel counts every byte this process reads
// (/proc/self/io rchar, all threads). Each pipeline opens a fresh copy of the asset, so the
// plugin's per-path index cache cannot hide reads. A fakesink pipeline on another copy is the
// control: it shows the measure sees payload reads.
TEST_F(ManifestSinkTest, ReadsNoSamplePayload) {
  if (bytes_read() == 0) GTEST_FAIL() << "no /proc/self/io";
  std::string asset_dir = *ism_;
  asset_dir.resize(asset_dir.rfind('/'));
  std::set<std::string> files;
  for (const model::Track& t : presentation().tracks) files.insert(t.file);
  uint64_t index_bytes = read_file(*ism_).size();
  for (const std::string& f : files) index_bytes += bytes_outside_mdat(asset_dir + "/" + f);

  auto reads_of = [&](const std::string& copy, const std::string& sink) {
    EXPECT_EQ(run_command({"cp", "-r", asset_dir, copy}, nullptr, 60), 0);
    const std::string ism = copy + "/testsrc.ism";
    const uint64_t before = bytes_read();
    PipelineRun run =
        run_launch("filesrc location=\"" + ism + "\" ! amsdemux ! " + sink, 60 * GST_SECOND);
    EXPECT_TRUE(run.eos) << run.error;
    return bytes_read() - before;
  };
  const uint64_t manifest_reads = reads_of(dir_ + "/a", "amsmanifestsink format=m3u8-aapl");
  const uint64_t control_reads = reads_of(dir_ + "/b", "fakesink");
  std::printf("index %llu B; read by the manifest pipeline %llu B, by fakesink %llu B\n",
              static_cast<unsigned long long>(index_bytes),
              static_cast<unsigned long long>(manifest_reads),
              static_cast<unsigned long long>(control_reads));
  // .ismc probe, short reads of box headers, and the caption scan's NAL headers and SEI before
  // each video track's first slices (model/file_index.h: ~6 KB for this asset's 5 rungs).
  const uint64_t slack = 16 * 1024;
  EXPECT_LT(manifest_reads, index_bytes + slack);
  // fakesink is linked to the first pad, the highest video level (tracks[0]).
  EXPECT_GE(control_reads, sample_bytes(presentation().tracks[0]));
  EXPECT_GT(sample_bytes(presentation().tracks[0]), index_bytes + slack);
}

}  // namespace
}  // namespace ams::test

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
