// Feeds arbitrary bytes, as the payload of one video sample, to common encryption: the subsample
// map (ams::fmp4::subsample_map, which walks the NAL units of a file's sample) and the sample's
// encryption. The first byte picks the scheme and the codec. Beyond not crashing: an accepted map
// covers the sample exactly with clear counts that fit 16 bits, and encrypting twice gives the
// same bytes, the clear ranges unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fmp4/protection.h"

namespace {

ams::model::Track track(bool hevc) {
  ams::model::Track t;
  t.type = ams::model::TrackType::kVideo;
  t.codec = hevc ? ams::model::Codec::kH265 : ams::model::Codec::kH264;
  if (hevc) {
    // hvcC: version 1, 4-byte lengths (lengthSizeMinusOne 3), no arrays.
    t.codec_private.assign(23, 0);
    t.codec_private[0] = 1;
    t.codec_private[21] = 0x03;
  } else {
    t.codec_private = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe0, 0x00};  // 4-byte lengths, no SPS
  }
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool cbcs = data[0] & 1;
  const bool hevc = data[0] & 2;
  ams::ByteSpan sample(data + 1, size - 1);
  static const ams::model::Track avc = track(false), hev = track(true);
  const ams::model::Track& t = hevc ? hev : avc;
  ams::fmp4::Protection p;
  p.scheme = cbcs ? ams::fmp4::Scheme::kCbcs : ams::fmp4::Scheme::kCenc;
  p.key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  p.constant_iv = ams::fmp4::cbcs_constant_iv(p.key_id);
  auto map = ams::fmp4::subsample_map(t, p.scheme, sample);
  if (!map.is_ok()) return 0;
  uint64_t covered = 0;
  for (const ams::fmp4::Subsample& s : *map) covered += s.clear + uint64_t{s.protected_bytes};
  if (covered != sample.size()) std::abort();
  auto enc = ams::fmp4::SampleEncryptor::create(p);
  if (!enc.is_ok()) std::abort();
  std::vector<uint8_t> a(sample.size()), b(sample.size());
  if (!enc->encrypt(sample, 4096, *map, a.data()).is_ok()) std::abort();
  if (!enc->encrypt(sample, 4096, *map, b.data()).is_ok()) std::abort();
  if (a != b) std::abort();
  size_t at = 0;
  for (const ams::fmp4::Subsample& s : *map) {
    if (s.clear > 0 && std::memcmp(a.data() + at, sample.data() + at, s.clear) != 0) std::abort();
    at += s.clear + s.protected_bytes;
  }
  return 0;
}
