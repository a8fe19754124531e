#include "filter/filter.h"

#include <glib.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/language.h"
#include "base/time.h"

namespace ams::filter {
namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(g_ascii_tolower(c));
  return out;
}

// The primary language subtag of a tag ("en-US" -> "en", "eng" -> "eng"), lower case.
std::string primary_language(std::string_view tag) {
  return lower(tag.substr(0, tag.find_first_of("-_")));
}

// Whether two language codes name one language: the same primary subtag once each is in its
// ISO 639-1 form where it has one (base/language.h: "en" = "eng", "fr" = "fra" = "fre").
bool same_language(std::string_view a, std::string_view b) {
  return iso639_1_of(primary_language(a)) == iso639_1_of(primary_language(b));
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

struct Named {
  const char* name;
  int value;
};
constexpr Named kProperties[] = {{"Type", static_cast<int>(Property::kType)},
                                 {"Name", static_cast<int>(Property::kName)},
                                 {"Language", static_cast<int>(Property::kLanguage)},
                                 {"FourCC", static_cast<int>(Property::kFourCC)},
                                 {"Bitrate", static_cast<int>(Property::kBitrate)}};
constexpr Named kOperations[] = {{"Equal", static_cast<int>(Operation::kEqual)},
                                 {"NotEqual", static_cast<int>(Operation::kNotEqual)}};

template <size_t N>
std::optional<int> lookup(const Named (&table)[N], std::string_view name) {
  for (const Named& n : table) {
    if (equal_ignoring_case(n.name, name)) return n.value;
  }
  return std::nullopt;
}

Status bad(const std::string& where, const std::string& what) {
  return invalid_argument("filter: " + where + ": " + what);
}

// A JSON integer that fits int64 (AMS sends the long properties as numbers; a string of digits
// is taken too, as the SDKs' long may be written as one).
Result<int64_t> integer(const json& v, const std::string& where) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()})
      return bad(where, "too large");
    return v.get<int64_t>();
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    gint64 out = 0;
    if (g_ascii_string_to_signed(s.c_str(), 10, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max(), &out, nullptr)) {
      return int64_t{out};
    }
  }
  return bad(where, "not an integer");
}

// Keys compared as AMS's JSON deserializer does: without regard to case.
std::optional<std::string> canonical_key(std::string_view key,
                                         std::initializer_list<const char*> known) {
  for (const char* k : known) {
    if (equal_ignoring_case(k, key)) return std::string(k);
  }
  return std::nullopt;
}

Result<uint64_t> bitrate_number(std::string_view text, const std::string& where) {
  guint64 out = 0;
  const std::string s(text);
  if (s.empty() || !g_ascii_string_to_unsigned(s.c_str(), 10, 0, UINT32_MAX, &out, nullptr)) {
    return bad(where,
               "a bitrate is bits/s (\"1500000\") or a range (\"0-1500000\"), not \"" + s + "\"");
  }
  return uint64_t{out};
}

