// WebVTT (W3C WebVTT, the file format section): side-car subtitle and caption files as AMS assets
// hold them (`<textstream src="english.vtt">`), parsed into cues, and cut into the segments of an
// HLS WebVTT rendition (RFC 8216 3.5: each segment a WebVTT file of the cues it overlaps, with an
// X-TIMESTAMP-MAP header that maps its times onto the media's). Pure: no file access.
//
// What parse_webvtt keeps: the cues (identifier, start, end, settings, text, as written), and the
// STYLE and REGION blocks before the first cue (every segment repeats them, so that each one styles
// its cues as the file does). NOTE blocks go. A block that is neither (a cue whose timing line does
// not parse, whose end is not after its start) is reported in `problems` with its line number and
// skipped; the rest of the file stays. Bytes that are not WebVTT at all (no "WEBVTT" signature, a
// NUL byte, invalid UTF-8, more than kMaxWebVttBytes) are an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ams::text {

// The largest side-car parsed: subtitles of a feature film are a few hundred kilobytes.
inline constexpr size_t kMaxWebVttBytes = 16 * 1024 * 1024;
// The most problems listed (the first ones; `problem_count` has them all).
inline constexpr size_t kMaxProblemsListed = 32;

struct Cue {
  std::string id;        // the identifier line, "" when there is none
  int64_t start_ms = 0;  // cue timings, milliseconds (WebVTT's precision)
  int64_t end_ms = 0;
  std::string settings;  // "line:0 align:start", as written after the end time
  std::string text;      // the payload lines joined by '\n', markup kept
  bool operator==(const Cue&) const = default;
};

struct WebVtt {
  std::vector<std::string> header_blocks;  // STYLE and REGION blocks, each as written
  std::vector<Cue> cues;                   // in file order (WebVTT wants start times ascending)
  std::vector<std::string> problems;       // "line 12: ..." for the blocks skipped
  size_t problem_count = 0;
};

// kInvalidData when `bytes` are not a WebVTT file (see above); kResourceLimit when larger than
// kMaxWebVttBytes.
Result<WebVtt> parse_webvtt(std::string_view bytes);

// "01:02:03.004": hours always, as every WebVTT reader takes.
std::string format_timestamp(int64_t ms);

// One segment of an HLS WebVTT rendition: the cues that overlap [from_ms, to_ms) (each cue whole,
// so one spanning a boundary appears in both segments and players drop the repeat), after the
// header blocks, every time moved by `media_offset_ms` onto the media's timestamps, under
//   X-TIMESTAMP-MAP=MPEGTS:<media_offset_ms * 90>,LOCAL:<media_offset_ms as a timestamp>
// so that a cue's time is the media timestamp it plays at: the 10 s MPEG-TS offset for TS
// renditions (ts/stream.h), 0 for CMAF. A player that reads the map (hls.js, Safari, shaka) and one
// that ignores it (ffmpeg 5.1) then agree.
std::string write_segment(const WebVtt& vtt, int64_t from_ms, int64_t to_ms,
                          int64_t media_offset_ms);

}  // namespace ams::text
