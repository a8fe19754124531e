// Manifest writers: pure functions from the presentation model to the text AMS serves for each of
// its formats (Smooth 2.2 and 2.0, HLS v4 / v3 / CMAF master and media playlists, DASH CSF and
// CMAF MPDs). No I/O: the caller owns the presentation and sends the text. docs/manifests.md says
// which choices were made where AMS's own output is unknown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/presentation.h"
#include "model/segments.h"

namespace ams::manifest {

enum class Format { kSmooth, kSmoothV20, kHlsV4, kHlsV3, kHlsCmaf, kDashCsf, kDashCmaf };

// The value of the URL's `format=` argument, ASCII case-insensitive: "" and "fmp4" -> Smooth 2.2,
// "fmp4-v20", "m3u8-aapl" and "m3u8-aapl-v4" -> HLS v4, "m3u8-aapl-v3", "m3u8-cmaf",
// "mpd-time-csf", "mpd-time-cmaf". nullopt for anything else.
std::optional<Format> format_from_name(std::string_view name);
// The canonical name, the one written into the URLs of child resources ("fmp4" for Smooth 2.2,
// "m3u8-aapl" for HLS v4).
std::string_view format_name(Format format);
// application/vnd.ms-sstr+xml, application/vnd.apple.mpegurl or application/dash+xml.
std::string_view content_type(Format format);
bool is_hls(Format format);
bool is_dash(Format format);
bool is_smooth(Format format);

struct Options {
  // HLS: list the audio-only variant last (`audio-only=false` in the URL drops it).
  bool audio_only = true;
  // HLS v3: the audio track muxed into the video variants (`audiotrack=`); empty: the first.
  std::string audio_track;
  // The request's `filter=` value ("a;b"), carried into every URL the manifest names so that a
  // player's requests stay inside the filters (docs/filters.md); empty: none.
  std::string filter;
  // The request's `encryption=` value ("cbc"), carried into every URL likewise; empty: none.
  std::string encryption;
  // HLS AES-128 (`encryption=cbc` on HLS v3/v4, docs/protection.md): the key's URI and the IV
  // (32 hex digits) the media playlists' EXT-X-KEY gives; empty: the segments are clear.
  std::string aes128_key_uri;
  std::string aes128_iv_hex;
  // DASH common encryption (`encryption=cenc`, or `cbcs` on DASH CMAF): the ContentProtection
  // descriptors every AdaptationSet gets (docs/protection.md); absent: the media are clear.
  struct CommonEncryption {
    std::string scheme;          // "cenc" or "cbcs" (mp4protection's value)
    std::string default_kid;     // the key id as a UUID, cenc:default_KID
    std::string pssh_base64;     // the W3C common pssh box, in a cenc:pssh element
    std::string clearkey_laurl;  // the ClearKey licence URL (dashif:Laurl); empty: none
  };
  std::optional<CommonEncryption> common_encryption;

  // The arguments the URLs a manifest names carry after their own (url_template.h), in AMS's
  // order: ",filter=a;b,encryption=cbc", "" for none.
  std::string url_args() const;
};

// The Smooth client manifest, the HLS master playlist, or the MPD.
Result<std::string> render_master(const model::Presentation& presentation, Format format,
                                  const Options& options);

// An HLS media playlist of one track (`QualityLevels(N)/Manifest(track,format=...)`), or its
// I-frame playlist (`type=keyframes`, HLS v4 video only).
Result<std::string> render_media_playlist(const model::Presentation& presentation, Format format,
                                          const model::Track& track, const Options& options,
                                          bool iframes_only);

// How many fragments one segment of `format` holds: the .ism's fragmentsPerHLSSegment for HLS
// v3 and v4 (MPEG-TS), 1 for every fMP4 format (AMS packs CMAF 1:1).
size_t fragments_per_segment(const model::Presentation& presentation, Format format);
// What the segments of a text track (a WebVTT side-car) align to in every format (HLS WebVTT
// segments, DASH and Smooth TTML fragments): the first video track, else the first audio track;
// nullptr when there is neither.
const model::Track* text_timeline(const model::Presentation& presentation);

// The segments of a track's media playlist (model/segments.h decides what a segment is).
using HlsSegment = model::Segment;
std::vector<HlsSegment> hls_segments(const model::Presentation& presentation,
                                     const model::Track& track, Format format);

}  // namespace ams::manifest
