// W3C Encrypted Media Extensions ClearKey licences (EME, "9.1.3 License Request Format" and
// "9.1.4 License Format"): the request names key ids, the licence gives each key as a JSON Web
// Key. Pure functions; the handler in server.cc decides which keys a request may have
// (docs/protection.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ams::server {

using KeyBytes = std::array<uint8_t, 16>;

struct ClearKeyRequest {
  std::vector<KeyBytes> kids;      // as asked, duplicates removed
  std::string type = "temporary";  // "temporary" or "persistent-license"
};

// {"kids": ["base64url", ...], "type": "temporary"}: at most kMaxClearKeyIds ids, each 16 bytes
// in base64url (padding accepted). kInvalidArgument for anything else.
inline constexpr size_t kMaxClearKeyIds = 64;
Result<ClearKeyRequest> parse_clearkey_request(std::string_view body);

struct ClearKeyLicenceKey {
  KeyBytes kid;
  KeyBytes key;
};
// {"keys": [{"kty": "oct", "kid": "...", "k": "..."}], "type": "..."}, base64url unpadded.
std::string clearkey_licence(const std::vector<ClearKeyLicenceKey>& keys, const std::string& type);

// base64url without padding (RFC 4648 5), and back (padding optional).
std::string base64url(const uint8_t* data, size_t size);
bool from_base64url(std::string_view text, std::vector<uint8_t>& out);

}  // namespace ams::server
