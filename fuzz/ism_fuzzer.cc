// Feeds arbitrary bytes to parse_ism. Beyond not crashing, whatever parses must survive a round
// trip through write_ism unchanged: the writer's escaping and the parser's reading must agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smil/ism.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  ams::Result<ams::smil::Ism> ism = ams::smil::parse_ism(xml);
  if (!ism.is_ok()) return 0;
  ams::Result<ams::smil::Ism> again = ams::smil::parse_ism(ams::smil::write_ism(*ism));
  if (!again.is_ok() || !(*again == *ism)) std::abort();
  return 0;
}
