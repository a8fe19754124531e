#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>

#include "model/builder.h"
#include "model/file_index.h"
#include "model/timeline.h"
#include "mp4/esds.h"
#include "text/webvtt.h"

namespace ams::model {
namespace {

using mp4::fourcc;

// A minimal non-fragmented MP4: a 30 fps H.264 track (GOP of `gop` frames, B-frame style
// composition offsets, an edit list of one frame) and a 48 kHz AAC track, samples of `size` bytes
// in one mdat.
struct TestFile {
  int frames = 60;
  int gop = 15;
  int audio_frames = 94;
  uint32_t size = 10;
  bool edit_list = true;
  uint32_t video_timescale = 30000;
  int64_t audio_priming = 0;  // > 0: an edit list that hides this many samples, as AAC encoders do

  Bytes build() const {
    mp4::Moov moov;
    moov.mvhd.timescale = 1000;
    moov.traks.push_back(video_trak());
    moov.traks.push_back(audio_trak());
    ByteWriter head;
    mp4::Ftyp ftyp;
    ftyp.major_brand = fourcc("isom");
    ftyp.compatible_brands = {fourcc("isom"), fourcc("avc1")};
    mp4::write_box(head, ftyp);
    // Offsets depend on the moov size, which does not depend on the offsets' values.
    size_t moov_size = mp4::box_size(moov);
    uint64_t mdat_payload = head.size() + moov_size + 8;
    moov.traks[0].mdia.minf.stbl.stco->offsets = {mdat_payload};
    moov.traks[1].mdia.minf.stbl.stco->offsets = {mdat_payload + uint64_t(frames) * size};
    mp4::write_box(head, moov);
    uint64_t payload = uint64_t(frames + audio_frames) * size;
    head.u32(static_cast<uint32_t>(8 + payload));
    head.fourcc("mdat");
    for (uint64_t i = 0; i < payload; ++i) head.u8(static_cast<uint8_t>(i));
    return head.take();
  }

  mp4::Trak video_trak() const {
    mp4::Trak trak;
    trak.tkhd.track_id = 1;
    trak.tkhd.width = 640u << 16;
    trak.tkhd.height = 360u << 16;
    trak.mdia.mdhd.timescale = video_timescale;
    trak.mdia.hdlr.handler_type = fourcc("vide");
    mp4::Stbl& stbl = trak.mdia.minf.stbl;
    mp4::SampleEntry e;
    e.format = fourcc("avc1");
    e.width = 640;
    e.height = 360;
    // avcC: version 1, High profile, level 3.0, 4-byte lengths, one SPS, one PPS.
    e.children.push_back({fourcc("avcC"),
                          {1, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x1e,
                           0x01, 0x00, 0x02, 0x68, 0xee}});
    stbl.stsd.entries.push_back(e);
    uint32_t delta = video_timescale / 30;
    stbl.stts.entries = {{static_cast<uint32_t>(frames), delta}};
    stbl.ctts = mp4::Ctts{};
    for (int i = 0; i < frames; ++i)
      stbl.ctts->entries.push_back({1, int32_t(delta * ((i % 2) ? 2 : 1))});
    stbl.stss = mp4::Stss{};
    for (int i = 0; i < frames; i += gop) stbl.stss->sample_numbers.push_back(i + 1);
    stbl.stsc.entries = {{1, static_cast<uint32_t>(frames), 1}};
    stbl.stsz = mp4::Stsz{};
    stbl.stsz->sample_size = size;
    stbl.stsz->sample_count = frames;
    stbl.stco = mp4::Stco{};
    stbl.stco->offsets = {0};
    if (edit_list) {
      trak.edts = mp4::Edts{};
      trak.edts->elst.entries.push_back({1000, int64_t(delta), 1, 0});
    }
    return trak;
  }

