// H.265: the HEVCDecoderConfigurationRecord (hvcC, ISO/IEC 14496-15 8.3.3) and its RFC 6381 codecs
// value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::codec {

// HEVC NAL unit types this project looks at.
inline constexpr uint8_t kHevcNalVps = 32;
inline constexpr uint8_t kHevcNalSps = 33;
inline constexpr uint8_t kHevcNalPps = 34;
inline constexpr uint8_t kHevcNalAud = 35;

struct HevcConfig {
  uint8_t general_profile_space = 0;  // 0..3
  bool general_tier_flag = false;     // true: High tier
  uint8_t general_profile_idc = 0;
  uint32_t general_profile_compatibility_flags = 0;             // flag j is bit (31 - j)
  std::array<uint8_t, 6> general_constraint_indicator_flags{};  // 48 bits, as stored
  uint8_t general_level_idc = 0;                                // 30 x level ("L93" = 3.1)
  uint8_t chroma_format_idc = 0;
  uint8_t bit_depth_luma = 8;
  uint8_t bit_depth_chroma = 8;
  uint8_t nal_length_size = 4;       // 1, 2 or 4
  std::vector<Bytes> vps, sps, pps;  // NAL units (2-byte header included), no start code
};

Result<HevcConfig> parse_hvcc(ByteSpan data);

// ISO/IEC 14496-15 Annex E: "hvc1.1.6.L93.B0" = fourcc, profile space letter + profile_idc,
// compatibility flags bit-reversed in hex, tier letter + level, constraint bytes in hex with the
// trailing zero bytes left out.
std::string hevc_codec_string(std::string_view fourcc, const HevcConfig& cfg);

}  // namespace ams::codec
