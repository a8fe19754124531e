#include "manifest/hls_check.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ams::manifest {
namespace {

using Attributes = std::map<std::string, std::string, std::less<>>;

Status fail(size_t line, const std::string& what) {
  return invalid_data("hls line " + std::to_string(line) + ": " + what);
}

// RFC 8216 4.2 attribute list; quoted values keep their quotes off.
bool parse_attributes(std::string_view s, Attributes& out) {
  size_t i = 0;
  while (i < s.size()) {
    size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq == i) return false;
    std::string key(s.substr(i, eq - i));
    size_t v = eq + 1;
    std::string value;
    if (v < s.size() && s[v] == '"') {
      size_t close = s.find('"', v + 1);
      if (close == std::string_view::npos) return false;
      value = s.substr(v + 1, close - v - 1);
      i = close + 1;
    } else {
      size_t comma = std::min(s.find(',', v), s.size());
      value = s.substr(v, comma - v);
      i = comma;
    }
    if (!out.emplace(key, value).second) return false;  // a repeated attribute
    if (i < s.size()) {
      if (s[i] != ',') return false;
      ++i;
    }
  }
  return true;
}

bool parse_int(std::string_view s, int64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && v >= 0;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = std::min(text.find('\n', i), text.size());
    std::string_view line = text.substr(i, nl - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    i = nl + 1;
  }
  return lines;
}

constexpr std::string_view kSingleUse[] = {
    "#EXT-X-VERSION",
    "#EXT-X-TARGETDURATION",
    "#EXT-X-MEDIA-SEQUENCE",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-ENDLIST",
    "#EXT-X-I-FRAMES-ONLY",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-START",
};
constexpr std::string_view kMasterTags[] = {"#EXT-X-STREAM-INF", "#EXT-X-I-FRAME-STREAM-INF",
                                            "#EXT-X-MEDIA", "#EXT-X-SESSION-DATA",
                                            "#EXT-X-SESSION-KEY"};