  mp4::Trak audio_trak() const {
    mp4::Trak trak;
    trak.tkhd.track_id = 2;
    trak.mdia.mdhd.timescale = 48000;
    trak.mdia.mdhd.language = "eng";
    trak.mdia.hdlr.handler_type = fourcc("soun");
    mp4::Stbl& stbl = trak.mdia.minf.stbl;
    mp4::SampleEntry e;
    e.format = fourcc("mp4a");
    e.sample_rate = 48000;
    mp4::EsDescriptor es;
    es.decoder_specific_info = {0x11, 0x90};  // AAC-LC, 48 kHz, stereo
    e.children.push_back({fourcc("esds"), mp4::write_esds(es)});
    stbl.stsd.entries.push_back(e);
    stbl.stts.entries = {{static_cast<uint32_t>(audio_frames), 1024}};
    stbl.stsc.entries = {{1, static_cast<uint32_t>(audio_frames), 1}};
    stbl.stsz = mp4::Stsz{};
    stbl.stsz->sample_size = size;
    stbl.stsz->sample_count = audio_frames;
    stbl.stco = mp4::Stco{};
    stbl.stco->offsets = {0};
    if (audio_priming > 0) {
      trak.edts = mp4::Edts{};
      trak.edts->elst.entries.push_back({2000, audio_priming, 1, 0});
    }
    return trak;
  }
};

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ams-model-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { (void)!system(("rm -rf " + path_).c_str()); }
  std::string write(const std::string& name, const Bytes& bytes) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Result<FileIndex> index_of(const std::string& path) {
  auto f = MediaFile::open(path);
  if (!f) return f.status();
  return read_file_index(**f);
}

TEST(ModelFileIndex, ReadsSamplesOffsetsAndEditListShift) {
  TempDir dir;
  TestFile tf;
  std::string path = dir.write("a.mp4", tf.build());
  auto index = index_of(path);
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();
  ASSERT_EQ(index->tracks.size(), 2u);
  const auto& v = index->tracks[0].table->samples;
  ASSERT_EQ(v.size(), 60u);
  // Every stored offset is at least the edit's 1000: no frame decodes after it presents.
  EXPECT_EQ(index->tracks[0].table->decode_lead, 0);
  EXPECT_EQ(v[0].pts(), 0);  // ctts 1000 minus the edit's 1000
  EXPECT_EQ(v[1].pts(), 1000 + 2000 - 1000);
  EXPECT_TRUE(v[0].sync);
  EXPECT_FALSE(v[1].sync);
  EXPECT_TRUE(v[15].sync);
  EXPECT_EQ(v[1].offset, v[0].offset + 10);
  const auto& a = index->tracks[1].table->samples;
  ASSERT_EQ(a.size(), 94u);
  EXPECT_EQ(a[0].offset, v[59].offset + 10);
  EXPECT_EQ(a[93].dts, 93 * 1024);
  EXPECT_EQ(index->tracks[1].language, "eng");
}

TEST(ModelFileIndex, SamplesOutsideTheFileStayInTheIndex) {
  TempDir dir;
  Bytes bytes = TestFile{}.build();
  // The last audio samples now lie past the end. (erase, not resize: GCC 12 with ASan cannot
  // prove the size stays above 100 and warns of a huge memset on resize's growing path.)
  bytes.erase(bytes.end() - 100, bytes.end());
  const std::string path = dir.write("cut.mp4", bytes);
  auto index = index_of(path);
  ASSERT_TRUE(index.is_ok()) << index.status().to_string();
  // The table is what the moov says: every sample, those past the end included.
  const auto& a = index->tracks[1].table->samples;
  ASSERT_EQ(a.size(), 94u);
  EXPECT_GT(a[93].offset + a[93].size, bytes.size());
  // Reading them is what fails, naming the end of the file; the samples before them read.
  auto file = MediaFile::open(path);
  ASSERT_TRUE(file.is_ok());
  std::vector<MediaFile::Piece> last = {{a[93].offset, a[93].size}};
  Bytes out(a[93].size);
  Status st = (*file)->read_gathered(last.data(), 1, out.data());
  EXPECT_EQ(st.code(), StatusCode::kTruncated) << st.to_string();
  std::vector<MediaFile::Piece> first = {{a[0].offset, a[0].size}};
  EXPECT_TRUE((*file)->read_gathered(first.data(), 1, out.data()).is_ok());
}

TEST(ModelFileIndex, TruncatedAndEmptyFilesAreClearErrors) {
  TempDir dir;
  Bytes bytes = TestFile{}.build();
  for (size_t cut : {size_t(0), size_t(7), size_t(40), size_t(200)}) {
    Bytes part(bytes.begin(), bytes.begin() + cut);
    auto index = index_of(dir.write("t.mp4", part));
    EXPECT_FALSE(index.is_ok()) << "cut at " << cut;
  }
}

TEST(ModelFileIndex, ZeroTimescaleIsRejected) {
  TempDir dir;
  TestFile tf;
  tf.video_timescale = 0;
  auto index = index_of(dir.write("z.mp4", tf.build()));
  ASSERT_FALSE(index.is_ok());
  EXPECT_NE(index.status().message().find("timescale"), std::string::npos);
}

TEST(ModelPresentation, SingleFileGetsAmsNamesCodecsAndFragments) {
  TempDir dir;
  std::string path = dir.write("clip.mp4", TestFile{}.build());
  IndexCache cache;
  auto p = build_presentation(path, cache);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  ASSERT_EQ((*p)->tracks.size(), 2u);
  const Track& v = (*p)->tracks[0];
  const Track& a = (*p)->tracks[1];
  EXPECT_EQ(v.name, "video");
  EXPECT_EQ(v.codec_string, "avc1.64001e");
  EXPECT_EQ(v.width, 640u);
  EXPECT_EQ(a.codec_string, "mp4a.40.2");
  EXPECT_EQ(a.channels, 2u);
  EXPECT_EQ(a.name, ams_audio_track_name(a, 2));
  EXPECT_EQ(a.name.rfind("aac_eng_2_", 0), 0u) << a.name;
  // GOPs of 0.5 s grouped into >= 1 s fragments: 0, 1 s.
  ASSERT_EQ(v.fragments.size(), 2u);
  EXPECT_EQ(v.fragment_start_10mhz(1), 10000000);
  EXPECT_EQ(v.fragments[1].first_sample, 30u);
  // Audio follows: first sample at or after 1 s = 47 (47 * 1024 / 48000 = 1.0027 s).
  ASSERT_EQ(a.fragments.size(), 2u);
  EXPECT_EQ(a.fragments[1].first_sample, 47u);
  EXPECT_EQ(v.fragment_at(10000000), 1u);
  EXPECT_FALSE(v.fragment_at(10000001).has_value());
  // Cached while the file is unchanged.
  auto again = build_presentation(path, cache);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->get(), p->get());
}

// A file rewritten in place with its size and mtime put back (`touch -r`) is a changed input:
// the change time moved. The presentation is built again, with another identity, and the index
// cache parses the file again.
TEST(ModelPresentation, AFileRewrittenWithItsTimesPutBackIsBuiltAgain) {
  TempDir dir;
  Bytes bytes = TestFile{}.build();
  std::string path = dir.write("rewritten.mp4", bytes);
  IndexCache cache;
  auto first = build_presentation(path, cache);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  // The kernel's file times move in clock ticks: make sure the rewrite lands in a later one.
  usleep(20000);
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(bytes.size() - 4));
    f.write("ZZZZ", 4);
  }
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(after.st_ino, before.st_ino);

  EXPECT_EQ(cached_presentation(path), nullptr);
  auto second = build_presentation(path, cache);
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_NE(second->get(), first->get());
  EXPECT_NE((*second)->identity, (*first)->identity);
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_NE((*first)->identity.find(":" + std::to_string(before.st_ino) + "\n"), std::string::npos)
      << (*first)->identity;
}

