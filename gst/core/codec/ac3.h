// AC-3 and E-AC-3: the dac3 / dec3 box payloads (ETSI TS 102 366 Annex F) as stored in
// model::Track::codec_private.
#pragma once

#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/status.h"

namespace ams::codec {

struct Ac3Config {
  bool enhanced = false;     // E-AC-3 (dec3) rather than AC-3 (dac3)
  uint32_t sample_rate = 0;  // Hz
  uint32_t channels = 0;     // acmod channels + LFE (+ dependent substream channels for E-AC-3)
  uint8_t acmod = 0;
  bool lfe = false;
  uint32_t bitrate = 0;  // bits/s: the nominal rate for AC-3, data_rate for E-AC-3
};

Result<Ac3Config> parse_dac3(ByteSpan data);
Result<Ac3Config> parse_dec3(ByteSpan data);

// RFC 6381 / HLS codecs value: "ac-3" or "ec-3".
std::string ac3_codec_string(const Ac3Config& cfg);

}  // namespace ams::codec