Result<Condition> parse_condition(const json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "not an object");
  Condition c;
  bool has_property = false, has_operation = false, has_value = false;
  for (const auto& [key, v] : j.items()) {
    auto k = canonical_key(key, {"property", "operation", "value"});
    if (!k) return bad(where, "unknown property \"" + key + "\"");
    if (!v.is_string()) return bad(where + "." + *k, "not a string");
    const std::string& text = v.get_ref<const std::string&>();
    if (*k == "property") {
      auto p = lookup(kProperties, text);
      if (!p)
        return bad(where + ".property",
                   "\"" + text + "\" is none of Type, Name, Language, FourCC, Bitrate");
      c.property = static_cast<Property>(*p);
      has_property = true;
    } else if (*k == "operation") {
      auto o = lookup(kOperations, text);
      if (!o) return bad(where + ".operation", "\"" + text + "\" is neither Equal nor NotEqual");
      c.operation = static_cast<Operation>(*o);
      has_operation = true;
    } else {
      c.value = text;
      has_value = true;
    }
  }
  if (!has_property || !has_operation || !has_value) {
    return bad(where, "a condition has a property, an operation and a value");
  }
  if (c.value.empty() || c.value.size() > 256) return bad(where + ".value", "1 to 256 characters");
  if (c.property == Property::kType) {
    const std::string t = lower(c.value);
    if (t != "video" && t != "audio" && t != "text") {
      return bad(where + ".value", "a Type is Video, Audio or Text, not \"" + c.value + "\"");
    }
  }
  if (c.property == Property::kBitrate) {
    const size_t dash = c.value.find('-');
    const std::string_view low = std::string_view(c.value).substr(0, dash);
    if (dash == std::string::npos || !low.empty()) {
      AMS_ASSIGN_OR_RETURN(c.min_bitrate, bitrate_number(low, where + ".value"));
    }
    c.max_bitrate = dash == std::string::npos ? c.min_bitrate : UINT32_MAX;
    const std::string_view high =
        dash == std::string::npos ? std::string_view() : std::string_view(c.value).substr(dash + 1);
    if (!high.empty()) {
      AMS_ASSIGN_OR_RETURN(c.max_bitrate, bitrate_number(high, where + ".value"));
    }
    if (dash != std::string::npos && low.empty() && high.empty()) {
      return bad(where + ".value", "the range \"-\" has no end");
    }
    if (c.min_bitrate > c.max_bitrate) {
      return bad(where + ".value", "the range " + c.value + " ends before it starts");
    }
  }
  return c;
}

Result<TimeRange> parse_range(const json& j) {
  if (!j.is_object()) return bad("presentationTimeRange", "not an object");
  TimeRange r;
  for (const auto& [key, v] : j.items()) {
    auto k = canonical_key(key, {"startTimestamp", "endTimestamp", "presentationWindowDuration",
                                 "liveBackoffDuration", "timescale", "forceEndTimestamp"});
    if (!k) return bad("presentationTimeRange", "unknown property \"" + key + "\"");
    const std::string where = "presentationTimeRange." + *k;
    if (v.is_null()) continue;
    if (*k == "forceEndTimestamp") {
      if (!v.is_boolean()) return bad(where, "not true or false");
      r.force_end = v.get<bool>();
      continue;
    }
    AMS_ASSIGN_OR_RETURN(int64_t n, integer(v, where));
    if (n < 0) return bad(where, "negative");
    if (*k == "startTimestamp") r.start = n;
    if (*k == "endTimestamp") r.end = n;
    if (*k == "presentationWindowDuration") r.presentation_window = n;
    if (*k == "liveBackoffDuration") r.live_backoff = n;
    if (*k == "timescale") {
      if (n == 0) return bad(where, "0 ticks per second");
      r.timescale = n;
    }
  }
  if (r.start && r.end && *r.start >= *r.end) {
    return bad("presentationTimeRange", "startTimestamp " + std::to_string(*r.start) +
                                            " is not before endTimestamp " +
                                            std::to_string(*r.end));
  }
  return r;
}

// AMS's "no end" and "whole window" values: the largest long, and the one the REST reference's
// examples print (9223372036854774806), which SDKs send back.
bool is_unbounded(int64_t v) {
  return v >= 9223372036854774806;
}

// A time of `range` on the 10 MHz manifest timescale, saturating.
int64_t to_10mhz(int64_t ticks, int64_t timescale) {
  if (is_unbounded(ticks)) return std::numeric_limits<int64_t>::max();
  return rescale(ticks, static_cast<uint64_t>(timescale), kManifestTimescale);
}

bool type_is(const model::Track& t, std::string_view name) {
  return equal_ignoring_case(model::track_type_name(t.type), name);
}

// Fragments of `t` whose start lies in [from, to) on the 10 MHz timeline.
std::vector<model::Fragment> fragments_in(const model::Track& t, int64_t from, int64_t to,
                                          size_t* base) {
  std::vector<model::Fragment> out;
  *base = 0;
  for (size_t i = 0; i < t.fragments.size(); ++i) {
    const int64_t s = t.fragment_start_10mhz(i);
    if (s < from) {
      *base = i + 1;
      continue;
    }
    if (s >= to) break;
    out.push_back(t.fragments[i]);
  }
  return out;
}