// The asset that broke every player (issue 11): AAC with its priming edit list beside B-frame
// video. Nothing may start before 0, and fragment i of every track covers the same span.
TEST(ModelPresentation, PrimedAudioStartsWithTheVideoAndIsFragmentedAlike) {
  TempDir dir;
  TestFile tf;
  tf.audio_priming = 1024;
  IndexCache cache;
  auto p = build_presentation(dir.write("primed.mp4", tf.build()), cache);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  const Track& v = (*p)->tracks[0];
  const Track& a = (*p)->tracks[1];
  ASSERT_EQ(a.type, TrackType::kAudio);
  EXPECT_EQ(a.samples().size(), 93u);  // the priming frame is not presented
  EXPECT_EQ(a.samples().front().pts(), 0);
  ASSERT_EQ(a.fragments.size(), v.fragments.size());
  for (const Track* t : {&v, &a}) {
    for (size_t i = 0; i < t->fragments.size(); ++i) {
      EXPECT_GE(t->fragment_start_10mhz(i), 0) << t->name << " fragment " << i;
    }
  }
  EXPECT_EQ(a.fragment_start_10mhz(0), 0);
  EXPECT_EQ(v.fragment_start_10mhz(0), 0);
  for (size_t i = 1; i < v.fragments.size(); ++i) {
    // Audio fragment i starts at the first frame at or after video boundary i (21.3 ms frames).
    EXPECT_GE(a.fragment_start_10mhz(i), v.fragment_start_10mhz(i));
    EXPECT_LT(a.fragment_start_10mhz(i), v.fragment_start_10mhz(i) + 213334);
  }
}

