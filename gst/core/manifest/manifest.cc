#include "manifest/manifest.h"

#include <array>
#include <utility>

#include "manifest/timeline.h"
#include "manifest/writers.h"

namespace ams::manifest {
namespace {

struct FormatName {
  std::string_view name;
  Format format;
};
// Canonical names first: format_name() returns the first entry of a format.
constexpr std::array<FormatName, 9> kNames = {{
    {"fmp4", Format::kSmooth},
    {"fmp4-v20", Format::kSmoothV20},
    {"m3u8-aapl", Format::kHlsV4},
    {"m3u8-aapl-v3", Format::kHlsV3},
    {"m3u8-cmaf", Format::kHlsCmaf},
    {"mpd-time-csf", Format::kDashCsf},
    {"mpd-time-cmaf", Format::kDashCmaf},
    {"", Format::kSmooth},
    {"m3u8-aapl-v4", Format::kHlsV4},
}};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<Format> format_from_name(std::string_view name) {
  for (const FormatName& n : kNames) {
    if (iequals(n.name, name)) return n.format;
  }
  return std::nullopt;
}

std::string_view format_name(Format format) {
  for (const FormatName& n : kNames) {
    if (n.format == format) return n.name;
  }
  return {};
}

bool is_hls(Format f) {
  return f == Format::kHlsV4 || f == Format::kHlsV3 || f == Format::kHlsCmaf;
}
bool is_dash(Format f) {
  return f == Format::kDashCsf || f == Format::kDashCmaf;
}
bool is_smooth(Format f) {
  return f == Format::kSmooth || f == Format::kSmoothV20;
}

std::string_view content_type(Format format) {
  if (is_hls(format)) return "application/vnd.apple.mpegurl";
  if (is_dash(format)) return "application/dash+xml";
  return "application/vnd.ms-sstr+xml";
}

Result<std::string> render_master(const model::Presentation& presentation, Format format,
                                  const Options& options) {
  AMS_RETURN_IF_ERROR(check_track_urls_unique(presentation));
  if (is_smooth(format)) return render_smooth(presentation, format == Format::kSmoothV20, options);
  if (is_dash(format)) return render_dash(presentation, format == Format::kDashCmaf, options);
  return render_hls_master(presentation, format, options);
}

Result<std::string> render_media_playlist(const model::Presentation& presentation, Format format,
                                          const model::Track& track, const Options& options,
                                          bool iframes_only) {
  if (!is_hls(format)) {
    return invalid_argument("media playlists exist for HLS formats only, not " +
                            std::string(format_name(format)));
  }
  return render_hls_media(presentation, format, track, options, iframes_only);
}

std::string Options::url_args() const {
  std::string out;
  if (!filter.empty()) out += ",filter=" + filter;
  if (!encryption.empty()) out += ",encryption=" + encryption;
  return out;
}

}  // namespace ams::manifest
