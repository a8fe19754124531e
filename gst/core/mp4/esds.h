// The MPEG-4 elementary stream descriptor (esds box payload, ISO/IEC 14496-1 7.2.6.5): where an
// MP4 keeps the AAC AudioSpecificConfig and the stream's bitrates.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::mp4 {

struct EsDescriptor {
  uint16_t es_id = 0;
  uint8_t object_type_indication = 0x40;  // 0x40: MPEG-4 Audio
  uint8_t stream_type = 5;                // audio
  uint32_t buffer_size_db = 0;
  uint32_t max_bitrate = 0;
  uint32_t avg_bitrate = 0;
  Bytes decoder_specific_info;  // the AudioSpecificConfig for AAC
};

// `payload` is the esds box payload, full-box header included.
Result<EsDescriptor> parse_esds(ByteSpan payload);
// Returns the esds payload (full-box header included), for a sample entry child.
Bytes write_esds(const EsDescriptor& es);

}  // namespace ams::mp4