TEST(ModelPresentation, ATextStreamHasATimescaleAndSpansThePresentation) {
  TempDir dir;
  dir.write("clip.mp4", TestFile{}.build());
  dir.write("en.vtt", Bytes{'W', 'E', 'B', 'V', 'T', 'T', '\n'});
  const std::string ism =
      "<?xml version=\"1.0\"?><smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\"><body>"
      "<switch><video src=\"clip.mp4\" systemBitrate=\"1000\"/>"
      "<audio src=\"clip.mp4\" systemBitrate=\"128000\"/>"
      "<textstream src=\"en.vtt\" systemLanguage=\"eng\"/></switch></body></smil>";
  IndexCache cache;
  auto p = build_presentation(dir.write("a.ism", Bytes(ism.begin(), ism.end())), cache);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  const Track& text = (*p)->tracks.back();
  ASSERT_EQ(text.type, TrackType::kText);
  EXPECT_EQ(text.timescale, kManifestTimescale);
  EXPECT_EQ(text.duration_10mhz(), (*p)->duration_10mhz);
  EXPECT_GT((*p)->duration_10mhz, 0);
}

// A folder without an .ism takes the WebVTT files beside its MP4s as text tracks, each named by
// its stem ('.' as '_'), its language from its name; one that is not WebVTT is left out; adding one
// is a new presentation.
TEST(ModelPresentation, AFolderWithoutAnIsmPicksUpItsWebVttFiles) {
  TempDir dir;
  dir.write("clip.mp4", TestFile{}.build());
  const std::string vtt = "WEBVTT\n\n00:00.500 --> 00:01.500\nhello\n";
  dir.write("clip.en.vtt", Bytes(vtt.begin(), vtt.end()));
  dir.write("subtitles_fra.vtt", Bytes(vtt.begin(), vtt.end()));
  dir.write("notes.vtt", Bytes(vtt.begin(), vtt.end()));
  dir.write("binary.vtt", Bytes{0, 1, 2, 3});
  IndexCache cache;
  auto p = build_presentation(dir.path(), cache);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  std::vector<std::pair<std::string, std::string>> texts;
  for (const Track& t : (*p)->tracks) {
    if (t.type != TrackType::kText) continue;
    ASSERT_TRUE(t.webvtt);
    EXPECT_EQ(t.codec, Codec::kWebVtt);
    EXPECT_EQ(t.webvtt->cues.size(), 1u);
    texts.emplace_back(t.name, t.language);
  }
  EXPECT_EQ(texts, (std::vector<std::pair<std::string, std::string>>{
                       {"clip_en", "eng"}, {"notes", "und"}, {"subtitles_fra", "fra"}}));
  EXPECT_NE((*p)->identity.find("subtitles_fra.vtt"), std::string::npos);
  // One more side-car: the folder changed, and the presentation is built again with it.
  sleep(1);  // the folder's mtime has a resolution the test must step past on some filesystems
  dir.write("zz.de.vtt", Bytes(vtt.begin(), vtt.end()));
  auto again = build_presentation(dir.path(), cache);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ((*again)->tracks.back().name, "zz_de");
  EXPECT_EQ((*again)->tracks.back().language, "deu");
}

