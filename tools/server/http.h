// HTTP details that do not depend on libsoup: byte ranges, entity tags, gzip, the access log line.
// Pure functions, so the server's request path stays a sequence of decisions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ams::server {

// A single satisfiable byte range [first, last] of a resource of `size` bytes.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t length() const { return last - first + 1; }
};

enum class RangeKind { kNone, kSingle, kUnsatisfiable };
struct RangeRequest {
  RangeKind kind = RangeKind::kNone;
  ByteRange range;
};

// Parses a Range header against a resource of `size` bytes (RFC 9110 14.1.2). A header that is
// not a "bytes=" range, is malformed, or asks for several ranges is ignored (kNone: the whole
// resource, which RFC 9110 allows); a well-formed range that starts past the end is kUnsatisfiable.
RangeRequest parse_range(std::string_view header, uint64_t size);

// True when an If-None-Match header matches `etag` ("*", or a list holding it; weak comparison,
// as RFC 9110 13.1.2 asks for If-None-Match).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

// A strong entity tag ("\"...\"") from everything that makes the bytes what they are.
std::string make_etag(std::string_view identity);

// True when Accept-Encoding lets us send gzip (listed without q=0, or "*").
bool accepts_gzip(std::string_view accept_encoding);

// gzip (RFC 1952) of `data` through GLib's GZlibCompressor; nullopt if zlib fails.
std::optional<std::string> gzip(std::string_view data);

// One access log line, the combined format plus the duration and the request's id (its
// X-Request-Id, "-" when it has none):
// 127.0.0.1 - - [25/Nov/2026:11:15:54 +0000] "GET /path HTTP/1.1" 200 1234 "-" "curl/7.88" 3.2ms
//   5f0c3a9e12d4b7a80000000000000001  (on the same line)
struct LogEntry {
  std::string remote;
  std::string method;
  std::string path;  // with the query, as the client sent it
  std::string http_version;
  unsigned status = 0;
  uint64_t bytes = 0;
  std::string referer;
  std::string user_agent;
  double duration_ms = 0;
  int64_t unix_time_us = 0;
  std::string request_id;
};
std::string access_log_line(const LogEntry& entry);

// The cross-site policy files AMS endpoints serve by default (the REST documentation's example).
extern const char kDefaultCrossDomainXml[];
extern const char kDefaultClientAccessPolicyXml[];

}  // namespace ams::server
