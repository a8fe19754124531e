#include "text/ttml.h"

#include <algorithm>
#include <vector>

#include "base/xml.h"

namespace ams::text {
namespace {

enum class Span { kNone, kBold, kItalic, kUnderline };

// The tag's name: up to the first '.', space, tab or line end ("c.yellow" -> "c", "v Bob" -> "v").
std::string_view tag_name(std::string_view tag) {
  size_t end = tag.find_first_of(". \t\n");
  return tag.substr(0, end);
}

Span span_of(std::string_view name) {
  if (name == "b") return Span::kBold;
  if (name == "i") return Span::kItalic;
  if (name == "u") return Span::kUnderline;
  return Span::kNone;
}

const char* span_open(Span s) {
  switch (s) {
    case Span::kBold:
      return "<span tts:fontWeight=\"bold\">";
    case Span::kItalic:
      return "<span tts:fontStyle=\"italic\">";
    case Span::kUnderline:
      return "<span tts:textDecoration=\"underline\">";
    case Span::kNone:
      break;
  }
  return "";
}

// WebVTT's character references (the named ones it defines, and numeric ones) appended to `out`
// as UTF-8; false when `ref` (without & and ;) is none of them.
bool decode_reference(std::string_view ref, std::string& out) {
  static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
      {"amp", "&"},
      {"lt", "<"},
      {"gt", ">"},
      {"quot", "\""},
      {"apos", "'"},
      {"nbsp", "\xC2\xA0"},
      {"lrm", "\xE2\x80\x8E"},
      {"rlm", "\xE2\x80\x8F"},
  };
  for (const auto& [name, value] : kNamed) {
    if (ref == name) {
      out += value;
      return true;
    }
  }
  if (ref.size() < 2 || ref[0] != '#' || ref.size() > 9) return false;
  uint32_t cp = 0;
  const bool hex = ref[1] == 'x' || ref[1] == 'X';
  std::string_view digits = ref.substr(hex ? 2 : 1);
  if (digits.empty()) return false;
  for (char c : digits) {
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (hex && c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (hex && c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    cp = cp * (hex ? 16 : 10) + d;
    if (cp > 0x10FFFF) return false;
  }
  // Only what XML 1.0 may hold as a character (no NUL, no C0 control but tab, no surrogate).
  if ((cp < 0x20 && cp != 0x09) || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) {
    return false;
  }
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return true;
}

// XML 1.0 holds no C0 control character but tab and line ends: those of a cue's text are dropped.
void append_text(std::string& out, std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') clean += c;
  }
  append_xml_escaped(out, clean);
}

// A cue's text (WebVTT cue text: tags, character references, lines) as TTML inline content.
std::string inline_content(std::string_view text) {
  std::string out;
  std::vector<std::pair<std::string, Span>> open;  // WebVTT's open tags, innermost last
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '<') {
      const size_t close = text.find('>', i + 1);
      if (close == std::string_view::npos) break;  // an unclosed tag ends the text (WebVTT 6.4)
      std::string_view tag = text.substr(i + 1, close - i - 1);
      i = close + 1;
      if (!tag.empty() && tag[0] == '/') {
        std::string_view name = tag_name(tag.substr(1));
        if (!open.empty() && open.back().first == name) {
          if (open.back().second != Span::kNone) out += "</span>";
          open.pop_back();
        }
      } else if (!tag.empty() && (tag[0] < '0' || tag[0] > '9')) {  // not a timestamp tag
        std::string_view name = tag_name(tag);
        if (open.size() < 64) {
          open.emplace_back(std::string(name), span_of(name));
          out += span_open(open.back().second);
        }
      }
      continue;
    }
    if (c == '&') {
      const size_t semi = text.find(';', i + 1);
      std::string decoded;
      if (semi != std::string_view::npos && semi - i <= 12 &&
          decode_reference(text.substr(i + 1, semi - i - 1), decoded)) {
        append_xml_escaped(out, decoded);
        i = semi + 1;
      } else {
        out += "&amp;";
        ++i;
      }
      continue;
    }
    if (c == '\n') {
      out += "<br/>";
      ++i;
      continue;
    }
    const size_t next = text.find_first_of("<&\n", i);
    const size_t end = next == std::string_view::npos ? text.size() : next;
    append_text(out, text.substr(i, end - i));
    i = end;
  }
  for (auto it = open.rbegin(); it != open.rend(); ++it) {
    if (it->second != Span::kNone) out += "</span>";
  }
  return out;
}

