#include "codec/nal.h"

#include <gtest/gtest.h>

namespace ams::codec {
namespace {

// SEI (3 bytes) then an IDR slice (4 bytes), 4-byte lengths.
const Bytes kIdrSample = {0, 0, 0, 3, 0x06, 0x05, 0x80, 0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00};

TEST(Nal, ConvertsFourByteLengthsToStartCodesOfTheSameSize) {
  ByteWriter out;
  ASSERT_TRUE(length_prefixed_to_annexb(kIdrSample, 4, out).is_ok());
  EXPECT_EQ(out.bytes(), (Bytes{0, 0, 0, 1, 0x06, 0x05, 0x80, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00}));
  EXPECT_EQ(annexb_size_from_sample_size(kIdrSample.size()), out.size());
  auto size = annexb_size(kIdrSample, 4);
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(*size, out.size());
}

TEST(Nal, ConvertsShortLengthsAndGrows) {
  const Bytes two = {0, 2, 0x09, 0xf0, 0, 3, 0x41, 0x9a, 0x00};
  ByteWriter out;
  ASSERT_TRUE(length_prefixed_to_annexb(two, 2, out).is_ok());
  EXPECT_EQ(out.bytes(), (Bytes{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a, 0x00}));
  auto size = annexb_size(two, 2);
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(*size, 13u);
  ByteWriter counting = ByteWriter::size_only();
  ASSERT_TRUE(length_prefixed_to_annexb(two, 2, counting).is_ok());
  EXPECT_EQ(counting.size(), 13u);
}

TEST(Nal, RejectsLengthsPastTheSampleWithoutWriting) {
  const Bytes bad = {0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 9, 0x41};
  ByteWriter out;
  EXPECT_EQ(length_prefixed_to_annexb(bad, 4, out).code(), StatusCode::kTruncated);
  EXPECT_EQ(out.size(), 0u);
  const Bytes cut_prefix = {0, 0, 0, 1, 0x09, 0, 0};
  EXPECT_EQ(annexb_size(cut_prefix, 4).status().code(), StatusCode::kTruncated);
  EXPECT_EQ(annexb_size(kIdrSample, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(annexb_size(kIdrSample, 5).status().code(), StatusCode::kInvalidArgument);
  const Bytes huge = {0xff, 0xff, 0xff, 0xff, 0x65};
  EXPECT_EQ(annexb_size(huge, 4).status().code(), StatusCode::kTruncated);
}

TEST(Nal, SummarizesAvcSamples) {
  auto idr = summarize_sample(kIdrSample, 4, NalFormat::kAvc);
  ASSERT_TRUE(idr.is_ok());
  EXPECT_FALSE(idr->has_aud);
  EXPECT_FALSE(idr->has_parameter_sets);
  EXPECT_TRUE(idr->has_idr);
  EXPECT_EQ(idr->count, 2u);

  const Bytes full = {0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 2,    0x67, 0x64,
                      0, 0, 0, 1, 0x68, 0,    0, 0, 2, 0x41, 0x9a};
  auto s = summarize_sample(full, 4, NalFormat::kAvc);
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(s->has_aud);
  EXPECT_TRUE(s->has_parameter_sets);
  EXPECT_FALSE(s->has_idr);
}

TEST(Nal, SummarizesHevcSamples) {
  // AUD (35), VPS (32), CRA (21).
  const Bytes hevc = {0, 0,    0,    3, 0x46, 0x01, 0x50, 0,    0,    0,
                      2, 0x40, 0x01, 0, 0,    0,    3,    0x2a, 0x01, 0xaf};
  auto s = summarize_sample(hevc, 4, NalFormat::kHevc);
  ASSERT_TRUE(s.is_ok());
  EXPECT_TRUE(s->has_aud);
  EXPECT_TRUE(s->has_parameter_sets);
  EXPECT_TRUE(s->has_idr);
  // Read as H.264 the same bytes say something else: the format matters.
  auto as_avc = summarize_sample(hevc, 4, NalFormat::kAvc);
  ASSERT_TRUE(as_avc.is_ok());
  EXPECT_FALSE(as_avc->has_aud);
}

}  // namespace
}  // namespace ams::codec
