#include "clearkey.h"

#include <glib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ams::server {

std::string base64url(const uint8_t* data, size_t size) {
  gchar* b64 = g_base64_encode(data, size);
  std::string out = b64;
  g_free(b64);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

bool from_base64url(std::string_view text, std::vector<uint8_t>& out) {
  std::string s(text);
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (s.size() % 4 == 1) return false;
  for (char& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!g_ascii_isalnum(c)) {
      return false;  // '+' and '/' are base64, not base64url; anything else is not either
    }
  }
  while (s.size() % 4 != 0) s += '=';
  gsize n = 0;
  guchar* raw = g_base64_decode(s.c_str(), &n);
  out.assign(raw, raw + n);
  g_free(raw);
  return true;
}

Result<ClearKeyRequest> parse_clearkey_request(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return invalid_argument("a ClearKey licence request is a JSON object");
  }
  ClearKeyRequest r;
  if (j.contains("type")) {
    if (!j["type"].is_string()) return invalid_argument("\"type\" is not a string");
    r.type = j["type"].get<std::string>();
    if (r.type != "temporary" && r.type != "persistent-license") {
      return invalid_argument("\"type\" is neither temporary nor persistent-license");
    }
  }
  if (!j.contains("kids") || !j["kids"].is_array() || j["kids"].empty()) {
    return invalid_argument("\"kids\" is not a non-empty array");
  }
  if (j["kids"].size() > kMaxClearKeyIds) {
    return invalid_argument("more than " + std::to_string(kMaxClearKeyIds) + " kids");
  }
  for (const nlohmann::json& kid : j["kids"]) {
    std::vector<uint8_t> raw;
    if (!kid.is_string() || !from_base64url(kid.get<std::string>(), raw) || raw.size() != 16) {
      return invalid_argument("a kid is not 16 bytes of base64url");
    }
    KeyBytes id;
    std::copy(raw.begin(), raw.end(), id.begin());
    if (std::find(r.kids.begin(), r.kids.end(), id) == r.kids.end()) r.kids.push_back(id);
  }
  return r;
}

std::string clearkey_licence(const std::vector<ClearKeyLicenceKey>& keys, const std::string& type) {
  nlohmann::json out = {{"keys", nlohmann::json::array()}, {"type", type}};
  for (const ClearKeyLicenceKey& k : keys) {
    out["keys"].push_back({{"kty", "oct"},
                           {"kid", base64url(k.kid.data(), k.kid.size())},
                           {"k", base64url(k.key.data(), k.key.size())}});
  }
  return out.dump();
}

}  // namespace ams::server
