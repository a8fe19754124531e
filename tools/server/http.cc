#include "http.h"

#include <gio/gio.h>
#include <glib.h>

#include <charconv>
#include <cstdio>

namespace ams::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> to_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Calls `f` with each comma-separated, trimmed element of a header list.
template <typename F>
void for_each_element(std::string_view list, F f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (!item.empty() && f(item)) return;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

RangeRequest parse_range(std::string_view header, uint64_t size) {
  RangeRequest none;
  header = trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() <= kUnit.size() || !iequals(header.substr(0, kUnit.size()), kUnit)) {
    return none;
  }
  std::string_view spec = trim(header.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return none;  // several ranges: send it all
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return none;
  std::string_view a = trim(spec.substr(0, dash));
  std::string_view b = trim(spec.substr(dash + 1));
  RangeRequest out;
  if (a.empty()) {  // suffix range: the last N bytes
    std::optional<uint64_t> n = to_u64(b);
    if (!n) return none;
    if (*n == 0 || size == 0) return {RangeKind::kUnsatisfiable, {}};
    uint64_t len = std::min(*n, size);
    out.range = {size - len, size - 1};
  } else {
    std::optional<uint64_t> first = to_u64(a);
    std::optional<uint64_t> last = b.empty() ? std::optional<uint64_t>(UINT64_MAX) : to_u64(b);
    if (!first || !last || *last < *first) return none;
    if (*first >= size) return {RangeKind::kUnsatisfiable, {}};
    out.range = {*first, std::min(*last, size - 1)};
  }
  out.kind = RangeKind::kSingle;
  return out;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    return tag;
  };
  bool match = false;
  for_each_element(if_none_match, [&](std::string_view item) {
    match = item == "*" || opaque(item) == opaque(etag);
    return match;
  });
  return match;
}

std::string make_etag(std::string_view identity) {
  gchar* sum = g_compute_checksum_for_data(
      G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(identity.data()), identity.size());
  std::string tag = "\"" + std::string(sum, 32) + "\"";  // 128 bits are plenty for a cache key
  g_free(sum);
  return tag;
}

bool accepts_gzip(std::string_view accept_encoding) {
  bool ok = false;
  for_each_element(accept_encoding, [&](std::string_view item) {
    size_t semi = item.find(';');
    std::string_view coding = trim(item.substr(0, semi));
    if (!iequals(coding, "gzip") && coding != "*") return false;
    // "gzip;q=0" refuses gzip; any other quality accepts it.
    std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
    size_t q = params.find("q=");
    if (q != std::string_view::npos) {
      std::string_view value = trim(params.substr(q + 2));
      if (value.find_first_not_of("0.") == std::string_view::npos) return false;
    }
    ok = true;
    return true;
  });
  return ok;
}

std::optional<std::string> gzip(std::string_view data) {
  GZlibCompressor* compressor = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, -1);
  std::string out;
  char buffer[16384];
  size_t offset = 0;
  bool failed = false;
  for (;;) {
    gsize read = 0;
    gsize written = 0;
    GError* error = nullptr;
    GConverterResult r = g_converter_convert(G_CONVERTER(compressor), data.data() + offset,
                                             data.size() - offset, buffer, sizeof(buffer),
                                             G_CONVERTER_INPUT_AT_END, &read, &written, &error);
    if (r == G_CONVERTER_ERROR) {
      g_error_free(error);
      failed = true;
      break;
    }
    offset += read;
    out.append(buffer, written);
    if (r == G_CONVERTER_FINISHED) break;
  }
  g_object_unref(compressor);
  if (failed) return std::nullopt;
  return out;
}

std::string access_log_line(const LogEntry& e) {
  GDateTime* t = g_date_time_new_from_unix_utc(e.unix_time_us / G_USEC_PER_SEC);
  gchar* when = g_date_time_format(t, "%d/%b/%Y:%H:%M:%S +0000");
  g_date_time_unref(t);
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  char duration[32];
  std::snprintf(duration, sizeof(duration), "%.1fms", e.duration_ms);
  std::string line = or_dash(e.remote) + " - - [" + when + "] \"" + e.method + " " + e.path + " " +
                     e.http_version + "\" " + std::to_string(e.status) + " " +
                     std::to_string(e.bytes) + " \"" + or_dash(e.referer) + "\" \"" +
                     or_dash(e.user_agent) + "\" " + duration + " " + or_dash(e.request_id);
  g_free(when);
  return line;
}

const char kDefaultCrossDomainXml[] =
    "<?xml version=\"1.0\" ?>\n"
    "<!DOCTYPE cross-domain-policy SYSTEM "
    "'http://www.macromedia.com/xml/dtds/cross-domain-policy.dtd'>\n"
    "<cross-domain-policy>\n"
    "  <allow-access-from domain='*' />\n"
    "</cross-domain-policy>\n";

const char kDefaultClientAccessPolicyXml[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<access-policy>\n"
    "  <cross-domain-access>\n"
    "    <policy>\n"
    "      <allow-from http-request-headers='*'>\n"
    "        <domain uri='http://*' />\n"
    "      </allow-from>\n"
    "      <grant-to>\n"
    "        <resource path='/' include-subpaths='false' />\n"
    "      </grant-to>\n"
    "    </policy>\n"
    "  </cross-domain-access>\n"
    "</access-policy>\n";

}  // namespace ams::server
