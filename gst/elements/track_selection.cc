#include "track_selection.h"

#include <algorithm>
#include <charconv>

namespace ams::gst {
namespace {

bool parse_uint(std::string_view s, uint64_t& v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

}  // namespace

Result<std::vector<size_t>> select_tracks(const model::Presentation& presentation,
                                          const std::string& selectors) {
  std::vector<size_t> out;
  if (selectors.empty()) {
    for (size_t i = 0; i < presentation.tracks.size(); ++i) out.push_back(i);
    return out;
  }
  size_t pos = 0;
  while (pos <= selectors.size()) {
    size_t comma = selectors.find(',', pos);
    std::string_view sel(selectors.data() + pos,
                         (comma == std::string::npos ? selectors.size() : comma) - pos);
    pos = comma == std::string::npos ? selectors.size() + 1 : comma + 1;
    if (sel.empty()) continue;
    std::optional<size_t> found;
    if (sel[0] == '#') {
      uint64_t index = 0;
      if (!parse_uint(sel.substr(1), index)) {
        return invalid_argument("track selector \"" + std::string(sel) + "\": not an index");
      }
      if (index < presentation.tracks.size()) found = index;
    } else {
      size_t at = sel.find('@');
      std::string name(sel.substr(0, at));
      std::optional<uint32_t> bitrate;
      if (at != std::string_view::npos) {
        uint64_t b = 0;
        if (!parse_uint(sel.substr(at + 1), b) || b > UINT32_MAX) {
          return invalid_argument("track selector \"" + std::string(sel) + "\": bad bitrate");
        }
        bitrate = static_cast<uint32_t>(b);
      }
      if (const model::Track* t = presentation.find(name, bitrate)) {
        found = static_cast<size_t>(t - presentation.tracks.data());
      }
    }
    if (!found) return not_found("no track matches \"" + std::string(sel) + "\"");
    if (std::find(out.begin(), out.end(), *found) == out.end()) out.push_back(*found);
  }
  if (out.empty()) return invalid_argument("the tracks property selects nothing");
  return out;
}

}  // namespace ams::gst
