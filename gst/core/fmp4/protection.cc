// Common encryption: sample entries, subsample maps and the AES of each sample.
#include "fmp4/protection.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "codec/avc.h"
#include "codec/hevc.h"
#include "codec/nal.h"

namespace ams::fmp4 {
namespace {

using mp4::fourcc;

constexpr size_t kBlock = 16;
// cbcs: 1 block encrypted in every 10 for video (ISO/IEC 23001-7 10.4, as Apple and CMAF use it).
constexpr uint8_t kCryptBlocks = 1;
constexpr uint8_t kSkipBlocks = 9;
// cbcs: the clear bytes of a VCL NAL unit after its header, covering the slice header of the
// usual streams (Apple's sample encryption leaves 32 bytes clear).
constexpr size_t kCbcsSliceLeader = 32;

std::array<uint8_t, SHA256_DIGEST_LENGTH> sha256(std::initializer_list<std::string_view> parts) {
  std::array<uint8_t, SHA256_DIGEST_LENGTH> digest{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for (std::string_view part : parts) {
    // A length before each part: no two different lists hash the same bytes.
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(part.size() >> (56 - 8 * i));
    EVP_DigestUpdate(ctx, len, sizeof len);
    EVP_DigestUpdate(ctx, part.data(), part.size());
  }
  EVP_DigestFinal_ex(ctx, digest.data(), nullptr);
  EVP_MD_CTX_free(ctx);
  return digest;
}

std::string_view view(const Block& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

void put(ByteWriter& w, const Block& b) {
  w.bytes(ByteSpan(b.data(), b.size()));
}

// tenc (ISO/IEC 23001-7 8.2): version 0 for cenc (per-sample 16-byte IVs), version 1 for cbcs
// (the pattern and the constant IV).
Bytes tenc_payload(const Protection& p, bool video) {
  ByteWriter w;
  const bool cbcs = p.scheme == Scheme::kCbcs;
  w.u8(cbcs ? 1 : 0);  // version
  w.u24(0);            // flags
  w.u8(0);             // reserved
  w.u8(cbcs && video ? static_cast<uint8_t>(kCryptBlocks << 4 | kSkipBlocks) : 0);
  w.u8(1);              // default_isProtected
  w.u8(cbcs ? 0 : 16);  // default_Per_Sample_IV_Size
  put(w, p.key_id);     // default_KID
  if (cbcs) {
    w.u8(16);  // default_constant_IV_size
    put(w, p.constant_iv);
  }
  return w.take();
}

void box(ByteWriter& w, const char (&type)[5], ByteSpan payload) {
  w.u32(static_cast<uint32_t>(8 + payload.size()));
  w.fourcc(type);
  w.bytes(payload);
}

Result<uint8_t> nal_length_size(const model::Track& t, codec::NalFormat& format) {
  if (t.codec == model::Codec::kH264) {
    format = codec::NalFormat::kAvc;
    AMS_ASSIGN_OR_RETURN(codec::AvcConfig c, codec::parse_avcc(t.codec_private));
    return c.nal_length_size;
  }
  format = codec::NalFormat::kHevc;
  AMS_ASSIGN_OR_RETURN(codec::HevcConfig c, codec::parse_hvcc(t.codec_private));
  return c.nal_length_size;
}

bool is_vcl(codec::NalFormat format, ByteSpan nal) {
  const uint8_t type = codec::nal_type(format, nal);
  return format == codec::NalFormat::kAvc ? type >= 1 && type <= 5 : type <= 31;
}

// Adds `clear` clear bytes and `protected_bytes` protected ones to the map, in entries whose
// clear count fits 16 bits.
void add_range(std::vector<Subsample>& map, uint64_t& pending_clear, uint64_t clear,
               uint32_t protected_bytes) {
  pending_clear += clear;
  if (protected_bytes == 0) return;
  while (pending_clear > UINT16_MAX) {
    map.push_back({UINT16_MAX, 0});
    pending_clear -= UINT16_MAX;
  }
  map.push_back({static_cast<uint16_t>(pending_clear), protected_bytes});
  pending_clear = 0;
}

}  // namespace

const char* scheme_name(Scheme s) {
  return s == Scheme::kCenc ? "cenc" : "cbcs";
}

uint64_t cenc_iv_seed(const Block& key_id, std::string_view presentation_identity,
                      std::string_view file) {
  auto d = sha256({"gst-ams cenc iv seed", view(key_id), presentation_identity, file});
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed = seed << 8 | d[i];
  return seed;
}

Block cbcs_constant_iv(const Block& key_id) {
  auto d = sha256({"gst-ams cbcs constant iv", view(key_id)});
  Block iv;
  std::copy_n(d.begin(), iv.size(), iv.begin());
  return iv;
}

mp4::Pssh common_pssh(const Block& key_id) {
  mp4::Pssh pssh;
  pssh.version = 1;
  pssh.system_id = kCommonSystemId;
  pssh.key_ids.push_back(key_id);
  return pssh;
}

Protection make_protection(Scheme scheme, const Block& key_id, const Block& key,
                           const model::Presentation& presentation, const model::Track& track) {
  Protection p;
  p.scheme = scheme;
  p.key_id = key_id;
  p.key = key;
  p.iv_seed = cenc_iv_seed(key_id, presentation.identity, track.file);
  p.constant_iv = cbcs_constant_iv(key_id);
  p.pssh.push_back(common_pssh(key_id));
  return p;
}

std::string key_id_uuid(const Block& id) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[id[i] >> 4];
    out += kHex[id[i] & 15];
  }
  return out;
}

mp4::SampleEntry protect_sample_entry(const mp4::SampleEntry& clear, const Protection& p) {
  mp4::SampleEntry e = clear;
  const bool video = clear.is_visual();
  e.format = video ? fourcc("encv") : fourcc("enca");
  ByteWriter frma;
  frma.u32(clear.format);
  ByteWriter schm;
  schm.u32(0);  // version 0, flags 0
  schm.fourcc(scheme_name(p.scheme));
  schm.u32(0x00010000);  // scheme_version 1.0
  ByteWriter schi;
  Bytes tenc = tenc_payload(p, video);
  box(schi, "tenc", tenc);
  ByteWriter sinf;
  box(sinf, "frma", frma.bytes());
  box(sinf, "schm", schm.bytes());
  box(sinf, "schi", schi.bytes());
  e.children.push_back({fourcc("sinf"), sinf.take()});
  return e;
}

Result<std::vector<Subsample>> subsample_map(const model::Track& t, Scheme scheme,
                                             ByteSpan sample) {
  std::vector<Subsample> map;
  if (t.type == model::TrackType::kAudio) return map;
  if (t.codec != model::Codec::kH264 && t.codec != model::Codec::kH265) {
    return unsupported("common encryption of " + std::string(model::codec_name(t.codec)) +
                       " video (H.264 and HEVC only)");
  }
  codec::NalFormat format = codec::NalFormat::kAvc;
  AMS_ASSIGN_OR_RETURN(uint8_t prefix, nal_length_size(t, format));
  const size_t header = format == codec::NalFormat::kAvc ? 1 : 2;
  uint64_t pending = 0;
  AMS_RETURN_IF_ERROR(codec::for_each_nal(sample, prefix, [&](ByteSpan nal) {
    if (nal.size() <= header || !is_vcl(format, nal)) {
      add_range(map, pending, prefix + nal.size(), 0);
      return;
    }
    size_t lead = header;
    size_t rest = nal.size() - header;
    if (scheme == Scheme::kCenc) {
      // Whole AES blocks only (ISO/IEC 23001-7 9.5.2: protected video ranges of 'cenc' are a
      // multiple of 16 bytes); the remainder stays clear after the header.
      lead += rest % kBlock;
      rest -= rest % kBlock;
    } else {
      const size_t slice = std::min(rest, kCbcsSliceLeader);
      lead += slice;
      rest -= slice;
    }
    // A protected range above 4 GiB cannot be, as a sample size is 32 bits.
    add_range(map, pending, prefix + lead, static_cast<uint32_t>(rest));
  }));
  if (pending > 0) {
    while (pending > UINT16_MAX) {
      map.push_back({UINT16_MAX, 0});
      pending -= UINT16_MAX;
    }
    map.push_back({static_cast<uint16_t>(pending), 0});
  }
  return map;
}

SampleEncryptor::SampleEncryptor(const Protection& p) : p_(&p) {}

SampleEncryptor::SampleEncryptor(SampleEncryptor&& o) noexcept : p_(o.p_), ctx_(o.ctx_) {
  o.ctx_ = nullptr;
}

SampleEncryptor& SampleEncryptor::operator=(SampleEncryptor&& o) noexcept {
  std::swap(p_, o.p_);
  std::swap(ctx_, o.ctx_);
  return *this;
}

SampleEncryptor::~SampleEncryptor() {
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx_));
}

