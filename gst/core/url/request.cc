#include "url/request.h"

#include <charconv>
#include <limits>
#include <utility>

#include "base/path.h"
#include "manifest/manifest.h"
#include "manifest/url_template.h"

namespace ams::url {
namespace {

namespace names = ams::manifest::url;

// AMS v3 prints the top-level selector in lower case (listPaths, docs) while the playlists it
// writes name their children "Manifest(...)": print each the way AMS does.
constexpr std::string_view kTopManifest = "manifest";
constexpr std::string_view kIsm = ".ism";
constexpr std::string_view kCrossDomainFile = "crossdomain.xml";
constexpr std::string_view kClientAccessPolicyFile = "clientaccesspolicy.xml";
constexpr std::string_view kFilterArg = "filter";
constexpr std::string_view kAudioOnlyArg = "audio-only";
constexpr std::string_view kEncryptionArg = "encryption";
constexpr std::string_view kM3u8Suffix = ".m3u8";
constexpr std::string_view kMpdSuffix = ".mpd";
constexpr size_t kMaxFilters = 3;
constexpr std::string_view kEncryptions[] = {"cbc", "cenc", "cbcs", "cbcs-aapl", "piff"};

// The selector arguments, as a bit set: which ones a resource accepts and which were seen.
enum Arg : unsigned {
  kArgFormat = 1u << 0,
  kArgFilter = 1u << 1,
  kArgAudioOnly = 1u << 2,
  kArgEncryption = 1u << 3,
  kArgAudioTrack = 1u << 4,
  kArgType = 1u << 5,
};
constexpr unsigned kManifestArgs =
    kArgFormat | kArgFilter | kArgAudioOnly | kArgEncryption | kArgAudioTrack;
constexpr unsigned kPlaylistArgs =
    kArgFormat | kArgFilter | kArgEncryption | kArgAudioTrack | kArgType;
constexpr unsigned kFragmentArgs = kArgFormat | kArgFilter | kArgEncryption | kArgAudioTrack;
constexpr unsigned kKeyFrameArgs = kArgFormat | kArgFilter | kArgEncryption;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status bad(std::string message) {
  return invalid_argument(std::move(message));
}

// Decodes one path segment and refuses anything that could name another folder or a file the
// URL does not show: a decoded "/" or "\\" would let `%2f` smuggle a separator past the split.
Result<std::string> decode_segment(std::string_view raw) {
  if (raw.empty()) return bad("empty path segment");
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    int lo = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
    if (hi < 0 || lo < 0) return bad("malformed percent escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (out == "." || out == "..") return bad("path traversal");
  for (char c : out) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || c == '\\') return bad("separator inside a path segment");
    if (u < 0x20 || u == 0x7f) return bad("control character in the path");
  }
  return out;
}

Result<std::vector<std::string>> split_path(std::string_view path) {
  if (path.size() > kMaxPathLength) return bad("path longer than 4096 bytes");
  path = path.substr(0, path.find_first_of("?#"));
  if (path.empty() || path[0] != '/') return bad("not an absolute path");
  path.remove_prefix(1);
  std::vector<std::string> segments;
  if (path.empty()) return segments;
  for (;;) {
    size_t slash = path.find('/');
    AMS_ASSIGN_OR_RETURN(std::string segment, decode_segment(path.substr(0, slash)));
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// Names that sit inside a selector (tracks, filters) cannot hold its punctuation.
bool valid_name(std::string_view name) {
  return !name.empty() && name.find_first_of("(),=;") == std::string_view::npos;
}

template <typename T>
Result<T> parse_number(std::string_view text, const char* what) {
  T value{};
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad(std::string(what) + ": not a number");
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return bad(std::string(what) + ": number out of range");
  }
  return value;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

// "Name(args)rest": the parts of a resource segment; no parentheses leaves args empty.
struct Call {
  std::string_view name;
  bool has_args = false;
  std::vector<std::string_view> args;
  std::string suffix;  // ".m3u8" / ".mpd", lower case
};

// Takes a trailing ".m3u8" or ".mpd" off `text` (any case).
std::string take_suffix(std::string_view& text) {
  for (std::string_view suffix : {kM3u8Suffix, kMpdSuffix}) {
    if (iends_with(text, suffix)) {
      text.remove_suffix(suffix.size());
      return std::string(suffix);
    }
  }
  return {};
}

Result<Call> split_call(std::string_view segment) {
  Call call;
  size_t open = segment.find('(');
  if (open == std::string_view::npos) {
    if (segment.find(')') != std::string_view::npos) return bad("unbalanced parentheses");
    call.suffix = take_suffix(segment);
    call.name = segment;
    return call;
  }
  size_t close = segment.find(')', open);
  if (close == std::string_view::npos) return bad("unbalanced parentheses");
  std::string_view inner = segment.substr(open + 1, close - open - 1);
  std::string_view rest = segment.substr(close + 1);
  if (inner.find('(') != std::string_view::npos) return bad("nested parentheses");
  call.suffix = take_suffix(rest);
  if (!rest.empty()) return bad("text after the selector");
  call.name = segment.substr(0, open);
  call.has_args = true;
  if (!inner.empty()) call.args = split(inner, ',');
  for (std::string_view arg : call.args) {
    if (arg.empty()) return bad("empty selector argument");
  }
  return call;
}

Result<Arg> arg_of(std::string_view key) {
  if (iequals(key, names::kFormatArg)) return kArgFormat;
  if (iequals(key, kFilterArg)) return kArgFilter;
  if (iequals(key, kAudioOnlyArg)) return kArgAudioOnly;
  if (iequals(key, kEncryptionArg)) return kArgEncryption;
  if (iequals(key, names::kAudioTrackArg)) return kArgAudioTrack;
  if (iequals(key, names::kTypeArg)) return kArgType;
  return bad("unknown selector argument '" + std::string(key) + "'");
}

Status apply_value(Request& r, Arg arg, std::string_view value) {
  switch (arg) {
    case kArgFormat:
      if (!manifest::format_from_name(value)) return bad("unknown format");
      r.format = std::string(value);
      return Status::ok();
    case kArgFilter: {
      std::vector<std::string_view> filters = split(value, ';');
      if (filters.size() > kMaxFilters) return bad("more than 3 filters");
      for (std::string_view f : filters) {
        if (!valid_name(f)) return bad("bad filter name");
        r.filters.emplace_back(f);
      }
      return Status::ok();
    }
    case kArgAudioOnly:
      if (!iequals(value, "true") && !iequals(value, "false")) return bad("audio-only: not a bool");
      r.audio_only = iequals(value, "true");
      return Status::ok();
    case kArgEncryption:
      for (std::string_view e : kEncryptions) {
        if (iequals(value, e)) {
          r.encryption = std::string(e);
          return Status::ok();
        }
      }
      return bad("unknown encryption");
    case kArgAudioTrack:
      if (!valid_name(value)) return bad("bad audio track name");
      r.audio_track = std::string(value);
      return Status::ok();
    case kArgType:
      if (!iequals(value, names::kKeyFramesType)) return bad("unknown type");
      r.keyframes = true;
      return Status::ok();
  }
  return bad("unknown selector argument");
}

// Applies the key=value arguments, each at most once and only those `allowed` here.
Status apply_args(Request& r, const std::vector<std::string_view>& args, unsigned allowed) {
  unsigned seen = 0;
  for (std::string_view item : args) {
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      return bad("selector argument is not key=value");
    }
    AMS_ASSIGN_OR_RETURN(Arg arg, arg_of(item.substr(0, eq)));
    if ((allowed & arg) == 0) return bad("argument not allowed on this resource");
    if ((seen & arg) != 0) return bad("repeated selector argument");
    seen |= arg;
    AMS_RETURN_IF_ERROR(apply_value(r, arg, item.substr(eq + 1)));
  }
  return Status::ok();
}

// An HLS playlist or key frame needs an HLS format; a suffix must agree with the format.
Status check_format(const Request& r) {
  std::optional<manifest::Format> format = manifest::format_from_name(r.format);
  bool hls = format && manifest::is_hls(*format);
  bool needs_hls = r.kind == Kind::kMediaPlaylist || r.kind == Kind::kKeyFrame;
  if (needs_hls && !hls) return bad("an HLS format is required");
  if (r.suffix == kM3u8Suffix && !hls) return bad(".m3u8 on a non-HLS format");
  if (r.suffix == kMpdSuffix && !(format && manifest::is_dash(*format))) {
    return bad(".mpd on a non-DASH format");
  }
  return Status::ok();
}

Result<Request> parse_top_manifest(Request r, std::string_view segment) {
  AMS_ASSIGN_OR_RETURN(Call call, split_call(segment));
  if (!iequals(call.name, kTopManifest)) return not_found("unknown resource");
  r.kind = Kind::kManifest;
  r.suffix = call.suffix;
  AMS_RETURN_IF_ERROR(apply_args(r, call.args, kManifestArgs));
  AMS_RETURN_IF_ERROR(check_format(r));
  return r;
}

// Fragments(track=T|i,...) and KeyFrames(track=T,...): the first argument names track and time.
Status parse_track_time(Request& r, std::string_view first) {
  size_t eq = first.find('=');
  if (eq == std::string_view::npos) return bad("missing track=time");
  r.track = std::string(first.substr(0, eq));
  if (!valid_name(r.track)) return bad("bad track name");
  std::string_view time = first.substr(eq + 1);
  if (r.kind == Kind::kFragment && time == names::kInitTime) {
    r.init = true;
    return Status::ok();
  }
  AMS_ASSIGN_OR_RETURN(r.time, parse_number<int64_t>(time, "fragment time"));
  return Status::ok();
}

Result<Request> parse_child(Request r, std::string_view levels, std::string_view resource) {
  AMS_ASSIGN_OR_RETURN(Call quality, split_call(levels));
  if (!iequals(quality.name, names::kQualityLevels) || !quality.has_args) {
    return not_found("unknown resource");
  }
  if (quality.args.size() != 1 || !quality.suffix.empty()) return bad("malformed QualityLevels");
  AMS_ASSIGN_OR_RETURN(r.bitrate, parse_number<uint32_t>(quality.args[0], "QualityLevels"));

  AMS_ASSIGN_OR_RETURN(Call call, split_call(resource));
  unsigned allowed = 0;
  if (iequals(call.name, names::kManifest)) {
    r.kind = Kind::kMediaPlaylist;
    allowed = kPlaylistArgs;
  } else if (iequals(call.name, names::kFragments)) {
    r.kind = Kind::kFragment;
    allowed = kFragmentArgs;
  } else if (iequals(call.name, names::kKeyFrames)) {
    r.kind = Kind::kKeyFrame;
    allowed = kKeyFrameArgs;
  } else {
    return not_found("unknown resource");
  }
  if (call.args.empty()) return bad("missing track");
  if (!call.suffix.empty() && r.kind != Kind::kMediaPlaylist) return bad("unexpected suffix");
  r.suffix = call.suffix;
  if (r.kind == Kind::kMediaPlaylist) {
    r.track = std::string(call.args[0]);
    if (!valid_name(r.track)) return bad("bad track name");
  } else {
    AMS_RETURN_IF_ERROR(parse_track_time(r, call.args[0]));
  }
  std::vector<std::string_view> rest(call.args.begin() + 1, call.args.end());
  AMS_RETURN_IF_ERROR(apply_args(r, rest, allowed));
  AMS_RETURN_IF_ERROR(check_format(r));
  return r;
}

Result<Request> parse_root_file(const std::string& name) {
  Request r;
  if (iequals(name, kCrossDomainFile)) {
    r.kind = Kind::kCrossDomain;
  } else if (iequals(name, kClientAccessPolicyFile)) {
    r.kind = Kind::kClientAccessPolicy;
  } else {
    return not_found("no such resource");
  }
  return r;
}

// Everything but the characters the grammar and RFC 3986 allow in a segment is escaped, so a
// printed segment decodes to exactly the text it was made from.
std::string encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 std::string_view("-._~!$&'()*+,;=:@").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else {
      auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

void print_arg(std::string& out, std::string_view key, std::string_view value, bool& first) {
  if (value.empty()) return;
  if (!first) out += ',';
  first = false;
  out += key;
  out += '=';
  out += value;
}

// The arguments in the order AMS writes them: format first, then what propagates to children.
void print_args(std::string& out, const Request& r, bool first) {
  std::string filters;
  for (const std::string& f : r.filters) filters += (filters.empty() ? "" : ";") + f;
  print_arg(out, names::kFormatArg, r.format, first);
  print_arg(out, names::kAudioTrackArg, r.audio_track, first);
  print_arg(out, kFilterArg, filters, first);
  print_arg(out, kAudioOnlyArg, r.audio_only ? "" : "false", first);
  print_arg(out, kEncryptionArg, r.encryption, first);
  print_arg(out, names::kTypeArg, r.keyframes ? names::kKeyFramesType : "", first);
}

std::string print_resource(const Request& r) {
  std::string s;
  if (r.kind == Kind::kManifest) {
    s = kTopManifest;
    std::string args;
    print_args(args, r, true);
    if (!args.empty()) s += "(" + args + ")";
    return encode_segment(s + r.suffix);
  }
  s = std::string(names::kQualityLevels) + "(" + std::to_string(r.bitrate.value_or(0)) + ")/";
  std::string selector;
  if (r.kind == Kind::kMediaPlaylist) {
    selector = std::string(names::kManifest) + "(" + r.track;
  } else {
    selector = std::string(r.kind == Kind::kFragment ? names::kFragments : names::kKeyFrames) +
               "(" + r.track + "=" +
               (r.init ? std::string(names::kInitTime) : std::to_string(r.time.value_or(0)));
  }
  print_args(selector, r, false);
  return s + encode_segment(selector + ")" + r.suffix);
}

}  // namespace

std::optional<std::string> normalize_guid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    bool hyphen_at = i == 8 || i == 13 || i == 18 || i == 23;
    if (hyphen_at ? text[i] != '-' : hex_value(text[i]) < 0) return std::nullopt;
  }
  return to_lower(text);
}