// An audio fragment starts at the first audio sample at or after its video boundary, so the first
// one kept can start up to a frame after the video does: a hole at the start of the filtered
// presentation (hls.js 1.7 skips it with a bufferSeekOverHole error). The first fragment is given
// the samples of the one before it that are still presenting at the window start, so the audio
// covers the video's first instant; HLS players trim the lead before 0 (ApplyOptions). Every
// audio sample is a random access point, so the fragment still decodes.
// `t` holds the unfiltered track's fragments from index `base` on; its samples are the file's.
void lead_in(model::Track& t, size_t base, int64_t window_start) {
  if (base == 0 || t.fragments.empty()) return;
  const std::vector<model::Sample>& samples = t.samples();
  model::Fragment& first = t.fragments.front();
  if (first.first_sample > samples.size()) return;
  const int64_t from = rescale(window_start, kManifestTimescale, t.timescale);
  uint32_t lead = first.first_sample;
  while (lead > 0 && samples[lead - 1].pts() + samples[lead - 1].duration > from &&
         samples[lead - 1].pts() < first.start) {
    --lead;
  }
  if (lead == first.first_sample) return;
  const int64_t start = samples[lead].pts();
  first.sample_count += first.first_sample - lead;
  first.first_sample = lead;
  first.duration += first.start - start;
  first.start = start;
}

std::atomic<uint64_t> g_filtered_ids{uint64_t{1} << 62};

}  // namespace

const char* property_name(Property p) {
  for (const Named& n : kProperties) {
    if (n.value == static_cast<int>(p)) return n.name;
  }
  return "";
}

const char* operation_name(Operation o) {
  return o == Operation::kEqual ? "Equal" : "NotEqual";
}

Status check_name(std::string_view name) {
  if (name.empty() || name.size() > 260)
    return invalid_argument("a filter name has 1 to 260 characters");
  for (char c : name) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != '~') {
      return invalid_argument(
          "a filter name holds letters, digits, '-', '_', '.' and '~' only: \"" +
          std::string(name) + "\"");
    }
  }
  return Status::ok();
}

Result<Filter> parse(std::string_view text) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid_argument("filter: not JSON");
  if (!root.is_object()) return invalid_argument("filter: not a JSON object");
  // The REST body wraps the properties; the other top-level keys ARM sends back are allowed.
  const json* props = &root;
  for (const auto& [key, v] : root.items()) {
    if (equal_ignoring_case(key, "properties")) props = &v;
  }
  if (props != &root) {
    for (const auto& [key, v] : root.items()) {
      if (!canonical_key(key, {"properties", "name", "id", "type", "systemData"})) {
        return bad("the filter", "unknown property \"" + key + "\"");
      }
    }
  }
  if (!props->is_object()) return bad("properties", "not an object");
  Filter f;
  for (const auto& [key, v] : props->items()) {
    auto k = canonical_key(key, {"presentationTimeRange", "firstQuality", "tracks"});
    if (!k) return bad("properties", "unknown property \"" + key + "\"");
    if (v.is_null()) continue;
    if (*k == "presentationTimeRange") {
      AMS_ASSIGN_OR_RETURN(f.range, parse_range(v));
    } else if (*k == "firstQuality") {
      if (!v.is_object()) return bad("firstQuality", "not an object");
      for (const auto& [fk, fv] : v.items()) {
        if (!equal_ignoring_case(fk, "bitrate"))
          return bad("firstQuality", "unknown property \"" + fk + "\"");
        AMS_ASSIGN_OR_RETURN(int64_t b, integer(fv, "firstQuality.bitrate"));
        if (b <= 0 || b > int64_t{UINT32_MAX}) return bad("firstQuality.bitrate", "not a bitrate");
        f.first_quality = static_cast<uint32_t>(b);
      }
      if (!f.first_quality) return bad("firstQuality", "no bitrate");
    } else {
      if (!v.is_array()) return bad("tracks", "not an array");
      if (v.size() > 64) return bad("tracks", "more than 64 selections");
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string where = "tracks[" + std::to_string(i) + "]";
        const json& sel = v[i];
        if (!sel.is_object()) return bad(where, "not an object");
        TrackSelection s;
        for (const auto& [sk, sv] : sel.items()) {
          if (!equal_ignoring_case(sk, "trackSelections"))
            return bad(where, "unknown property \"" + sk + "\"");
          if (!sv.is_array()) return bad(where + ".trackSelections", "not an array");
          if (sv.size() > 64) return bad(where + ".trackSelections", "more than 64 conditions");
          for (size_t c = 0; c < sv.size(); ++c) {
            AMS_ASSIGN_OR_RETURN(
                Condition cond,
                parse_condition(sv[c], where + ".trackSelections[" + std::to_string(c) + "]"));
            s.conditions.push_back(std::move(cond));
          }
        }
        if (s.conditions.empty()) return bad(where, "a selection without a condition");
        f.tracks.push_back(std::move(s));
      }
    }
  }
  return f;
}