Result<SampleEncryptor> SampleEncryptor::create(const Protection& p) {
  SampleEncryptor e(p);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  e.ctx_ = ctx;
  const EVP_CIPHER* cipher = p.scheme == Scheme::kCenc ? EVP_aes_128_ctr() : EVP_aes_128_cbc();
  if (ctx == nullptr || EVP_EncryptInit_ex(ctx, cipher, nullptr, p.key.data(), nullptr) != 1) {
    return io_error("OpenSSL cannot set up AES-128");
  }
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  return e;
}

Block SampleEncryptor::sample_iv(uint64_t sample_offset) const {
  Block iv;
  for (int i = 0; i < 8; ++i) {
    iv[i] = static_cast<uint8_t>(p_->iv_seed >> (56 - 8 * i));
    iv[8 + i] = static_cast<uint8_t>(sample_offset >> (56 - 8 * i));
  }
  return iv;
}

Status SampleEncryptor::encrypt(ByteSpan sample, uint64_t sample_offset,
                                const std::vector<Subsample>& map, uint8_t* out) {
  if (sample.empty()) return Status::ok();  // nothing to encrypt (and no memory to copy from)
  auto* ctx = static_cast<EVP_CIPHER_CTX*>(ctx_);
  auto crypt = [&](const uint8_t* in, size_t n, uint8_t* to) {
    int got = 0;
    return EVP_EncryptUpdate(ctx, to, &got, in, static_cast<int>(n)) == 1 &&
           static_cast<size_t>(got) == n;
  };
  const bool cenc = p_->scheme == Scheme::kCenc;
  auto restart = [&]() {
    Block iv = cenc ? sample_iv(sample_offset) : p_->constant_iv;
    return EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) == 1;
  };
  // cbcs: each protected range from the constant IV, 1 block in 10 (video) or every whole block
  // (audio), a trailing partial block clear. cenc: one counter stream over the sample's
  // protected ranges.
  auto protect = [&](const uint8_t* in, size_t n, uint8_t* to, bool pattern) {
    if (cenc) return crypt(in, n, to);
    if (!restart()) return false;
    size_t at = 0;
    while (n - at >= kBlock) {
      const size_t crypt_bytes = pattern ? kCryptBlocks * kBlock : (n - at) / kBlock * kBlock;
      const size_t c = std::min(crypt_bytes, (n - at) / kBlock * kBlock);
      if (!crypt(in + at, c, to + at)) return false;
      at += c;
      const size_t skip = pattern ? std::min<size_t>(kSkipBlocks * kBlock, n - at) : 0;
      std::memcpy(to + at, in + at, skip);
      at += skip;
    }
    std::memcpy(to + at, in + at, n - at);
    return true;
  };
  if (cenc && !restart()) return io_error("OpenSSL cannot start AES-128-CTR");
  if (map.empty()) {
    if (!protect(sample.data(), sample.size(), out, false)) return io_error("AES-128 failed");
    return Status::ok();
  }
  size_t at = 0;
  for (const Subsample& s : map) {
    if (s.clear > sample.size() - at || s.protected_bytes > sample.size() - at - s.clear) {
      return invalid_data("a subsample map runs past its sample");
    }
    std::memcpy(out + at, sample.data() + at, s.clear);
    at += s.clear;
    if (s.protected_bytes > 0 && !protect(sample.data() + at, s.protected_bytes, out + at, true)) {
      return io_error("AES-128 failed");
    }
    at += s.protected_bytes;
  }
  if (at != sample.size()) return invalid_data("a subsample map does not cover its sample");
  return Status::ok();
}

}  // namespace ams::fmp4