// The value of setting `name` in a cue's settings ("line:0 align:start" -> "0" for "line").
std::string_view setting(std::string_view settings, std::string_view name) {
  size_t at = 0;
  while (at < settings.size()) {
    size_t end = settings.find_first_of(" \t", at);
    if (end == std::string_view::npos) end = settings.size();
    std::string_view item = settings.substr(at, end - at);
    if (item.size() > name.size() && item.substr(0, name.size()) == name &&
        item[name.size()] == ':') {
      return item.substr(name.size() + 1);
    }
    at = end + 1;
  }
  return {};
}

// `line:` in the upper half of the picture: a line number counted from the top (0, 1, ...) or a
// percentage below 50.
bool placed_at_top(std::string_view settings) {
  std::string_view line = setting(settings, "line");
  line = line.substr(0, line.find(','));  // "line:10%,start"
  if (line.empty() || line[0] == '-') return false;
  int64_t value = 0;
  size_t k = 0;
  for (; k < line.size() && line[k] >= '0' && line[k] <= '9' && value < 1000; ++k) {
    value = value * 10 + (line[k] - '0');
  }
  if (k == 0) return false;
  if (k < line.size() && (line[k] == '%' || line[k] == '.')) return value < 50;
  return k == line.size();
}

std::string_view text_align(std::string_view settings) {
  std::string_view align = setting(settings, "align");
  if (align == "start" || align == "left") return "start";
  if (align == "end" || align == "right") return "end";
  return {};
}

}  // namespace

std::string write_ttml(const WebVtt& vtt, int64_t from_ms, int64_t to_ms, std::string_view language,
                       int64_t media_offset_ms) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<tt xmlns=\"http://www.w3.org/ns/ttml\" xmlns:ttp=\"http://www.w3.org/ns/ttml#parameter\" "
      "xmlns:tts=\"http://www.w3.org/ns/ttml#styling\" "
      "ttp:profile=\"http://www.w3.org/ns/ttml/profile/imsc1/text\" xml:lang=\"";
  // A BCP 47 tag has letters, digits and hyphens only: anything else leaves the language empty.
  const bool tag = std::all_of(language.begin(), language.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (tag && language.size() <= 35) out += language;
  out +=
      "\">\n<head>\n<layout>\n"
      "<region xml:id=\"bottom\" tts:origin=\"10% 10%\" tts:extent=\"80% 80%\" "
      "tts:displayAlign=\"after\" tts:textAlign=\"center\"/>\n"
      "<region xml:id=\"top\" tts:origin=\"10% 10%\" tts:extent=\"80% 80%\" "
      "tts:displayAlign=\"before\" tts:textAlign=\"center\"/>\n"
      "</layout>\n</head>\n<body>\n<div>\n";
  for (const Cue& c : vtt.cues) {
    if (c.start_ms >= to_ms || c.end_ms <= from_ms) continue;
    const int64_t begin = std::max(c.start_ms, from_ms) + media_offset_ms;
    const int64_t end = std::min(c.end_ms, to_ms) + media_offset_ms;
    out += "<p begin=\"" + format_timestamp(begin) + "\" end=\"" + format_timestamp(end) +
           "\" region=\"" + (placed_at_top(c.settings) ? "top" : "bottom") + "\"";
    if (std::string_view align = text_align(c.settings); !align.empty()) {
      out += " tts:textAlign=\"" + std::string(align) + "\"";
    }
    out += ">" + inline_content(c.text) + "</p>\n";
  }
  out += "</div>\n</body>\n</tt>\n";
  return out;
}

}  // namespace ams::text
