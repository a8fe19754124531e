#include "codec/hevc.h"

#include <gtest/gtest.h>

namespace ams::codec {
namespace {

// Main profile, Main tier, level 3.1, 4-byte lengths, one VPS, SPS and PPS (short fakes).
Bytes make_hvcc(uint8_t ptl, uint32_t compat, std::array<uint8_t, 6> constraints, uint8_t level) {
  Bytes b = {0x01, ptl};
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<uint8_t>(compat >> (8 * i)));
  b.insert(b.end(), constraints.begin(), constraints.end());
  b.push_back(level);
  const uint8_t tail[] = {0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03,
                          // VPS array: one 3-byte unit
                          0xa0, 0x00, 0x01, 0x00, 0x03, 0x40, 0x01, 0x0c,
                          // SPS array
                          0xa1, 0x00, 0x01, 0x00, 0x04, 0x42, 0x01, 0x01, 0x01,
                          // PPS array
                          0xa2, 0x00, 0x01, 0x00, 0x03, 0x44, 0x01, 0xc1};
  b.insert(b.end(), std::begin(tail), std::end(tail));
  return b;
}

const Bytes kMain = make_hvcc(0x01, 0x60000000, {0xb0, 0, 0, 0, 0, 0}, 93);

TEST(HevcConfig, ParsesProfileTierLevelAndArrays) {
  auto cfg = parse_hvcc(kMain);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_EQ(cfg->general_profile_space, 0);
  EXPECT_FALSE(cfg->general_tier_flag);
  EXPECT_EQ(cfg->general_profile_idc, 1);
  EXPECT_EQ(cfg->general_profile_compatibility_flags, 0x60000000u);
  EXPECT_EQ(cfg->general_level_idc, 93);
  EXPECT_EQ(cfg->chroma_format_idc, 1);
  EXPECT_EQ(cfg->bit_depth_luma, 8);
  EXPECT_EQ(cfg->nal_length_size, 4);
  ASSERT_EQ(cfg->vps.size(), 1u);
  ASSERT_EQ(cfg->sps.size(), 1u);
  ASSERT_EQ(cfg->pps.size(), 1u);
  EXPECT_EQ(cfg->sps[0], (Bytes{0x42, 0x01, 0x01, 0x01}));
}

TEST(HevcConfig, CodecStringPerAnnexE) {
  auto cfg = parse_hvcc(kMain);
  ASSERT_TRUE(cfg.is_ok());
  EXPECT_EQ(hevc_codec_string("hvc1", *cfg), "hvc1.1.6.L93.B0");

  // Profile space 1, High tier, Main 10, a non-trailing zero constraint byte kept.
  auto main10 = parse_hvcc(make_hvcc(0x62, 0x20000000, {0xb0, 0, 0, 0, 0x01, 0}, 120));
  ASSERT_TRUE(main10.is_ok());
  EXPECT_EQ(hevc_codec_string("hev1", *main10), "hev1.A2.4.H120.B0.0.0.0.1");

  auto no_constraints = parse_hvcc(make_hvcc(0x01, 0x60000000, {0, 0, 0, 0, 0, 0}, 90));
  ASSERT_TRUE(no_constraints.is_ok());
  EXPECT_EQ(hevc_codec_string("hvc1", *no_constraints), "hvc1.1.6.L90");
}

TEST(HevcConfig, RejectsEveryTruncationAndBadLengths) {
  for (size_t n = 0; n < kMain.size(); ++n) {
    EXPECT_FALSE(parse_hvcc(ByteSpan(kMain).first(n)).is_ok()) << n;
  }
  Bytes big = kMain;
  big[26] = 0x7f;  // first VPS length -> 0x7f03
  EXPECT_EQ(parse_hvcc(big).status().code(), StatusCode::kTruncated);
  Bytes v0 = kMain;
  v0[0] = 0;
  EXPECT_EQ(parse_hvcc(v0).status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace ams::codec
