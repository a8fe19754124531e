#include "codec/ac3.h"

#include <gtest/gtest.h>

namespace ams::codec {
namespace {

TEST(Ac3Config, ParsesDac3) {
  const uint8_t five_one[] = {0x10, 0x3d, 0xe0};  // 48 kHz, 3/2 + LFE, 448 kbit/s
  auto cfg = parse_dac3(five_one);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_FALSE(cfg->enhanced);
  EXPECT_EQ(cfg->sample_rate, 48000u);
  EXPECT_EQ(cfg->channels, 6u);
  EXPECT_EQ(cfg->acmod, 7);
  EXPECT_TRUE(cfg->lfe);
  EXPECT_EQ(cfg->bitrate, 448000u);
  EXPECT_EQ(ac3_codec_string(*cfg), "ac-3");

  const uint8_t stereo[] = {0x50, 0x11, 0x20};  // 44.1 kHz, 2/0, bit_rate_code 9 = 160 kbit/s
  auto st = parse_dac3(stereo);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->sample_rate, 44100u);
  EXPECT_EQ(st->channels, 2u);
  EXPECT_EQ(st->bitrate, 160000u);
}

TEST(Ac3Config, RejectsBadDac3) {
  const uint8_t two[] = {0x10, 0x3d};
  EXPECT_EQ(parse_dac3(two).status().code(), StatusCode::kTruncated);
  const uint8_t fscod3[] = {0xd0, 0x3d, 0xe0};
  EXPECT_EQ(parse_dac3(fscod3).status().code(), StatusCode::kInvalidData);
  const uint8_t rate31[] = {0x10, 0x3f, 0xe0};
  EXPECT_EQ(parse_dac3(rate31).status().code(), StatusCode::kInvalidData);
}

TEST(Ac3Config, ParsesDec3) {
  const uint8_t five_one[] = {0x08, 0x00, 0x20, 0x0f, 0x00};
  auto cfg = parse_dec3(five_one);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_TRUE(cfg->enhanced);
  EXPECT_EQ(cfg->sample_rate, 48000u);
  EXPECT_EQ(cfg->channels, 6u);
  EXPECT_EQ(cfg->bitrate, 256000u);
  EXPECT_EQ(ac3_codec_string(*cfg), "ec-3");

  // A dependent substream adding the Lrs/Rrs pair: 7.1.
  const uint8_t seven_one[] = {0x20, 0x00, 0x20, 0x0f, 0x02, 0x80};
  auto eight = parse_dec3(seven_one);
  ASSERT_TRUE(eight.is_ok()) << eight.status().to_string();
  EXPECT_EQ(eight->channels, 8u);
  EXPECT_EQ(eight->bitrate, 1024000u);
}

TEST(Ac3Config, RejectsTruncatedDec3) {
  const uint8_t seven_one[] = {0x20, 0x00, 0x20, 0x0f, 0x02, 0x80};
  for (size_t n = 0; n < sizeof seven_one; ++n) {
    EXPECT_EQ(parse_dec3(ByteSpan(seven_one, n)).status().code(), StatusCode::kTruncated) << n;
  }
  // Seven independent substreams announced, one present.
  const uint8_t many[] = {0x08, 0x07, 0x20, 0x0f, 0x00};
  EXPECT_EQ(parse_dec3(many).status().code(), StatusCode::kTruncated);
}

}  // namespace
}  // namespace ams::codec
