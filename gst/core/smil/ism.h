// The .ism server manifest (SMIL 2.0): what an AMS asset holds and which MP4 track is which.
//
//   <smil xmlns="http://www.w3.org/2001/SMIL20/Language">
//     <head><meta name="formats" content="mp4-v3" /></head>
//     <body><switch>
//       <video src="x_1280x720.mp4" systemBitrate="3549855">
//         <param name="trackID" value="1" valuetype="data" />
//       </video>
//     </switch></body>
//   </smil>
//
// parse_ism accepts what AMS accepts from encoders and hand-written files; write_ism prints the
// layout of the AMS v3 encoder, so that parse_ism(write_ism(x)) == x for every x that parse_ism
// returns, and for every x built by hand whose text is valid UTF-8 without NUL, whose paths pass
// ams::check_relative_path and whose `params` are not named like a field's param.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ams::smil {

enum class IsmTrackKind { kVideo, kAudio, kText };  // <video>, <audio>, <textstream>

struct IsmTrack {
  IsmTrackKind kind = IsmTrackKind::kVideo;
  std::string src;  // relative to the .ism's folder; checked by ams::check_relative_path
  // The systemBitrate attribute, else the systemBitrate param, else 0 (text tracks).
  uint32_t system_bitrate = 0;
  // The systemLanguage attribute, else the systemLanguage param ("eng", "und"), else empty.
  std::string system_language;
  std::optional<uint32_t> track_id;  // the trackID param: track_ID inside the MP4
  std::string track_name;            // the trackName param: "video", "aac_eng_2_128041_2_1"
  std::string role;                  // the role param: "main", "alternate"
  std::string accessibility;         // the accessibility param: "description", "caption"
  // Every other <param name value> in document order (trackIndex, textDisplayName, armId, ...).
  // The params above are carried by their fields and never appear here, so that a writer that
  // fills the fields gets them printed once.
  std::vector<std::pair<std::string, std::string>> params;

  bool operator==(const IsmTrack&) const = default;
};

struct Ism {
  std::string client_manifest_relative_path;  // meta clientManifestRelativePath, empty if absent
  std::string formats;                        // meta formats: "mp4-v3", "mp4", empty if absent
  std::optional<uint32_t> fragments_per_hls_segment;  // meta fragmentsPerHLSSegment, 1..100
  std::vector<IsmTrack> tracks;                       // in document order

  bool operator==(const Ism&) const = default;
};

// Limits that keep a hostile .ism from costing more than a real one.
inline constexpr size_t kMaxIsmBytes = 4 * 1024 * 1024;
inline constexpr size_t kMaxIsmTracks = 1024;
inline constexpr size_t kMaxIsmParamsPerTrack = 256;

// Parses an .ism. Errors: kInvalidData (malformed XML, a repeated attribute, root not <smil>, a
// track without src or with a src that fails ams::check_relative_path (the message names it), a
// non-numeric systemBitrate or trackID, fragmentsPerHLSSegment outside 1..100, a known param or
// meta given twice, a track outside <smil><body><switch>, no track, a NUL byte, UTF-16 that does
// not convert), kUnsupported (a <switch> child other than video/audio/textstream, such as <ref>),
// kResourceLimit (more than kMaxIsmBytes, kMaxIsmTracks or kMaxIsmParamsPerTrack, nesting deeper
// than 64). Param and meta names match case-insensitively (hand-written files vary); unknown metas,
// elements and attributes are ignored. A UTF-8 byte order mark is skipped; UTF-16 with a byte order
// mark is converted.
Result<Ism> parse_ism(std::string_view xml);

// Prints the AMS encoder's layout: XML declaration, <smil xmlns=...>, <head> with the metas that
// are set, <body><switch> with one element per track carrying src, systemBitrate and
// systemLanguage attributes, then params systemBitrate, trackID, trackName, systemLanguage,
// accessibility, role (those that are set) and `params`, each as
// <param name="..." value="..." valuetype="data" />. Two-space indent, "\n" line ends. Entries of
// `params` named like a field's param, or with no name, are left out (they would not read back).
std::string write_ism(const Ism& ism);

const char* ism_track_kind_element(IsmTrackKind kind);  // "video", "audio", "textstream"

}  // namespace ams::smil