namespace {

Result<Request> parse_segments(std::string_view path) {
  AMS_ASSIGN_OR_RETURN(std::vector<std::string> segments, split_path(path));
  if (segments.size() == 1) return parse_root_file(segments[0]);
  if (segments.size() < 2 || segments.size() > 4) return not_found("no such resource");
  std::optional<std::string> locator = normalize_guid(segments[0]);
  if (!locator) return not_found("not a streaming locator id");
  Request r;
  r.locator_id = *locator;
  const std::string& name = segments[1];
  if (segments.size() == 2) {
    // The server manifest stays private; everything else in the folder is a download candidate.
    if (iends_with(name, kIsm)) return not_found("the server manifest is not served");
    r.kind = Kind::kDownload;
    r.file = name;
    return r;
  }
  if (name.size() <= kIsm.size() || !name.ends_with(kIsm)) return not_found("no such resource");
  r.manifest = name.substr(0, name.size() - kIsm.size());
  if (segments.size() == 3) return parse_top_manifest(std::move(r), segments[2]);
  return parse_child(std::move(r), segments[2], segments[3]);
}

}  // namespace

Result<Request> parse(std::string_view path) {
  AMS_ASSIGN_OR_RETURN(Request r, parse_segments(path));
  // Printing percent-encodes what the request may have sent raw (bytes >= 0x80), up to three
  // times longer: the canonical form must fit too, or it would not parse back.
  if (print(r).size() > kMaxPathLength) return bad("path longer than 4096 bytes once encoded");
  return r;
}

std::string print(const Request& r) {
  switch (r.kind) {
    case Kind::kCrossDomain:
      return "/" + std::string(kCrossDomainFile);
    case Kind::kClientAccessPolicy:
      return "/" + std::string(kClientAccessPolicyFile);
    case Kind::kDownload:
      return "/" + r.locator_id + "/" + encode_segment(r.file);
    default:
      break;
  }
  return "/" + r.locator_id + "/" + encode_segment(r.manifest + std::string(kIsm)) + "/" +
         print_resource(r);
}

}  // namespace ams::url
