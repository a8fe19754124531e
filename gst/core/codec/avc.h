// H.264: the AVCDecoderConfigurationRecord (avcC, ISO/IEC 14496-15 5.3.3) and what the manifests
// derive from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::codec {

struct AvcConfig {
  uint8_t profile = 0;          // AVCProfileIndication (profile_idc)
  uint8_t profile_compat = 0;   // profile_compatibility (constraint_set flags)
  uint8_t level = 0;            // AVCLevelIndication (level_idc)
  uint8_t nal_length_size = 4;  // bytes of each NAL length prefix in the samples: 1, 2 or 4
  std::vector<Bytes> sps;       // NAL units without start code or length
  std::vector<Bytes> pps;
};

Result<AvcConfig> parse_avcc(ByteSpan data);

// RFC 6381 codecs value: "avc1.64001f" (lower-case hex, as the HLS manifests print it).
std::string avc_codec_string(std::string_view fourcc, const AvcConfig& cfg);

// The Smooth CodecPrivateData: "00000001<SPS>00000001<PPS>" in upper-case hex, every SPS then
// every PPS.
std::string smooth_codec_private_data(const AvcConfig& cfg);

}  // namespace ams::codec
