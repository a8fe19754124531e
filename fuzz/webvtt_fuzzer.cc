// Feeds arbitrary bytes to ams::text::parse_webvtt. Beyond not crashing: every segment it writes
// of what it accepted is WebVTT that parses again, and the segment of the whole timeline holds the
// same cues and header blocks (the server cuts side-cars into HLS segments with it); one moved onto
// the MPEG-TS timeline holds only cues of its window, moved.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <glib.h>

#include "text/ttml.h"
#include "text/webvtt.h"

namespace {

// The number of <p> elements of `xml` when it is well-formed, -1 when it is not.
int paragraphs(const std::string& xml) {
  int count = 0;
  GMarkupParser parser = {};
  parser.start_element = [](GMarkupParseContext*, const gchar* name, const gchar**, const gchar**,
                            gpointer data, GError**) {
    if (std::string_view(name) == "p") ++*static_cast<int*>(data);
  };
  GMarkupParseContext* ctx =
      g_markup_parse_context_new(&parser, GMarkupParseFlags(0), &count, nullptr);
  const size_t body = xml.find("?>");
  const std::string rest = body == std::string::npos ? xml : xml.substr(body + 2);
  const bool ok = g_markup_parse_context_parse(ctx, rest.data(), rest.size(), nullptr) &&
                  g_markup_parse_context_end_parse(ctx, nullptr);
  g_markup_parse_context_free(ctx);
  return ok ? count : -1;
}

}  // namespace

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
  int overlapping = 0;
  for (const ams::text::Cue& c : vtt->cues) overlapping += c.start_ms < to && c.end_ms > from;
  if (paragraphs(ams::text::write_ttml(*vtt, from, to, "en")) != overlapping) std::abort();
  if (to - from > 0 && paragraphs(ams::text::write_ttml(*vtt, 0, all, text.substr(0, 8))) !=
                           static_cast<int>(vtt->cues.size())) {
    std::abort();
  }
  return 0;
}
