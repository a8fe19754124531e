// The fragment writer against readers nobody here wrote for it: the index reader's fragmented-
// input path, and ffprobe on fragments of a file made by GStreamer's own muxer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmp4/test_tracks.h"
#include "fmp4/writer.h"
#include "model/builder.h"
#include "model/file_index.h"
#include "model/media_file.h"

namespace ams::fmp4 {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ams-fmp4-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// The init segment and every fragment of a hand-made track, back to back.
Bytes whole_track(const model::Track& t, Variant v) {
  ByteWriter w;
  EXPECT_TRUE(write_init_segment(t, v, w).is_ok());
  for (size_t i = 0; i < t.fragments.size(); ++i) {
    test::TestPayload p = test::payload_for(t, i);
    EXPECT_TRUE(write_fragment(t, i, v, p.spans, w).is_ok());
  }
  return w.take();
}

void expect_same_samples(const std::vector<model::Sample>& got,
                         std::span<const model::Sample> want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    SCOPED_TRACE("sample " + std::to_string(k));
    EXPECT_EQ(got[k].dts, want[k].dts);
    EXPECT_EQ(got[k].pts(), want[k].pts());
    EXPECT_EQ(got[k].duration, want[k].duration);
    EXPECT_EQ(got[k].size, want[k].size);
    EXPECT_EQ(got[k].sync, want[k].sync);
  }
}

TEST(Fmp4ReadBack, TheIndexReaderRecoversEverySampleAndItsPayload) {
  TempDir dir;
  for (Variant v : {Variant::kCmaf, Variant::kDash}) {
    for (const model::Track& t : {test::video_track(), test::audio_track(48000, 4, 12, 1024)}) {
      SCOPED_TRACE(std::string(variant_name(v)) + " " + t.name);
      std::string path = dir.file("track.mp4");
      write_file(path, whole_track(t, v));
      auto file = model::MediaFile::open(path);
      ASSERT_TRUE(file.is_ok()) << file.status().to_string();
      auto index = model::read_file_index(**file);
      ASSERT_TRUE(index.is_ok()) << index.status().to_string();
      EXPECT_TRUE(index->fragmented);
      ASSERT_EQ(index->tracks.size(), 1u);
      const model::FileTrack& ft = index->tracks[0];
      EXPECT_EQ(ft.timescale, t.timescale);
      EXPECT_EQ(ft.entry.format, mp4::fourcc_from_string(t.fourcc));
      EXPECT_FALSE(ft.table->edit_end);  // no edit list is written
      EXPECT_EQ(ft.table->decode_lead, t.table->decode_lead);
      expect_same_samples(ft.table->samples, t.samples());
      // Each sample's offset names its payload in the written file.
      for (size_t i = 0; i < t.fragments.size(); ++i) {
        test::TestPayload p = test::payload_for(t, i);
        for (uint32_t k = 0; k < t.fragments[i].sample_count; ++k) {
          const model::Sample& s = ft.table->samples[t.fragments[i].first_sample + k];
          Bytes got;
          ASSERT_TRUE((*file)->read_at(s.offset, s.size, got).is_ok());
          EXPECT_EQ(got, p.bytes[k]);
        }
      }
    }
  }
}

