// Content protection's bytes (docs/protection.md): AES-128 "envelope" encryption of whole HLS
// segments (RFC 8216 4.3.2.4, METHOD=AES-128: AES-128-CBC with PKCS#7 padding over the segment).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "body.h"

namespace ams::server {

// The key a request's media are encrypted with, and the IV its playlists announce.
struct SegmentKey {
  std::string id;                 // the content key's id, a lower-case GUID
  std::array<uint8_t, 16> value;  // never logged, never in a body but key delivery's
  std::array<uint8_t, 16> iv;
};

// A key of `id` (a GUID) and `value` (16 bytes): the IV is the id's 16 bytes, as a GUID is
// unique per key and an IV needs no secrecy. kInvalidArgument for a bad id or value.
Result<SegmentKey> segment_key(const std::string& id, const std::string& value);

// "0102...": 32 lower-case hex digits.
std::string hex_of(const std::array<uint8_t, 16>& bytes);

// The size of `plain_size` bytes encrypted: PKCS#7 always pads, to the next multiple of 16.
inline uint64_t aes128_cbc_size(uint64_t plain_size) {
  return (plain_size / 16 + 1) * 16;
}

// `plain` encrypted with AES-128-CBC and PKCS#7 padding, read piece by piece (one copy: the
// ciphertext). kInternal-style kIo when OpenSSL fails.
Result<Body> aes128_cbc_encrypt(const Body& plain, const SegmentKey& key);

}  // namespace ams::server
