// Common encryption of fragmented MP4 (ISO/IEC 23001-7): the 'cenc' scheme (AES-128 CTR) and the
// 'cbcs' scheme (AES-128 CBC, 1:9 pattern for video, a constant IV). Pure functions of the model,
// a key and the samples' bytes; OpenSSL's EVP does the AES. docs/protection.md says what each
// scheme writes and why.
//
//   init segment   the sample entry becomes encv/enca with sinf (frma, schm, schi/tenc), and the
//                  moov carries the W3C common-system pssh (ClearKey) plus any the caller adds
//   fragment       senc (IVs, subsample maps), saiz, saio in the traf; the mdat's protected
//                  ranges encrypted, everything else as in the clear fragment
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "fmp4/boxes.h"
#include "model/presentation.h"
#include "mp4/boxes.h"

namespace ams::fmp4 {

enum class Scheme { kCenc, kCbcs };
const char* scheme_name(Scheme s);  // "cenc", "cbcs"

using Block = std::array<uint8_t, 16>;

// The W3C "common" protection system (EME's 'cenc' init data; ClearKey reads the key ids of its
// version 1 pssh): 1077efec-c0b2-4d02-ace3-3c1e52e2fb4b.
inline constexpr Block kCommonSystemId = {0x10, 0x77, 0xef, 0xec, 0xc0, 0xb2, 0x4d, 0x02,
                                          0xac, 0xe3, 0x3c, 0x1e, 0x52, 0xe2, 0xfb, 0x4b};

struct Protection {
  Scheme scheme = Scheme::kCenc;
  Block key_id = {};
  Block key = {};  // secret: never in a message
  // cenc: the upper 64 bits of every 16-byte sample IV; the lower 64 are the sample's byte offset
  // in its file. Distinct per file and key (cenc_iv_seed), so that no two different plaintexts
  // are ever encrypted from the same counter (docs/protection.md, "IVs").
  uint64_t iv_seed = 0;
  // cbcs: the IV each subsample starts from (tenc's constant IV).
  Block constant_iv = {};
  // The pssh boxes of the init segment: common_pssh(key_id), then any DRM system's.
  std::vector<mp4::Pssh> pssh;
};

// The IV seed of a track's file: the first 8 bytes of SHA-256 over the key id, the presentation's
// identity (every input file with its size, times and inode) and the file's path. A file that
// changes (new bytes at the same offsets) gets new IVs with it.
uint64_t cenc_iv_seed(const Block& key_id, std::string_view presentation_identity,
                      std::string_view file);

// The cbcs constant IV of a key: the first 16 bytes of SHA-256 over a label and the key id (an
// IV needs no secrecy; one per key, as cbcs has it).
Block cbcs_constant_iv(const Block& key_id);

// A protection with the common pssh, the seed of `track` and the constant IV filled in.
Protection make_protection(Scheme scheme, const Block& key_id, const Block& key,
                           const model::Presentation& presentation, const model::Track& track);

// The W3C common pssh (version 1, the key id listed, no data).
mp4::Pssh common_pssh(const Block& key_id);

// The key id as the GUID text DASH's cenc:default_KID writes: "3f0c...-....", lower case, the 16
// bytes in order (ISO/IEC 23001-7 11.1: a UUID in its big-endian byte order).
std::string key_id_uuid(const Block& key_id);

// The encrypted sample entry: format encv (video) or enca (audio) with the original entry's
// fields and children, and a sinf child (frma with the original format, schm, schi/tenc).
mp4::SampleEntry protect_sample_entry(const mp4::SampleEntry& clear, const Protection& p);

// The subsample map of one sample (ISO/IEC 23001-7 9.5): for H.264/HEVC, each VCL NAL unit's
// length prefix and NAL header (and, for cenc, what rounds the rest down to whole AES blocks;
// for cbcs, 32 more bytes of its slice header) stay clear, the rest is protected; other NAL units
// are clear. Empty for audio: the whole sample is protected. kInvalidData when the NAL lengths
// do not add up to the sample.
Result<std::vector<Subsample>> subsample_map(const model::Track& track, Scheme scheme,
                                             ByteSpan sample);

// Encrypts one sample as `p` says into `out` (sample.size() bytes), the clear ranges copied, and
// fills `aux` (its IV for cenc). `sample_offset` is the sample's byte offset in its file.
class SampleEncryptor {
 public:
  static Result<SampleEncryptor> create(const Protection& p);
  SampleEncryptor(SampleEncryptor&&) noexcept;
  SampleEncryptor& operator=(SampleEncryptor&&) noexcept;
  ~SampleEncryptor();

  Status encrypt(ByteSpan sample, uint64_t sample_offset, const std::vector<Subsample>& map,
                 uint8_t* out);
  // The IV of a cenc sample at that file offset.
  Block sample_iv(uint64_t sample_offset) const;

 private:
  explicit SampleEncryptor(const Protection& p);
  const Protection* p_;
  void* ctx_ = nullptr;  // EVP_CIPHER_CTX
};

}  // namespace ams::fmp4