TEST(Fmp4Payload, ReadsEachRunOnceAndPointsEverySpanAtItsSample) {
  TempDir dir;
  Bytes content(4096);
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<uint8_t>(i * 7);
  std::string path = dir.file("media.bin");
  write_file(path, content);
  auto file = model::MediaFile::open(path);
  ASSERT_TRUE(file.is_ok());

  // Two contiguous runs with interleaved data between them, and one sample placed before them.
  model::Track t = test::video_track();
  auto table = std::make_shared<model::SampleTable>(*t.table);
  const uint64_t kOffsets[] = {100, 256, 419, 1000, 1177, 50};
  for (size_t k = 0; k < 6; ++k) table->samples[k].offset = kOffsets[k];
  table->samples[1].size = 163;  // 256 + 163 = 419: contiguous with sample 2
  t.table = table;
  t.fragments = {{0, 6, 0, 6 * test::kFrame}};
  std::vector<ByteSpan> spans;
  auto buf = read_fragment_payload(t, 0, **file, spans);
  ASSERT_TRUE(buf.is_ok()) << buf.status().to_string();
  Bytes owned = std::move(buf).value();  // moving the buffer keeps the spans valid
  ASSERT_EQ(spans.size(), 6u);
  uint64_t total = 0;
  for (size_t k = 0; k < 6; ++k) {
    const model::Sample& s = table->samples[k];
    total += s.size;
    ASSERT_EQ(spans[k].size(), s.size);
    EXPECT_TRUE(std::equal(spans[k].begin(), spans[k].end(), content.begin() + s.offset))
        << "sample " << k;
    EXPECT_GE(spans[k].data(), owned.data());
    EXPECT_LE(spans[k].data() + spans[k].size(), owned.data() + owned.size());
  }
  EXPECT_EQ(owned.size(), total);

  // The spans feed write_fragment directly.
  ByteWriter w;
  EXPECT_TRUE(write_fragment(t, 0, Variant::kCmaf, {spans}, w).is_ok());

  table->samples[5].offset = 4090;  // runs past the end of the file
  EXPECT_EQ(read_fragment_payload(t, 0, **file, spans).status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(read_fragment_payload(t, 1, **file, spans).status().code(), StatusCode::kNotFound);
}

bool have(const char* tool) {
  return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

struct Packet {
  int64_t pts = 0;
  int64_t dts = 0;
  bool key = false;
};

// `ffprobe -show_entries packet=pts,dts,flags -of csv` lines: "packet,<pts>,<dts>,<flags>".
std::vector<Packet> probe_packets(const std::string& path) {
  std::istringstream lines(
      run("ffprobe -v error -show_entries packet=pts,dts,flags -of csv '" + path + "'"));
  std::vector<Packet> out;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string kind, pts, dts, flags;
    if (!std::getline(fields, kind, ',') || kind != "packet") continue;
    std::getline(fields, pts, ',');
    std::getline(fields, dts, ',');
    std::getline(fields, flags, ',');
    out.push_back({std::stoll(pts), std::stoll(dts), flags.find('K') != std::string::npos});
  }
  return out;
}

TEST(Fmp4RealFile, FfprobeReadsFragmentsOfAGStreamerFile) {
  if (!have("gst-launch-1.0") || !have("ffprobe")) GTEST_FAIL() << "gst-launch-1.0 or ffprobe";
  TempDir dir;
  std::string source = dir.file("x.mp4");
  std::string launch =
      "gst-launch-1.0 -q -e videotestsrc num-buffers=120 ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! x264enc key-int-max=30 bframes=2 ! "
      "mp4mux name=mux ! filesink location='" +
      source + "' audiotestsrc num-buffers=150 ! avenc_aac ! mux. >/dev/null 2>&1";
  if (std::system(launch.c_str()) != 0) GTEST_FAIL() << "the encoders are not installed";
  auto presentation = model::build_presentation(source);
  ASSERT_TRUE(presentation.is_ok()) << presentation.status().to_string();
  ASSERT_EQ((*presentation)->tracks.size(), 2u);
  auto media = model::MediaFile::open(source);
  ASSERT_TRUE(media.is_ok());

  for (const model::Track& t : (*presentation)->tracks) {
    ASSERT_GE(t.fragments.size(), 2u) << t.name;
    for (Variant v : {Variant::kCmaf, Variant::kDash}) {
      SCOPED_TRACE(std::string(variant_name(v)) + " " + t.name);
      ByteWriter w;
      ASSERT_TRUE(write_init_segment(t, v, w).is_ok());
      for (size_t i = 0; i < 2; ++i) {
        std::vector<ByteSpan> spans;
        auto payload = read_fragment_payload(t, i, **media, spans);
        ASSERT_TRUE(payload.is_ok()) << payload.status().to_string();
        ASSERT_TRUE(write_fragment(t, i, v, {spans}, w).is_ok());
      }
      std::string out = dir.file("out.mp4");
      write_file(out, w.bytes());

      const model::Fragment& last = t.fragments[1];
      std::span<const model::Sample> want =
          std::span<const model::Sample>(t.samples()).first(last.first_sample + last.sample_count);
      std::vector<Packet> packets = probe_packets(out);
      ASSERT_EQ(packets.size(), want.size());
      // ffmpeg's mov demuxer gives times in the track's timescale, with the init segment's edit
      // applied: each pts is exactly the model's (with signed offsets and no edit it moved every
      // pts later by the largest negative offset, a video track's decode lead).
      for (size_t k = 0; k < want.size(); ++k) {
        SCOPED_TRACE("packet " + std::to_string(k));
        EXPECT_EQ(packets[k].pts, want[k].pts());
        EXPECT_EQ(packets[k].dts - packets[0].dts, want[k].dts - want[0].dts);
        EXPECT_EQ(packets[k].key, want[k].sync || t.type == model::TrackType::kAudio);
      }
      // GStreamer's own demuxer and decoders take the init segment's codec configuration.
      EXPECT_EQ(std::system(("gst-launch-1.0 -q filesrc location='" + out +
                             "' ! qtdemux ! decodebin ! fakesink >/dev/null 2>&1")
                                .c_str()),
                0);
    }
  }
}

}  // namespace
}  // namespace ams::fmp4
