// TTML for DASH and Smooth text tracks: the cues of a WebVTT side-car (text/webvtt.h) over one
// span of media time, written as one IMSC1 Text Profile document (W3C TTML Profiles for Internet
// Media Subtitles and Captions 1.0), the payload of one `stpp` sample (ISO/IEC 14496-30) in a
// DASH or Smooth text fragment. Pure: no file access.
//
// What a document carries of each cue (docs/subtitles.md): its times, clipped to the span (a cue
// that crosses a segment boundary is in both documents, each showing its part, so a player that
// keeps both shows it once without a gap); its lines (<br/>); <b>, <i> and <u> as tts:fontWeight,
// tts:fontStyle and tts:textDecoration spans; the text of every other WebVTT tag (<c>, <v>, <lang>,
// <ruby>) without the tag; the character references WebVTT has (&amp; &lt; &gt; &nbsp; &lrm;
// &rlm;) as characters. Placement: a cue with `line:` in its upper half goes to a region at the
// top, every other one to the bottom region; `align:` becomes tts:textAlign. WebVTT STYLE and
// REGION blocks (CSS) are not carried.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "text/webvtt.h"

namespace ams::text {

// "http://www.w3.org/ns/ttml": the `stpp` sample entry's namespace.
inline constexpr char kTtmlNamespace[] = "http://www.w3.org/ns/ttml";
// The RFC 6381 codecs of such a track (ISO/IEC 14496-30, IMSC1 8.1: stpp.ttml.im1t).
inline constexpr char kImsc1TextCodecs[] = "stpp.ttml.im1t";

// The document for media time [from_ms, to_ms): every cue overlapping it, its times clipped to it
// and then moved by `media_offset_ms`; `language` (a BCP 47 tag, "" for none; anything but
// letters, digits and hyphens counts as none) is the document's xml:lang. A span with no cue is
// still a valid document (an empty body).
std::string write_ttml(const WebVtt& vtt, int64_t from_ms, int64_t to_ms, std::string_view language,
                       int64_t media_offset_ms = 0);

}  // namespace ams::text
