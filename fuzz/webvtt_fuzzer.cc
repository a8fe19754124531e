// Feeds arbitrary bytes to ams::text::parse_webvtt. Beyond not crashing: every segment it writes
// of what it accepted is WebVTT that parses again, and the segment of the whole timeline holds the
// same cues and header blocks (the server cuts side-cars into HLS segments with it); one moved onto
// the MPEG-TS timeline holds only cues of its window, moved.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "text/webvtt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ams::Result<ams::text::WebVtt> vtt = ams::text::parse_webvtt(text);
  if (!vtt.is_ok()) return 0;
  if (vtt->problems.size() > ams::text::kMaxProblemsListed) std::abort();
  if (vtt->problems.size() > vtt->problem_count) std::abort();
  for (const ams::text::Cue& c : vtt->cues) {
    if (c.end_ms <= c.start_ms || c.start_ms < 0) std::abort();
  }
  const int64_t all = INT64_MAX / 2;
  ams::Result<ams::text::WebVtt> again =
      ams::text::parse_webvtt(ams::text::write_segment(*vtt, 0, all, 0));
  if (!again.is_ok() || again->cues != vtt->cues || again->header_blocks != vtt->header_blocks ||
      again->problem_count != 0) {
    std::abort();
  }
  // A window from the input's first bytes: its segment parses, and holds only overlapping cues.
  const int64_t from = size > 0 ? int64_t{data[0]} * 1000 : 0;
  const int64_t to = from + (size > 1 ? int64_t{data[1]} * 100 : 0);
  // On the MPEG-TS timeline: every cue moved by the 10 s offset.
  const int64_t offset = 10000;
  ams::Result<ams::text::WebVtt> part =
      ams::text::parse_webvtt(ams::text::write_segment(*vtt, from, to, offset));
  if (!part.is_ok()) std::abort();
  for (const ams::text::Cue& c : part->cues) {
    if (c.start_ms - offset >= to || c.end_ms - offset <= from) std::abort();
  }
  return 0;
}