constexpr std::string_view kMediaTags[] = {
    "#EXTINF",        "#EXT-X-TARGETDURATION", "#EXT-X-MAP",           "#EXT-X-BYTERANGE",
    "#EXT-X-ENDLIST", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-I-FRAMES-ONLY", "#EXT-X-PLAYLIST-TYPE"};

template <size_t N>
bool in(const std::string_view (&set)[N], std::string_view tag) {
  return std::find(std::begin(set), std::end(set), tag) != std::end(set);
}

struct State {
  bool master = false, media = false;
  int64_t version = 1, required_version = 1;
  size_t required_by_line = 0;
  std::string required_by;
  bool allow_cache = false, i_frames_only = false, has_map = false, endlist = false, vod = false;
  int64_t target = -1;
  size_t target_line = 0;
  double longest_extinf = 0;
  size_t longest_line = 0;
  bool segment_seen = false;
  bool expect_uri = false;  // after EXTINF or EXT-X-STREAM-INF
  std::set<std::string, std::less<>> seen_single;
  std::set<std::string, std::less<>> audio_groups, referenced_groups, default_groups;
  std::set<std::string, std::less<>> subtitle_groups, referenced_subtitles;
  std::set<std::string, std::less<>> caption_groups, referenced_captions;
};

void require(State& st, int64_t version, size_t line, std::string_view why) {
  if (version > st.required_version) {
    st.required_version = version;
    st.required_by_line = line;
    st.required_by = why;
  }
}

Status check_tag(State& st, size_t n, std::string_view tag, std::string_view value) {
  if (in(kSingleUse, tag) && !st.seen_single.emplace(tag).second) {
    return fail(n, std::string(tag) + " appears twice");
  }
  if (in(kMasterTags, tag)) st.master = true;
  if (in(kMediaTags, tag)) st.media = true;
  if (st.master && st.media) return fail(n, "master and media playlist tags mixed");
  if (st.expect_uri && tag != "#EXT-X-BYTERANGE" && tag != "#EXT-X-DISCONTINUITY" &&
      tag != "#EXT-X-PROGRAM-DATE-TIME" && tag != "#EXT-X-KEY") {
    return fail(n, std::string(tag) + " where a URI line is due");
  }
  Attributes attrs;
  if (tag == "#EXT-X-VERSION") {
    if (!parse_int(value, st.version)) return fail(n, "bad EXT-X-VERSION");
  } else if (tag == "#EXT-X-TARGETDURATION") {
    if (!parse_int(value, st.target)) return fail(n, "bad EXT-X-TARGETDURATION");
    st.target_line = n;
  } else if (tag == "#EXT-X-MEDIA-SEQUENCE") {
    int64_t seq = 0;
    if (!parse_int(value, seq)) return fail(n, "bad EXT-X-MEDIA-SEQUENCE");
    if (st.segment_seen) return fail(n, "EXT-X-MEDIA-SEQUENCE after the first segment");
  } else if (tag == "#EXT-X-PLAYLIST-TYPE") {
    if (value != "VOD" && value != "EVENT") return fail(n, "bad EXT-X-PLAYLIST-TYPE");
    st.vod = value == "VOD";
  } else if (tag == "#EXT-X-ENDLIST") {
    st.endlist = true;
  } else if (tag == "#EXT-X-ALLOW-CACHE") {
    st.allow_cache = true;
  } else if (tag == "#EXT-X-I-FRAMES-ONLY") {
    st.i_frames_only = true;
    require(st, 4, n, "EXT-X-I-FRAMES-ONLY");
  } else if (tag == "#EXT-X-BYTERANGE") {
    require(st, 4, n, "EXT-X-BYTERANGE");
  } else if (tag == "#EXT-X-MAP") {
    st.has_map = true;
    if (!parse_attributes(value, attrs) || !attrs.count("URI")) return fail(n, "EXT-X-MAP URI");
  } else if (tag == "#EXTINF") {
    std::string_view d = value.substr(0, value.find(','));
    if (value.find(',') == std::string_view::npos) return fail(n, "EXTINF without a comma");
    double seconds = std::strtod(std::string(d).c_str(), nullptr);
    if (!(seconds > 0)) return fail(n, "EXTINF duration not positive");
    if (d.find('.') != std::string_view::npos) require(st, 3, n, "a fractional EXTINF");
    if (seconds > st.longest_extinf) st.longest_extinf = seconds, st.longest_line = n;
    st.segment_seen = st.expect_uri = true;
  } else if (tag == "#EXT-X-STREAM-INF" || tag == "#EXT-X-I-FRAME-STREAM-INF") {
    if (!parse_attributes(value, attrs)) return fail(n, "bad attribute list");
    if (!attrs.count("BANDWIDTH")) return fail(n, std::string(tag) + " without BANDWIDTH");
    int64_t bw = 0;
    if (!parse_int(attrs.find("BANDWIDTH")->second, bw) || bw == 0) return fail(n, "BANDWIDTH");
    if (auto a = attrs.find("AUDIO"); a != attrs.end()) st.referenced_groups.insert(a->second);
    if (auto t = attrs.find("SUBTITLES"); t != attrs.end()) {
      if (tag != "#EXT-X-STREAM-INF") return fail(n, "SUBTITLES on an I-frame stream");
      st.referenced_subtitles.insert(t->second);
    }
    // RFC 8216 4.3.4.2: CLOSED-CAPTIONS is a quoted group id or the enumerated NONE.
    if (auto c = attrs.find("CLOSED-CAPTIONS"); c != attrs.end()) {
      if (tag != "#EXT-X-STREAM-INF") return fail(n, "CLOSED-CAPTIONS on an I-frame stream");
      if (value.find("CLOSED-CAPTIONS=NONE") == std::string_view::npos) {
        st.referenced_captions.insert(c->second);
      }
    }
    if (tag == "#EXT-X-STREAM-INF") {
      st.expect_uri = true;
    } else if (!attrs.count("URI")) {
      return fail(n, "EXT-X-I-FRAME-STREAM-INF without URI");
    }
  } else if (tag == "#EXT-X-MEDIA") {
    if (!parse_attributes(value, attrs)) return fail(n, "bad attribute list");
    for (const char* key : {"TYPE", "GROUP-ID", "NAME"}) {
      if (!attrs.count(key)) return fail(n, std::string("EXT-X-MEDIA without ") + key);
    }
    const std::string& group = attrs.find("GROUP-ID")->second;
    if (attrs.find("TYPE")->second == "AUDIO") st.audio_groups.insert(group);
    if (attrs.find("TYPE")->second == "SUBTITLES") {
      // RFC 8216 4.3.4.1: a SUBTITLES rendition has a URI; FORCED is for SUBTITLES only.
      if (!attrs.count("URI")) return fail(n, "a SUBTITLES rendition without URI");
      st.subtitle_groups.insert(group);
    } else if (attrs.count("FORCED")) {
      return fail(n, "FORCED on a rendition that is not SUBTITLES");
    }
    if (attrs.find("TYPE")->second == "CLOSED-CAPTIONS") {
      // 4.3.4.1: INSTREAM-ID (CC1..CC4, SERVICE1..63) is required, URI is not allowed.
      auto id = attrs.find("INSTREAM-ID");
      if (id == attrs.end()) return fail(n, "a CLOSED-CAPTIONS rendition without INSTREAM-ID");
      const std::string& v = id->second;
      const bool cc = v.size() == 3 && v.compare(0, 2, "CC") == 0 && v[2] >= '1' && v[2] <= '4';
      if (!cc && v.compare(0, 7, "SERVICE") != 0) return fail(n, "bad INSTREAM-ID " + v);
      if (attrs.count("URI")) return fail(n, "a CLOSED-CAPTIONS rendition with a URI");
      st.caption_groups.insert(group);
    } else if (attrs.count("INSTREAM-ID")) {
      return fail(n, "INSTREAM-ID on a rendition that is not CLOSED-CAPTIONS");
    }
    auto def = attrs.find("DEFAULT");
    if (def != attrs.end() && def->second == "YES" && !st.default_groups.insert(group).second) {
      return fail(n, "two DEFAULT=YES renditions in group " + group);
    }
  }
  return Status::ok();
}

Status finish(State& st, size_t last_line) {
  if (st.expect_uri) return fail(last_line, "the playlist ends where a URI line is due");
  if (st.has_map) require(st, st.i_frames_only ? 5 : 6, 0, "EXT-X-MAP");
  if (st.version < st.required_version) {
    return fail(st.required_by_line, st.required_by + " needs EXT-X-VERSION " +
                                         std::to_string(st.required_version) + ", found " +
                                         std::to_string(st.version));
  }
  if (st.allow_cache && st.version >= 7) return fail(0, "EXT-X-ALLOW-CACHE is gone in version 7");
  if (st.master) {
    for (const std::string& g : st.referenced_groups) {
      if (!st.audio_groups.count(g)) return fail(0, "AUDIO group " + g + " is not defined");
    }
    for (const std::string& g : st.referenced_subtitles) {
      if (!st.subtitle_groups.count(g)) return fail(0, "SUBTITLES group " + g + " is not defined");
    }
    for (const std::string& g : st.referenced_captions) {
      if (!st.caption_groups.count(g)) {
        return fail(0, "CLOSED-CAPTIONS group " + g + " is not defined");
      }
    }
    return Status::ok();
  }
  if (st.target < 0) return fail(0, "no EXT-X-TARGETDURATION");
  if (std::llround(st.longest_extinf) > st.target) {
    return fail(st.longest_line,
                "EXTINF rounds above EXT-X-TARGETDURATION " + std::to_string(st.target));
  }
  if (st.vod && !st.endlist) return fail(last_line, "a VOD playlist without EXT-X-ENDLIST");
  return Status::ok();
}

}  // namespace

Status check_hls_playlist(std::string_view text) {
  std::vector<std::string_view> lines = split_lines(text);
  if (lines.empty() || lines[0] != "#EXTM3U") return fail(1, "the first line is not #EXTM3U");
  State st;
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t n = i + 1;
    std::string_view line = lines[i];
    if (line.empty()) continue;
    if (line.starts_with("#EXT")) {
      size_t colon = line.find(':');
      std::string_view tag = line.substr(0, colon);
      std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
      AMS_RETURN_IF_ERROR(check_tag(st, n, tag, value));
    } else if (line[0] == '#') {
      continue;  // a comment
    } else {
      if (!st.expect_uri) return fail(n, "a URI line without EXTINF or EXT-X-STREAM-INF");
      if (line.find_first_of(" \t") != std::string_view::npos) return fail(n, "space in URI");
      st.expect_uri = false;
    }
  }
  return finish(st, lines.size());
}

}  // namespace ams::manifest
