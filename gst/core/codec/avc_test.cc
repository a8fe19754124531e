#include "codec/avc.h"

#include <gtest/gtest.h>

namespace ams::codec {
namespace {

// High profile 3.1, 4-byte lengths, one SPS (12 bytes) and one PPS (4 bytes).
const Bytes kAvcc = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x0c, 0x67,
                     0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb,
                     0x01, 0x10, 0x01, 0x00, 0x04, 0x68, 0xeb, 0xe3, 0xcb};

TEST(AvcConfig, ParsesProfileLevelAndParameterSets) {
  auto cfg = parse_avcc(kAvcc);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_EQ(cfg->profile, 0x64);
  EXPECT_EQ(cfg->profile_compat, 0x00);
  EXPECT_EQ(cfg->level, 0x1f);
  EXPECT_EQ(cfg->nal_length_size, 4);
  ASSERT_EQ(cfg->sps.size(), 1u);
  ASSERT_EQ(cfg->pps.size(), 1u);
  EXPECT_EQ(cfg->sps[0].size(), 12u);
  EXPECT_EQ(cfg->pps[0], (Bytes{0x68, 0xeb, 0xe3, 0xcb}));
}

TEST(AvcConfig, CodecStringsAsTheManifestsPrintThem) {
  auto cfg = parse_avcc(kAvcc);
  ASSERT_TRUE(cfg.is_ok());
  EXPECT_EQ(avc_codec_string("avc1", *cfg), "avc1.64001f");
  EXPECT_EQ(avc_codec_string("avc3", *cfg), "avc3.64001f");
  EXPECT_EQ(smooth_codec_private_data(*cfg),
            "000000016764001FACD9405005BB0110"
            "0000000168EBE3CB");
}

TEST(AvcConfig, NalLengthSizeFromTheLowBits) {
  Bytes two = kAvcc;
  two[4] = 0xfd;
  auto cfg = parse_avcc(two);
  ASSERT_TRUE(cfg.is_ok());
  EXPECT_EQ(cfg->nal_length_size, 2);
  two[4] = 0xfe;  // 3 is reserved
  EXPECT_EQ(parse_avcc(two).status().code(), StatusCode::kInvalidData);
}

TEST(AvcConfig, RejectsEveryTruncation) {
  for (size_t n = 0; n < kAvcc.size(); ++n) {
    auto cfg = parse_avcc(ByteSpan(kAvcc).first(n));
    EXPECT_FALSE(cfg.is_ok()) << "prefix of " << n << " bytes parsed";
  }
}

TEST(AvcConfig, RejectsLengthsBeyondTheRecordAndBadVersion) {
  Bytes big = kAvcc;
  big[6] = 0xff;  // SPS length 0xff0c
  EXPECT_EQ(parse_avcc(big).status().code(), StatusCode::kTruncated);
  Bytes v2 = kAvcc;
  v2[0] = 2;
  EXPECT_EQ(parse_avcc(v2).status().code(), StatusCode::kUnsupported);
}

}  // namespace
}  // namespace ams::codec
