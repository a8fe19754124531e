#include "model/align.h"

#include <gtest/gtest.h>

#include <memory>

namespace ams::model {
namespace {

// An audio table of `count` frames of `frame` ticks whose edit list shifted them by `priming`
// (every composition offset is -priming, as file_index.cc writes it).
std::shared_ptr<SampleTable> audio_table(int count, int frame, int priming) {
  auto t = std::make_shared<SampleTable>();
  for (int i = 0; i < count; ++i) {
    Sample s;
    s.dts = int64_t{i} * frame;
    s.duration = static_cast<uint32_t>(frame);
    s.cts_offset = -priming;
    s.sync = true;
    s.size = 100;
    t->samples.push_back(s);
  }
  t->decode_lead = priming;
  return t;
}

// Video at 25 fps in 12800 ticks (512 a frame), GOPs of `gop` frames, I P B B order with the
// B-frames presented first: ctts as an encoder writes it, then an edit of `edit` ticks.
std::shared_ptr<SampleTable> video_table(int count, int gop, int64_t edit) {
  auto t = std::make_shared<SampleTable>();
  static constexpr int kOrder[] = {0, 3, 1, 2};  // presentation index inside each group of four
  for (int i = 0; i < count; ++i) {
    Sample s;
    s.dts = int64_t{i} * 512;
    s.duration = 512;
    const int64_t pts = (i / 4 * 4 + kOrder[i % 4]) * 512 + 1024;  // +2 frames, ctts v0 style
    s.cts_offset = static_cast<int32_t>(pts - s.dts - edit);
    s.sync = i % gop == 0;
    s.size = 1000;
    t->samples.push_back(s);
  }
  t->decode_lead = decode_lead_of(t->samples);
  return t;
}

Track track(TrackType type, uint32_t timescale, std::shared_ptr<SampleTable> table) {
  Track t;
  t.type = type;
  t.timescale = timescale;
  t.name = type == TrackType::kVideo ? "video" : "audio";
  t.table = std::move(table);
  return t;
}

int64_t first_pts(const Track& t) {
  return t.samples().front().pts();
}

TEST(ModelAlign, AacPrimingFrameThatEndsAtZeroIsNotPresented) {
  // ffmpeg's AAC: elst media_time 1024, the first frame presents at [-1024, 0).
  std::vector<Track> tracks = {track(TrackType::kAudio, 48000, audio_table(10, 1024, 1024))};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  ASSERT_EQ(tracks[0].samples().size(), 9u);
  EXPECT_EQ(first_pts(tracks[0]), 0);
  EXPECT_EQ(tracks[0].samples().front().dts, 0);  // decode times restart with what is presented
  EXPECT_EQ(tracks[0].samples().front().cts_offset, 0);
  EXPECT_EQ(tracks[0].table->decode_lead, 0);
}

TEST(ModelAlign, AShorterPrimingMovesTheTrackByLessThanAFrame) {
  // ffmpeg's AC-3: elst media_time 256, the first 1536-sample frame presents at [-256, 1280).
  std::vector<Track> tracks = {track(TrackType::kAudio, 48000, audio_table(10, 1536, 256))};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  ASSERT_EQ(tracks[0].samples().size(), 10u);
  EXPECT_EQ(first_pts(tracks[0]), 0);
  EXPECT_EQ(tracks[0].samples()[1].pts(), 1536);
}

TEST(ModelAlign, BFrameVideoWithTheUsualEditIsSharedUnchanged) {
  auto table = video_table(20, 10, 1024);
  std::vector<Track> tracks = {track(TrackType::kVideo, 12800, table),
                               track(TrackType::kAudio, 48000, audio_table(40, 1024, 1024))};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  EXPECT_EQ(tracks[0].table.get(), table.get());
  EXPECT_EQ(first_pts(tracks[0]), 0);
  EXPECT_EQ(tracks[0].table->decode_lead, 512);  // a B-frame decodes a frame before it shows
  EXPECT_EQ(first_pts(tracks[1]), 0);
}

TEST(ModelAlign, AnEditThatStartsInsideAGopShowsTheGopAndMovesEveryTrack) {
  // The edit starts 3 frames after the key frame (it presents at -1536 ticks = -0.12 s): the
  // video keeps the GOP from its key frame, the presentation starts there, and the audio (edited
  // 6144 ticks = 0.128 s in) keeps what overlaps that start and moves with it.
  const int64_t edit = 1024 + 3 * 512;
  std::vector<Track> tracks = {track(TrackType::kVideo, 12800, video_table(20, 10, edit)),
                               track(TrackType::kAudio, 48000, audio_table(40, 1024, 6144))};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  ASSERT_EQ(tracks[0].samples().size(), 20u);
  EXPECT_EQ(first_pts(tracks[0]), 0);
  EXPECT_EQ(tracks[0].samples()[1].pts(), 1536);  // the frame the edit starts on: 0.12 s in
  // Audio: -0.12 s is inside its first frame (edit-mapped -6144..-5120), which is kept; it
  // starts at 0 after a move of 384 ticks (8 ms) more than the video's, less than one frame.
  ASSERT_EQ(tracks[1].samples().size(), 40u);
  EXPECT_EQ(first_pts(tracks[1]), 0);
  EXPECT_EQ(tracks[1].samples()[6].pts(), 5760 + 384);  // edit-mapped 0
}

TEST(ModelAlign, TheEndOfTheEditTrimsTheTail) {
  auto table = audio_table(10, 1024, 0);
  table->edit_end = 5 * 1024 + 10;  // frames starting at 6*1024 and later are cut
  std::vector<Track> tracks = {track(TrackType::kAudio, 48000, table)};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  EXPECT_EQ(tracks[0].samples().size(), 6u);
}

TEST(ModelAlign, VideoIsCutOnlyWhereNothingAfterDependsOnIt) {
  // The tail in decode order: ... P(pts 19) B(17) B(18). An end at 18.5 frames cuts nothing: the
  // last B presents before it, and the P before it is its reference.
  auto table = video_table(20, 10, 1024);
  table->edit_end = int64_t{18} * 512 + 256;
  std::vector<Track> tracks = {track(TrackType::kVideo, 12800, table)};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  EXPECT_EQ(tracks[0].samples().size(), 20u);
}

TEST(ModelAlign, AVideoThatStartsLateStaysLate) {
  // An empty edit of half a second: the source puts the video at 0.5 s, and so does the
  // presentation.
  auto table = video_table(20, 10, 1024 - 6400);
  std::vector<Track> tracks = {track(TrackType::kVideo, 12800, table),
                               track(TrackType::kAudio, 48000, audio_table(40, 1024, 0))};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  EXPECT_EQ(first_pts(tracks[0]), 6400);
  EXPECT_EQ(first_pts(tracks[1]), 0);
}

TEST(ModelAlign, DecodeTimesBelowZeroAreRebased) {
  // A long edit at 10 MHz does not fit the composition offsets: file_index.cc moved the decode
  // times instead (here they start at -6 s), and the presentation rebases them.
  auto t = std::make_shared<SampleTable>();
  for (int i = 0; i < 100; ++i) {
    Sample s;
    s.dts = int64_t{i} * 1'000'000 - 60'000'000;
    s.duration = 1'000'000;
    s.sync = true;
    t->samples.push_back(s);
  }
  std::vector<Track> tracks = {track(TrackType::kAudio, 10'000'000, t)};
  ASSERT_TRUE(align_tracks(tracks).is_ok());
  ASSERT_EQ(tracks[0].samples().size(), 40u);
  EXPECT_EQ(tracks[0].samples().front().dts, 0);
  EXPECT_EQ(first_pts(tracks[0]), 0);
}

}  // namespace
}  // namespace ams::model