std::string to_json(const Filter& f) {
  json props = json::object();
  if (f.range) {
    const TimeRange& r = *f.range;
    constexpr int64_t kUnbounded = 9223372036854775807;
    props["presentationTimeRange"] = {
        {"startTimestamp", r.start.value_or(0)},
        {"endTimestamp", r.end.value_or(kUnbounded)},
        {"presentationWindowDuration", r.presentation_window.value_or(kUnbounded)},
        {"liveBackoffDuration", r.live_backoff.value_or(0)},
        {"timescale", r.timescale},
        {"forceEndTimestamp", r.force_end}};
  }
  if (f.first_quality) props["firstQuality"] = {{"bitrate", *f.first_quality}};
  if (!f.tracks.empty()) {
    json tracks = json::array();
    for (const TrackSelection& s : f.tracks) {
      json conditions = json::array();
      for (const Condition& c : s.conditions) {
        conditions.push_back({{"property", property_name(c.property)},
                              {"operation", operation_name(c.operation)},
                              {"value", c.value}});
      }
      tracks.push_back({{"trackSelections", conditions}});
    }
    props["tracks"] = tracks;
  }
  return props.dump();
}

bool holds(const Condition& c, const model::Track& t) {
  bool equal = false;
  switch (c.property) {
    case Property::kType:
      equal = type_is(t, c.value);
      break;
    case Property::kName:
      equal = equal_ignoring_case(t.name, c.value);
      break;
    case Property::kLanguage:
      equal = t.type != model::TrackType::kVideo && same_language(t.language, c.value);
      break;
    case Property::kFourCC:
      equal = equal_ignoring_case(t.fourcc, c.value);
      break;
    case Property::kBitrate:
      equal = t.bitrate >= c.min_bitrate && t.bitrate <= c.max_bitrate;
      break;
  }
  return c.operation == Operation::kEqual ? equal : !equal;
}

bool selects(const Filter& f, const model::Track& t) {
  if (f.tracks.empty()) return true;
  for (const TrackSelection& s : f.tracks) {
    if (std::all_of(s.conditions.begin(), s.conditions.end(),
                    [&](const Condition& c) { return holds(c, t); })) {
      return true;
    }
  }
  return false;
}

