#include "encryption.h"

#include <glib.h>
#include <openssl/evp.h>

#include <memory>

#include "url/request.h"

namespace ams::server {

Result<SegmentKey> segment_key(const std::string& id, const std::string& value) {
  std::optional<std::string> guid = url::normalize_guid(id);
  if (!guid) return invalid_argument("content key id '" + id + "' is not a GUID");
  if (value.size() != 16) return invalid_argument("content key " + *guid + " is not 16 bytes");
  SegmentKey key;
  key.id = *guid;
  for (size_t i = 0; i < 16; ++i) key.value[i] = static_cast<uint8_t>(value[i]);
  std::string digits;
  for (char c : *guid) {
    if (c != '-') digits += c;
  }
  for (size_t i = 0; i < 16; ++i) {
    key.iv[i] = static_cast<uint8_t>(g_ascii_xdigit_value(digits[2 * i]) * 16 +
                                     g_ascii_xdigit_value(digits[2 * i + 1]));
  }
  return key;
}

std::string hex_of(const std::array<uint8_t, 16>& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<Body> aes128_cbc_encrypt(const Body& plain, const SegmentKey& key) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key.value.data(),
                                 key.iv.data()) != 1) {
    return io_error("AES-128-CBC: OpenSSL cannot start");
  }
  const uint64_t size = aes128_cbc_size(plain.size());
  auto* out = static_cast<guint8*>(g_malloc(size));
  uint64_t written = 0;
  bool ok = true;
  plain.for_each([&](const uint8_t* data, size_t n) {
    // EVP_EncryptUpdate takes an int length: pieces are GstBuffers and cached bytes, far below.
    int got = 0;
    ok = ok && n <= static_cast<size_t>(INT32_MAX - 16) &&
         EVP_EncryptUpdate(ctx.get(), out + written, &got, data, static_cast<int>(n)) == 1;
    if (ok) written += static_cast<uint64_t>(got);
  });
  int last = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), out + written, &last) == 1;
  if (ok) written += static_cast<uint64_t>(last);
  if (!ok || written != size) {
    g_free(out);
    return io_error("AES-128-CBC: OpenSSL failed");
  }
  GBytes* bytes = g_bytes_new_take(out, size);
  Body body = Body::of(bytes);
  g_bytes_unref(bytes);
  return body;
}

}  // namespace ams::server
