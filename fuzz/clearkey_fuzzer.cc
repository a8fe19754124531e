// Feeds arbitrary bytes to the ClearKey licence request parser (tools/server/clearkey.h), which
// reads what any client POSTs to /keydelivery/clearkey/. Beyond not crashing: an accepted request
// names 1 to kMaxClearKeyIds distinct ids, and a licence written for them parses as JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "clearkey.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = ams::server::parse_clearkey_request(body);
  if (!r.is_ok()) return 0;
  if (r->kids.empty() || r->kids.size() > ams::server::kMaxClearKeyIds) std::abort();
  std::vector<ams::server::ClearKeyLicenceKey> keys;
  for (const auto& kid : r->kids) keys.push_back({kid, kid});
  const std::string licence = ams::server::clearkey_licence(keys, r->type);
  if (nlohmann::json::parse(licence, nullptr, false).is_discarded()) std::abort();
  return 0;
}
