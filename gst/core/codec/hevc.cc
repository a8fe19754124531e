#include "codec/hevc.h"

#include <algorithm>
#include <cstdio>

namespace ams::codec {

Result<HevcConfig> parse_hvcc(ByteSpan data) {
  ByteReader r(data);
  HevcConfig cfg;
  uint8_t version = 0, ptl = 0, parallelism = 0, chroma = 0, luma = 0, chroma_depth = 0;
  uint8_t misc = 0, arrays = 0;
  uint16_t spatial = 0, frame_rate = 0;
  ByteSpan constraints;
  if (!r.read_u8(version) || !r.read_u8(ptl) ||
      !r.read_u32(cfg.general_profile_compatibility_flags) || !r.read_span(6, constraints) ||
      !r.read_u8(cfg.general_level_idc) || !r.read_u16(spatial) || !r.read_u8(parallelism) ||
      !r.read_u8(chroma) || !r.read_u8(luma) || !r.read_u8(chroma_depth) ||
      !r.read_u16(frame_rate) || !r.read_u8(misc) || !r.read_u8(arrays)) {
    return truncated("hvcC: shorter than its 23-byte header");
  }
  if (version != 1) return unsupported("hvcC: configurationVersion " + std::to_string(version));
  cfg.general_profile_space = static_cast<uint8_t>(ptl >> 6);
  cfg.general_tier_flag = (ptl >> 5) & 1;
  cfg.general_profile_idc = ptl & 0x1f;
  std::copy(constraints.begin(), constraints.end(), cfg.general_constraint_indicator_flags.begin());
  cfg.chroma_format_idc = chroma & 3;
  cfg.bit_depth_luma = static_cast<uint8_t>((luma & 7) + 8);
  cfg.bit_depth_chroma = static_cast<uint8_t>((chroma_depth & 7) + 8);
  cfg.nal_length_size = static_cast<uint8_t>((misc & 3) + 1);
  if (cfg.nal_length_size == 3) return invalid_data("hvcC: lengthSizeMinusOne 2 is reserved");
  for (unsigned a = 0; a < arrays; ++a) {
    uint8_t type_byte = 0;
    uint16_t count = 0;
    if (!r.read_u8(type_byte) || !r.read_u16(count)) return truncated("hvcC: array header");
    const uint8_t type = type_byte & 0x3f;
    std::vector<Bytes>* dest = type == kHevcNalVps   ? &cfg.vps
                               : type == kHevcNalSps ? &cfg.sps
                               : type == kHevcNalPps ? &cfg.pps
                                                     : nullptr;
    for (unsigned i = 0; i < count; ++i) {
      uint16_t len = 0;
      ByteSpan nal;
      if (!r.read_u16(len) || !r.read_span(len, nal))
        return truncated("hvcC: NAL unit exceeds the record");
      if (len < 2) return invalid_data("hvcC: NAL unit shorter than its header");
      if (dest) dest->emplace_back(nal.begin(), nal.end());  // SEI arrays are not needed here
    }
  }
  return cfg;
}

std::string hevc_codec_string(std::string_view fourcc, const HevcConfig& cfg) {
  static const char* const kSpace[] = {"", "A", "B", "C"};
  uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i) {
    if ((cfg.general_profile_compatibility_flags >> i) & 1u) reversed |= 1u << (31 - i);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, ".%s%u.%X.%c%u", kSpace[cfg.general_profile_space & 3],
                cfg.general_profile_idc, reversed, cfg.general_tier_flag ? 'H' : 'L',
                cfg.general_level_idc);
  std::string s = std::string(fourcc) + buf;
  size_t last = cfg.general_constraint_indicator_flags.size();
  while (last > 0 && cfg.general_constraint_indicator_flags[last - 1] == 0) --last;
  for (size_t i = 0; i < last; ++i) {
    std::snprintf(buf, sizeof buf, ".%X", cfg.general_constraint_indicator_flags[i]);
    s += buf;
  }
  return s;
}

}  // namespace ams::codec
