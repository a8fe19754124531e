#include "codec/aac.h"

#include <gtest/gtest.h>

namespace ams::codec {
namespace {

TEST(AacConfig, ParsesLowComplexityStereo) {
  const uint8_t asc[] = {0x11, 0x90};
  auto cfg = parse_audio_specific_config(asc);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_EQ(cfg->object_type, 2);
  EXPECT_EQ(cfg->sampling_index, 3);
  EXPECT_EQ(cfg->sample_rate, 48000u);
  EXPECT_EQ(cfg->channel_config, 2);
  EXPECT_EQ(aac_codec_string(*cfg), "mp4a.40.2");
}

TEST(AacConfig, ParsesEscapedObjectTypeAndExplicitRate) {
  // 11111 000001 (type 33) | 1111 + 24-bit 50000 | 0001
  const Bytes asc = {0xf8, 0x3e, 0x01, 0x86, 0xa0, 0x20};
  auto cfg = parse_audio_specific_config(asc);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_EQ(cfg->object_type, 33);
  EXPECT_EQ(cfg->sampling_index, 15);
  EXPECT_EQ(cfg->sample_rate, 50000u);
  EXPECT_EQ(cfg->channel_config, 1);
  EXPECT_EQ(make_audio_specific_config(33, 50000, 1), (Bytes{0xf8, 0x3e, 0x01, 0x86, 0xa0, 0x20}));
}

TEST(AacConfig, ExplicitSbrSignallingGivesTheCoreForAdts) {
  // type 5, 24 kHz core, 2 channels, extension 48 kHz, core type 2.
  const uint8_t asc[] = {0x2b, 0x11, 0x88, 0x00};
  auto cfg = parse_audio_specific_config(asc);
  ASSERT_TRUE(cfg.is_ok()) << cfg.status().to_string();
  EXPECT_EQ(aac_codec_string(*cfg), "mp4a.40.5");
  EXPECT_EQ(cfg->core_object_type, 2);
  EXPECT_EQ(cfg->sample_rate, 24000u);
  EXPECT_EQ(cfg->output_sample_rate, 48000u);
  ByteWriter w;
  ASSERT_TRUE(write_adts_header(*cfg, 10, w).is_ok());
  EXPECT_EQ(w.bytes()[2], 0x58);  // profile 1 (LC), index 6 (24 kHz)
}

TEST(AacConfig, RejectsTruncatedAndReservedInput) {
  EXPECT_EQ(parse_audio_specific_config({}).status().code(), StatusCode::kTruncated);
  const uint8_t one[] = {0x11};
  EXPECT_EQ(parse_audio_specific_config(one).status().code(), StatusCode::kTruncated);
  const uint8_t reserved_rate[] = {0x16, 0x90};  // index 13
  EXPECT_EQ(parse_audio_specific_config(reserved_rate).status().code(), StatusCode::kInvalidData);
  const uint8_t explicit_short[] = {0x17, 0x80, 0x00};
  EXPECT_EQ(parse_audio_specific_config(explicit_short).status().code(), StatusCode::kTruncated);
}

TEST(AacConfig, AdtsHeaderBytes) {
  const uint8_t asc[] = {0x11, 0x90};
  auto cfg = parse_audio_specific_config(asc);
  ASSERT_TRUE(cfg.is_ok());
  ByteWriter w;
  ASSERT_TRUE(write_adts_header(*cfg, 100, w).is_ok());
  EXPECT_EQ(w.bytes(), (Bytes{0xff, 0xf1, 0x4c, 0x80, 0x0d, 0x7f, 0xfc}));
  ByteWriter big;
  EXPECT_FALSE(write_adts_header(*cfg, kAdtsMaxFrameSize - kAdtsHeaderSize + 1, big).is_ok());
  EXPECT_TRUE(write_adts_header(*cfg, kAdtsMaxFrameSize - kAdtsHeaderSize, big).is_ok());
  EXPECT_EQ(big.bytes()[3] & 3, 3);  // frame_length 8191: all 13 bits set
  EXPECT_EQ(big.bytes()[4], 0xff);
}

TEST(AacConfig, AdtsRefusesWhatItCannotDescribe) {
  AacConfig usac{42, 3, 48000, 2, 42, 48000};
  ByteWriter w;
  EXPECT_EQ(write_adts_header(usac, 10, w).code(), StatusCode::kUnsupported);
  EXPECT_EQ(w.size(), 0u);
}

TEST(AacConfig, MakesAudioSpecificConfig) {
  EXPECT_EQ(make_audio_specific_config(2, 48000, 2), (Bytes{0x11, 0x90}));
  EXPECT_EQ(make_audio_specific_config(2, 44100, 2), (Bytes{0x12, 0x10}));
  EXPECT_EQ(make_audio_specific_config(2, 44100, 6), (Bytes{0x12, 0x30}));
  auto back = parse_audio_specific_config(make_audio_specific_config(2, 22050, 1));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->sample_rate, 22050u);
  EXPECT_EQ(back->channel_config, 1);
}

}  // namespace
}  // namespace ams::codec