TEST(ModelTimeline, TimesStayExactOverHoursAt23976) {
  // 3 hours of 24000/1001 fps video in 2 s GOPs (48 frames), no drift in fragment times.
  auto table = std::make_shared<SampleTable>();
  const int frames = 3 * 3600 * 24;
  for (int i = 0; i < frames; ++i) {
    Sample s;
    s.dts = int64_t(i) * 1001;
    s.duration = 1001;
    s.sync = i % 48 == 0;
    table->samples.push_back(s);
  }
  std::vector<Track> tracks(1);
  tracks[0].type = TrackType::kVideo;
  tracks[0].timescale = 24000;
  tracks[0].table = table;
  ASSERT_TRUE(build_fragment_timeline(tracks).is_ok());
  const Track& t = tracks[0];
  ASSERT_EQ(t.fragments.size(), size_t(frames / 48));
  size_t last = t.fragments.size() - 1;
  EXPECT_EQ(t.fragments[last].start, int64_t(last) * 48 * 1001);
  EXPECT_EQ(t.fragment_start_10mhz(last), rescale(int64_t(last) * 48 * 1001, 24000, 10000000));
  int64_t sum = 0;
  for (const Fragment& f : t.fragments) sum += f.duration;
  EXPECT_EQ(sum, t.duration);
}

TEST(ModelTimeline, AnAudioTrackPresentedPastTheLimitIsRefusedNotCutForever) {
  // The index bounds decode times (30 days); a composition offset still moves a sample's
  // presentation up to 2^31 ticks later: 68 years at a timescale of 1, which an audio-only
  // presentation would cut into a billion 2 s fragments (found by presentation_fuzzer: a hang
  // that took gigabytes).
  auto table = std::make_shared<SampleTable>();
  for (int i = 0; i < 3; ++i) {
    Sample s;
    s.dts = i;
    s.duration = 1;
    s.sync = true;
    table->samples.push_back(s);
  }
  table->samples[2].cts_offset = std::numeric_limits<int32_t>::max();
  std::vector<Track> tracks(1);
  tracks[0].type = TrackType::kAudio;
  tracks[0].timescale = 1;
  tracks[0].table = table;
  Status st = build_fragment_timeline(tracks);
  EXPECT_EQ(st.code(), StatusCode::kResourceLimit) << st.to_string();

  // Presented up to the limit itself (30 days), the track is fragmented as usual.
  table->samples[2].cts_offset = 30 * 24 * 3600 - 3;
  tracks[0].table = table;
  ASSERT_TRUE(build_fragment_timeline(tracks).is_ok());
  ASSERT_EQ(tracks[0].fragments.size(), 2u);  // samples 0 and 1 share the first 2 s
  EXPECT_EQ(tracks[0].fragments[1].first_sample, 2u);
}

TEST(ModelTimeline, VideoBoundariesAreTheSyncSamplesEveryRungShares) {
  auto make = [](std::initializer_list<int> syncs) {
    auto table = std::make_shared<SampleTable>();
    for (int i = 0; i < 120; ++i) {
      Sample s;
      s.dts = i * 1000;
      s.duration = 1000;
      table->samples.push_back(s);
    }
    for (int k : syncs) table->samples[k].sync = true;
    Track t;
    t.type = TrackType::kVideo;
    t.timescale = 30000;
    t.table = table;
    return t;
  };
  std::vector<Track> tracks = {make({0, 30, 60, 90}), make({0, 60, 75, 90})};
  ASSERT_TRUE(build_fragment_timeline(tracks).is_ok());
  for (const Track& t : tracks) {
    ASSERT_EQ(t.fragments.size(), 3u);
    EXPECT_EQ(t.fragments[1].first_sample, 60u);
    EXPECT_EQ(t.fragments[2].first_sample, 90u);
    EXPECT_EQ(t.fragments[2].duration, 30000);
  }
}

}  // namespace
}  // namespace ams::model

namespace ams::model {
namespace {

TEST(ModelIndexCache, EvictsLeastRecentlyUsedPastItsByteBudget) {
  TempDir dir;
  std::string a = dir.write("a.mp4", TestFile{}.build());
  std::string b = dir.write("b.mp4", TestFile{}.build());
  // 154 samples of 32 bytes per file: a budget of one file's tables keeps one file.
  IndexCache cache(16, 6000);
  ASSERT_TRUE(cache.get(a).is_ok());
  ASSERT_TRUE(cache.get(b).is_ok());
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_LE(cache.stats().bytes, 6000u);
  ASSERT_TRUE(cache.get(b).is_ok());
  EXPECT_EQ(cache.stats().hits, 1u);
  ASSERT_TRUE(cache.get(a).is_ok());
  EXPECT_EQ(cache.stats().misses, 3u);
}

}  // namespace
}  // namespace ams::model
