// Feeds arbitrary bytes to ams::url::parse as a request path. Beyond not crashing, every accepted
// path must print to a canonical path that parses to the same request and prints identically:
// the server routes on the parsed value and the manifests print the canonical form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "url/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view path(reinterpret_cast<const char*>(data), size);
  ams::Result<ams::url::Request> request = ams::url::parse(path);
  if (!request.is_ok()) return 0;
  std::string printed = ams::url::print(*request);
  ams::Result<ams::url::Request> again = ams::url::parse(printed);
  if (!again.is_ok() || !(*again == *request)) std::abort();
  if (ams::url::print(*again) != printed) std::abort();
  return 0;
}