Result<std::shared_ptr<const model::Presentation>> apply(const model::Presentation& p,
                                                         const std::vector<Filter>& filters,
                                                         Refusal* why, ApplyOptions options) {
  auto refuse = [why](Refusal r, const char* message) {
    if (why != nullptr) *why = r;
    return invalid_argument(message);
  };
  if (std::count_if(filters.begin(), filters.end(),
                    [](const Filter& f) { return f.first_quality.has_value(); }) > 1) {
    return refuse(Refusal::kMultipleFirstQuality,
                  "more than one of the filters names a first quality");
  }
  auto out = std::make_shared<model::Presentation>(p);
  out->id = g_filtered_ids++;
  out->source_id = p.source_id;
  out->tracks.clear();
  for (const model::Track& t : p.tracks) {
    if (std::all_of(filters.begin(), filters.end(), [&](const Filter& f) { return selects(f, t); }))
      out->tracks.push_back(t);
  }
  const bool media_left =
      std::any_of(out->tracks.begin(), out->tracks.end(),
                  [](const model::Track& t) { return t.type != model::TrackType::kText; });
  if (!media_left)
    return refuse(Refusal::kRemovedAllStreams, "the filters leave no video or audio track");

  // The time range: the intersection of every filter's, on the 10 MHz timeline.
  int64_t from = 0;
  int64_t to = std::numeric_limits<int64_t>::max();
  bool ranged = false;
  for (const Filter& f : filters) {
    if (!f.range) continue;
    if (f.range->start) from = std::max(from, to_10mhz(*f.range->start, f.range->timescale));
    if (f.range->end) to = std::min(to, to_10mhz(*f.range->end, f.range->timescale));
    ranged = ranged || f.range->start || f.range->end;
  }
  if (ranged) {
    if (from >= to) return refuse(Refusal::kRangeInvalid, "the filters' time ranges do not meet");
    // Rounded out to the fragments of the reference track (the first video track of the
    // unfiltered presentation, else its first audio track), so that every track cuts at the
    // same boundaries: its first fragment the one holding `from`, its last the one holding the
    // instant before `to`.
    const model::Track* ref = nullptr;
    for (model::TrackType type : {model::TrackType::kVideo, model::TrackType::kAudio}) {
      for (const model::Track& t : p.tracks) {
        if (ref == nullptr && t.type == type && !t.fragments.empty()) ref = &t;
      }
    }
    if (ref == nullptr)
      return refuse(Refusal::kRangeInvalid, "the presentation has no fragment to trim");
    std::optional<int64_t> window_start, window_end;
    for (size_t i = 0; i < ref->fragments.size(); ++i) {
      const int64_t s = ref->fragment_start_10mhz(i);
      const int64_t e = rescale(ref->fragments[i].start + ref->fragments[i].duration,
                                ref->timescale, kManifestTimescale);
      if (e <= from || s >= to) continue;
      if (!window_start) window_start = s;
      window_end = e;
    }
    if (!window_start)
      return refuse(Refusal::kRangeInvalid, "the filters' time range holds no fragment");
    // An audio fragment starts at the first audio sample at or after its video boundary, so a
    // track's fragments are those starting in [window start, window end).
    int64_t longest = 0;
    for (model::Track& t : out->tracks) {
      if (t.type == model::TrackType::kText) continue;
      size_t base = 0;
      t.fragments = fragments_in(t, *window_start, *window_end, &base);
      t.fragment_base = base;
      if (options.audio_lead_in && t.type == model::TrackType::kAudio)
        lead_in(t, base, *window_start);
      t.duration = 0;
      for (const model::Fragment& fr : t.fragments) t.duration += fr.duration;
      if (!t.fragments.empty()) {
        const model::Fragment& last = t.fragments.back();
        longest =
            std::max(longest, rescale(last.start + last.duration, t.timescale, kManifestTimescale) -
                                  *window_start);
      }
    }
    out->start_10mhz = *window_start;
    out->duration_10mhz = longest;
    // A track left without a fragment in the window is dropped (an audio track that ends early).
    std::erase_if(out->tracks, [](const model::Track& t) {
      return t.type != model::TrackType::kText && t.fragments.empty();
    });
  }

  // The first quality: the video track of that bitrate, else the nearest; the manifests list
  // it first (manifest/timeline.h listing_order).
  for (const Filter& f : filters) {
    if (!f.first_quality) continue;
    const model::Track* best = nullptr;
    auto distance = [&](const model::Track& t) {
      return t.bitrate > *f.first_quality ? t.bitrate - *f.first_quality
                                          : *f.first_quality - t.bitrate;
    };
    for (const model::Track& t : out->tracks) {
      if (t.type == model::TrackType::kVideo && (best == nullptr || distance(t) < distance(*best)))
        best = &t;
    }
    if (best != nullptr) out->first_quality = best->bitrate;
  }
  return std::shared_ptr<const model::Presentation>(std::move(out));
}

}  // namespace ams::filter
