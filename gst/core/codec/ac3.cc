#include "codec/ac3.h"

#include "codec/bit_reader.h"

namespace ams::codec {
namespace {

constexpr uint32_t kSampleRates[3] = {48000, 44100, 32000};
constexpr uint32_t kAcmodChannels[8] = {2, 1, 2, 3, 3, 4, 4, 5};
constexpr uint32_t kBitrateKbps[19] = {32,  40,  48,  56,  64,  80,  96,  112, 128, 160,
                                       192, 224, 256, 320, 384, 448, 512, 576, 640};

// Channels a dependent substream adds, by chan_loc bit (TS 102 366 Table F.6.1, bit 8 first):
// Lc/Rc, Lrs/Rrs, Cs, Ts, Lsd/Rsd, Lw/Rw, Lvh/Rvh, Cvh, LFE2.
constexpr uint32_t kChanLocChannels[9] = {2, 2, 1, 1, 2, 2, 2, 1, 1};

}  // namespace

Result<Ac3Config> parse_dac3(ByteSpan data) {
  BitReader br(data);
  uint32_t fscod = 0, bsid = 0, bsmod = 0, acmod = 0, lfe = 0, rate_code = 0;
  if (!br.read(2, fscod) || !br.read(5, bsid) || !br.read(3, bsmod) || !br.read(3, acmod) ||
      !br.read(1, lfe) || !br.read(5, rate_code)) {
    return truncated("dac3: shorter than 3 bytes");
  }
  if (fscod > 2) return invalid_data("dac3: reserved fscod");
  if (rate_code > 18) return invalid_data("dac3: reserved bit_rate_code");
  Ac3Config cfg;
  cfg.sample_rate = kSampleRates[fscod];
  cfg.acmod = static_cast<uint8_t>(acmod);
  cfg.lfe = lfe != 0;
  cfg.channels = kAcmodChannels[acmod] + lfe;
  cfg.bitrate = kBitrateKbps[rate_code] * 1000;
  return cfg;
}

Result<Ac3Config> parse_dec3(ByteSpan data) {
  BitReader br(data);
  uint32_t data_rate = 0, num_ind_sub = 0;
  if (!br.read(13, data_rate) || !br.read(3, num_ind_sub)) return truncated("dec3: header");
  Ac3Config cfg;
  cfg.enhanced = true;
  cfg.bitrate = data_rate * 1000;
  // The first independent substream describes the programme the HLS/DASH manifests announce.
  for (uint32_t i = 0; i <= num_ind_sub; ++i) {
    uint32_t fscod = 0, bsid = 0, asvc = 0, bsmod = 0, acmod = 0, lfe = 0, num_dep_sub = 0;
    uint32_t chan_loc = 0;
    if (!br.read(2, fscod) || !br.read(5, bsid) || !br.skip(1) || !br.read(1, asvc) ||
        !br.read(3, bsmod) || !br.read(3, acmod) || !br.read(1, lfe) || !br.skip(3) ||
        !br.read(4, num_dep_sub)) {
      return truncated("dec3: independent substream " + std::to_string(i));
    }
    if (num_dep_sub > 0 ? !br.read(9, chan_loc) : !br.skip(1)) {
      return truncated("dec3: chan_loc of substream " + std::to_string(i));
    }
    if (i != 0) continue;
    if (fscod > 2) return invalid_data("dec3: reserved fscod");
    cfg.sample_rate = kSampleRates[fscod];
    cfg.acmod = static_cast<uint8_t>(acmod);
    cfg.lfe = lfe != 0;
    cfg.channels = kAcmodChannels[acmod] + lfe;
    for (int bit = 0; bit < 9; ++bit) {
      if ((chan_loc >> (8 - bit)) & 1u) cfg.channels += kChanLocChannels[bit];
    }
  }
  return cfg;
}

std::string ac3_codec_string(const Ac3Config& cfg) {
  return cfg.enhanced ? "ec-3" : "ac-3";
}

}  // namespace ams::codec
