// NAL units of H.264 and H.265 samples: length-prefixed (as MP4 stores them) to Annex B (as
// MPEG-TS carries them), and what a sample already contains.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::codec {

enum class NalFormat { kAvc, kHevc };

inline constexpr size_t kStartCodeSize = 4;  // 00 00 00 01 before every NAL unit

// Calls `fn(nal)` for every NAL unit of a length-prefixed sample (zero-length units included).
// Fails when a length runs past the sample or `nal_length_size` is not 1..4.
Status for_each_nal(ByteSpan sample, uint8_t nal_length_size,
                    const std::function<void(ByteSpan nal)>& fn);

// Rewrites every length prefix as a 4-byte start code. Nothing is written on failure.
Status length_prefixed_to_annexb(ByteSpan sample, uint8_t nal_length_size, ByteWriter& out);

// The size of the Annex B form of a sample; validates it like the conversion does.
Result<size_t> annexb_size(ByteSpan sample, uint8_t nal_length_size);

// With 4-byte lengths the Annex B form is exactly as large as the sample, so the index alone
// gives it; for other sizes the payload must be read (annexb_size).
inline constexpr size_t annexb_size_from_sample_size(size_t sample_size) {
  return sample_size;
}

// NAL unit type from the first header byte(s).
uint8_t nal_type(NalFormat format, ByteSpan nal);

struct NalSummary {
  bool has_aud = false;
  bool has_parameter_sets = false;  // an SPS (H.264) / VPS or SPS (HEVC)
  bool has_idr = false;             // IDR (H.264 type 5) / IRAP (HEVC types 16..23)
  size_t count = 0;
};

// What a length-prefixed sample contains, from its NAL headers.
Result<NalSummary> summarize_sample(ByteSpan sample, uint8_t nal_length_size, NalFormat format);

}  // namespace ams::codec
