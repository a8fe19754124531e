// The AMS URL grammar: a request path parsed into a value, and printed back. Routing is data: the
// server maps Request::kind to its handler; nothing else in the server looks at the path.
//
//   /{locator}/{name}.ism/manifest[(k=v,...)][.m3u8|.mpd]        kManifest
//   /{locator}/{name}.ism/QualityLevels(N)/Manifest(track,k=v,...) kMediaPlaylist (HLS)
//   /{locator}/{name}.ism/QualityLevels(N)/Fragments(track=T|i[,k=v,...])  kFragment
//   /{locator}/{name}.ism/QualityLevels(N)/KeyFrames(track=T,k=v,...)     kKeyFrame (HLS I-frame)
//   /{locator}/{file}                                              kDownload (progressive)
//   /crossdomain.xml, /clientaccesspolicy.xml                      kCrossDomain,
//   kClientAccessPolicy
// `manifest` and `Manifest` are accepted in any case, as AMS does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ams::url {

enum class Kind {
  kManifest,
  kMediaPlaylist,
  kFragment,
  kKeyFrame,
  kDownload,
  kCrossDomain,
  kClientAccessPolicy,
};

struct Request {
  Kind kind = Kind::kManifest;
  std::string
      locator_id;  // lower-case GUID as written in the URL (validated: 36 chars, hex and '-')
  std::string
      manifest;      // "{name}" of "{name}.ism" (kManifest, kMediaPlaylist, kFragment, kKeyFrame)
  std::string file;  // kDownload: the file name inside the asset folder (no '/', no "..")
  std::optional<uint32_t> bitrate;   // QualityLevels(N)
  std::string track;                 // Manifest(track,...), Fragments(track=...)
  std::optional<int64_t> time;       // Fragments(track=T): 10 MHz
  bool init = false;                 // Fragments(track=i): the init segment
  std::string format;                // the format= argument as written ("" when absent)
  std::string audio_track;           // audiotrack=
  bool audio_only = true;            // audio-only=false clears it
  bool keyframes = false;            // type=keyframes
  std::vector<std::string> filters;  // filter=a;b;c (at most 3)
  std::string encryption;            // encryption=cbc|cenc|cbcs-aapl|piff
  std::string suffix;                // ".m3u8" or ".mpd" after the selector, "" when absent

  bool operator==(const Request&) const = default;
};

// Parses a request path (the part before '?', still percent-encoded). Percent-decoding happens
// here, per segment, and a decoded segment that is "." or ".." or holds '/', '\\' or NUL is
// rejected, as are unknown selector arguments, malformed parentheses, and numbers that do not fit.
// kInvalidArgument -> the server answers 400; kNotFound (a path of no known shape) -> 404.
Result<Request> parse(std::string_view path);

// Prints the canonical path of a request (what parse accepts and maps to the same Request).
std::string print(const Request& request);

// A streaming locator id as AMS writes it: 8-4-4-4-12 hex digits, returned in lower case;
// nullopt for anything else.
std::optional<std::string> normalize_guid(std::string_view text);

// The longest request path parse accepts.
inline constexpr size_t kMaxPathLength = 4096;

}  // namespace ams::url
