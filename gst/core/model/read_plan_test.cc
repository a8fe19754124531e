#include "model/read_plan.h"

#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <string>

#include "model/media_file.h"

namespace ams::model {
namespace {

std::vector<Sample> at(std::initializer_list<std::pair<uint64_t, uint32_t>> layout) {
  std::vector<Sample> out;
  for (auto [offset, size] : layout) {
    Sample s;
    s.offset = offset;
    s.size = size;
    out.push_back(s);
  }
  return out;
}

TEST(ReadPlan, AdjacentSamplesShareOneRead) {
  auto s = at({{100, 10}, {110, 20}, {130, 5}});
  auto r = plan_reads(s, 0, 3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].offset, 100u);
  EXPECT_EQ(r[0].length, 35u);
  EXPECT_EQ(r[0].first_sample, 0u);
  EXPECT_EQ(r[0].sample_count, 3u);
}

// Video frames with a little interleaved audio between them: one read.
TEST(ReadPlan, ReadsThroughSmallInterleavedGaps) {
  auto s = at({{0, 12000}, {12400, 9000}, {21800, 11000}});
  auto r = plan_reads(s, 0, 3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].length, 32800u);
  EXPECT_EQ(r[0].sample_count, 3u);
}

// Audio frames between large video frames: reading through would be mostly waste.
TEST(ReadPlan, DoesNotReadThroughGapsLargerThanAQuarterOfTheSamples) {
  auto s = at({{0, 400}, {12400, 400}, {24800, 400}});
  EXPECT_EQ(plan_reads(s, 0, 3).size(), 3u);
  // Nor through one larger than the bound, however large the samples.
  auto big = at({{0, 1 << 20}, {(1 << 20) + kDefaultMaxReadGap + 1, 1 << 20}});
  EXPECT_EQ(plan_reads(big, 0, 2).size(), 2u);
  auto fits = at({{0, 1 << 20}, {(1 << 20) + kDefaultMaxReadGap, 1 << 20}});
  EXPECT_EQ(plan_reads(fits, 0, 2).size(), 1u);
}

TEST(ReadPlan, ASampleBeforeTheReadsEndStartsANewRead) {
  auto s = at({{1000, 10}, {500, 10}, {510, 10}});
  auto r = plan_reads(s, 0, 3);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].offset, 500u);
  EXPECT_EQ(r[1].sample_count, 2u);
}

TEST(ReadPlan, PlansOnlyTheRangeAsked) {
  auto s = at({{0, 10}, {10, 10}, {20, 10}, {30, 10}});
  auto r = plan_reads(s, 1, 3);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].offset, 10u);
  EXPECT_EQ(r[0].sample_count, 2u);
  EXPECT_TRUE(plan_reads(s, 2, 99).size() == 1u);  // clamped to the samples there are
}

class GatheredRead : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ams-gather-XXXXXX";
    const int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    path_ = tmpl;
    bytes_.resize(256 * 1024);
    for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<uint8_t>(i * 7 + i / 251);
    ASSERT_EQ(write(fd, bytes_.data(), bytes_.size()), static_cast<ssize_t>(bytes_.size()));
    close(fd);
  }
  void TearDown() override { unlink(path_.c_str()); }
  std::string path_;
  Bytes bytes_;
};

TEST_F(GatheredRead, PiecesComeOutBackToBackWithoutTheGaps) {
  auto file = MediaFile::open(path_);
  ASSERT_TRUE(file.is_ok());
  std::vector<MediaFile::Piece> pieces = {{10, 100}, {200, 50}, {250, 0}, {250, 7}, {100000, 3}};
  Bytes out(160, 0);
  ASSERT_TRUE((*file)->read_gathered(pieces.data(), pieces.size(), out.data()).is_ok());
  Bytes want;
  for (const auto& p : pieces) {
    want.insert(want.end(), bytes_.begin() + p.offset, bytes_.begin() + p.offset + p.length);
  }
  EXPECT_EQ(out, want);
}

// More pieces than one preadv takes (IOV_MAX vectors): several calls, the same bytes.
TEST_F(GatheredRead, MorePiecesThanOneCallTakes) {
  auto file = MediaFile::open(path_);
  ASSERT_TRUE(file.is_ok());
  std::vector<MediaFile::Piece> pieces;
  Bytes want;
  for (uint64_t at = 0; at + 40 <= bytes_.size() && pieces.size() < 3 * IOV_MAX; at += 60) {
    pieces.push_back({at, 40});
    want.insert(want.end(), bytes_.begin() + at, bytes_.begin() + at + 40);
  }
  ASSERT_GT(pieces.size(), static_cast<size_t>(IOV_MAX));
  Bytes out(want.size(), 0);
  ASSERT_TRUE((*file)->read_gathered(pieces.data(), pieces.size(), out.data()).is_ok());
  EXPECT_EQ(out, want);
}

TEST_F(GatheredRead, RefusesPiecesOutOfOrderOrPastTheEnd) {
  auto file = MediaFile::open(path_);
  ASSERT_TRUE(file.is_ok());
  Bytes out(64, 0);
  std::vector<MediaFile::Piece> backwards = {{100, 10}, {50, 10}};
  EXPECT_FALSE((*file)->read_gathered(backwards.data(), 2, out.data()).is_ok());
  std::vector<MediaFile::Piece> past = {{bytes_.size() - 4, 8}};
  EXPECT_FALSE((*file)->read_gathered(past.data(), 1, out.data()).is_ok());
  std::vector<MediaFile::Piece> huge = {{8, UINT64_MAX - 4}};
  EXPECT_FALSE((*file)->read_gathered(huge.data(), 1, out.data()).is_ok());
}

// A gap larger than the bound is not read into the scratch buffer: a separate call skips it.
TEST_F(GatheredRead, AGapPastTheBoundIsSkippedNotRead) {
  auto file = MediaFile::open(path_);
  ASSERT_TRUE(file.is_ok());
  std::vector<MediaFile::Piece> pieces = {{0, 16}, {200000, 16}};
  Bytes out(32, 0);
  ASSERT_TRUE((*file)->read_gathered(pieces.data(), 2, out.data(), 1024).is_ok());
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 16, bytes_.begin()));
  EXPECT_TRUE(std::equal(out.begin() + 16, out.end(), bytes_.begin() + 200000));
}

}  // namespace
}  // namespace ams::model
