#include "text/webvtt.h"

#include <cinttypes>
#include <cstdio>

namespace ams::text {
namespace {

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the sequence runs past the end
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// The lines of `s`, split at CRLF, LF or CR (WebVTT's line terminators).
std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\n' && s[i] != '\r') continue;
    out.push_back(s.substr(start, i - start));
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < s.size()) out.push_back(s.substr(start));
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Whether `line` is `word` alone or followed by a space or tab ("NOTE", "NOTE this").
bool starts_block(std::string_view line, std::string_view word) {
  return line.substr(0, word.size()) == word &&
         (line.size() == word.size() || is_space(line[word.size()]));
}

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int64_t number(std::string_view s, size_t at, size_t n) {
  int64_t v = 0;
  for (size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// A WebVTT timestamp at s[*at]: "mm:ss.ttt" or "h+:mm:ss.ttt" (the spec's rules: a first part
// that is not two digits, or above 59, is hours). Advances *at past it.
bool timestamp(std::string_view s, size_t* at, int64_t* ms) {
  size_t i = *at;
  size_t n = 0;
  while (i + n < s.size() && s[i + n] >= '0' && s[i + n] <= '9') ++n;
  if (n == 0 || n > 9) return false;  // 9 digits of hours: 114,000 years, no overflow
  const int64_t first = number(s, i, n);
  const bool hours = n != 2 || first > 59;
  i += n;
  if (i >= s.size() || s[i] != ':' || !digits(s, i + 1, 2)) return false;
  const int64_t second = number(s, i + 1, 2);
  i += 3;
  int64_t h = 0, m = 0, sec = 0;
  if (hours || (i < s.size() && s[i] == ':')) {
    if (i >= s.size() || s[i] != ':' || !digits(s, i + 1, 2)) return false;
    h = first;
    m = second;
    sec = number(s, i + 1, 2);
    i += 3;
  } else {
    m = first;
    sec = second;
  }
  if (m > 59 || sec > 59) return false;
  if (i >= s.size() || s[i] != '.' || !digits(s, i + 1, 3)) return false;
  const int64_t frac = number(s, i + 1, 3);
  i += 4;
  *ms = ((h * 60 + m) * 60 + sec) * 1000 + frac;
  *at = i;
  return true;
}

// "start --> end settings": the cue's timings and its settings. Empty on success, else why not.
std::string timings(std::string_view line, Cue& cue) {
  size_t i = 0;
  while (i < line.size() && is_space(line[i])) ++i;
  if (!timestamp(line, &i, &cue.start_ms)) return "the start time is not a WebVTT timestamp";
  while (i < line.size() && is_space(line[i])) ++i;
  if (line.substr(i, 3) != "-->") return "no \"-->\" after the start time";
  i += 3;
  while (i < line.size() && is_space(line[i])) ++i;
  if (!timestamp(line, &i, &cue.end_ms)) return "the end time is not a WebVTT timestamp";
  if (i < line.size() && !is_space(line[i])) return "text after the end time";
  while (i < line.size() && is_space(line[i])) ++i;
  size_t end = line.size();
  while (end > i && is_space(line[end - 1])) --end;
  cue.settings = std::string(line.substr(i, end - i));
  if (cue.end_ms <= cue.start_ms) return "the end time is not after the start time";
  return "";
}

void problem(WebVtt& vtt, size_t line_number, const std::string& what) {
  if (vtt.problems.size() < kMaxProblemsListed) {
    vtt.problems.push_back("line " + std::to_string(line_number) + ": " + what);
  }
  ++vtt.problem_count;
}

}  // namespace

Result<WebVtt> parse_webvtt(std::string_view bytes) {
  if (bytes.size() > kMaxWebVttBytes) {
    return resource_limit("WebVTT: larger than " + std::to_string(kMaxWebVttBytes) + " bytes");
  }
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  if (!starts_block(bytes.substr(0, bytes.find_first_of("\r\n")), "WEBVTT")) {
    return invalid_data("WebVTT: the file does not start with the WEBVTT signature");
  }
  if (bytes.find('\0') != std::string_view::npos) {
    return invalid_data("WebVTT: a NUL byte: not a text file");
  }
  if (!valid_utf8(bytes)) return invalid_data("WebVTT: not UTF-8 text");

  WebVtt vtt;
  const std::vector<std::string_view> lines = lines_of(bytes);
  size_t i = 1;
  // The header: what follows the signature up to the first blank line.
  while (i < lines.size() && !lines[i].empty()) ++i;
  while (i < lines.size()) {
    if (lines[i].empty()) {
      ++i;
      continue;
    }
    // One block: up to a blank line, or up to a second line holding "-->" (a new cue).
    const size_t first = i;
    size_t timing = SIZE_MAX;
    for (; i < lines.size() && !lines[i].empty(); ++i) {
      if (lines[i].find("-->") == std::string_view::npos) continue;
      if (timing == SIZE_MAX && i - first <= 1) {
        timing = i;
        continue;
      }
      if (i > first) break;
    }
    const size_t end = i;
    if (timing == SIZE_MAX) {
      const std::string_view head = lines[first];
      if (starts_block(head, "NOTE")) continue;
      if (starts_block(head, "STYLE") || starts_block(head, "REGION")) {
        if (!vtt.cues.empty()) {
          problem(vtt, first + 1, std::string(head.substr(0, 6)) + " after the first cue: ignored");
          continue;
        }
        std::string block;
        for (size_t k = first; k < end; ++k)
          block += (k > first ? "\n" : "") + std::string(lines[k]);
        vtt.header_blocks.push_back(std::move(block));
        continue;
      }
      problem(vtt, first + 1, "a block without a cue timing line: skipped");
      continue;
    }
    Cue cue;
    if (timing > first) cue.id = std::string(lines[first]);
    const std::string why = timings(lines[timing], cue);
    if (!why.empty()) {
      problem(vtt, timing + 1, why + ": cue skipped");
      continue;
    }
    for (size_t k = timing + 1; k < end; ++k) {
      if (k > timing + 1) cue.text += '\n';
      cue.text += lines[k];
    }
    vtt.cues.push_back(std::move(cue));
  }
  return vtt;
}

std::string format_timestamp(int64_t ms) {
  if (ms < 0) ms = 0;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
                ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  return buf;
}

std::string write_segment(const WebVtt& vtt, int64_t from_ms, int64_t to_ms,
                          int64_t media_offset_ms) {
  std::string out = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:" + std::to_string(media_offset_ms * 90) +
                    ",LOCAL:" + format_timestamp(media_offset_ms) + "\n\n";
  for (const std::string& block : vtt.header_blocks) out += block + "\n\n";
  for (const Cue& c : vtt.cues) {
    if (c.start_ms >= to_ms || c.end_ms <= from_ms) continue;
    if (!c.id.empty()) out += c.id + "\n";
    out += format_timestamp(c.start_ms + media_offset_ms) + " --> " +
           format_timestamp(c.end_ms + media_offset_ms);
    if (!c.settings.empty()) out += " " + c.settings;
    out += "\n";
    if (!c.text.empty()) out += c.text + "\n";
    out += "\n";
  }
  return out;
}

}  // namespace ams::text
