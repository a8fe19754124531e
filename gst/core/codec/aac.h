// AAC: the AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), its codecs value, and ADTS headers for
// MPEG-TS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::codec {

inline constexpr size_t kAdtsHeaderSize = 7;
// An ADTS frame_length (header included) is 13 bits.
inline constexpr size_t kAdtsMaxFrameSize = 8191;

struct AacConfig {
  uint8_t object_type = 0;     // as signalled first: 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS
  uint8_t sampling_index = 0;  // 0..12, or 15 when the rate is explicit
  uint32_t sample_rate = 0;    // of the AAC core (what ADTS carries)
  uint8_t channel_config = 0;  // 0 = defined by a program config element
  // With explicit SBR/PS signalling (object type 5 or 29) the core object type that follows, and
  // the output rate; otherwise object_type and sample_rate.
  uint8_t core_object_type = 0;
  uint32_t output_sample_rate = 0;
};

Result<AacConfig> parse_audio_specific_config(ByteSpan data);

// RFC 6381: "mp4a.40.<object type>", e.g. "mp4a.40.2", "mp4a.40.5".
std::string aac_codec_string(const AacConfig& cfg);

// Whether an ADTS header can describe this stream (core object type 1..4, a 4-bit rate index).
Status check_adts_compatible(const AacConfig& cfg);

// The 7-byte ADTS header (MPEG-4, no CRC) of one raw frame of `payload_size` bytes. Fails when
// the stream cannot be described in ADTS or the frame exceeds kAdtsMaxFrameSize.
Status write_adts_header(const AacConfig& cfg, size_t payload_size, ByteWriter& out);

// An AudioSpecificConfig with GASpecificConfig zeroed (1024-sample frames), as encoders write it:
// (2, 48000, 2) -> 11 90. Rates outside the index table are written explicitly.
Bytes make_audio_specific_config(uint8_t object_type, uint32_t sample_rate, uint32_t channels);

// The rate of a sampling_frequency_index, 0 for reserved indices.
uint32_t aac_sample_rate(uint8_t sampling_index);

}  // namespace ams::codec
