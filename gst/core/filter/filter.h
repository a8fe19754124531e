// Dynamic filters (AMS "asset filters" and "account filters", docs/filters.md): a time range, a
// track selection and a first quality, as AMS's JSON gives them, and what they make of a
// presentation. Pure: no store, no HTTP. The server resolves the names of a request (the
// locator's filters, then the URL's) and applies the filters with apply().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/presentation.h"

namespace ams::filter {

// FilterTrackPropertyType and FilterTrackPropertyCompareOperation of the REST reference.
enum class Property { kType, kName, kLanguage, kFourCC, kBitrate };
enum class Operation { kEqual, kNotEqual };

const char* property_name(Property p);    // "Type", "Name", "Language", "FourCC", "Bitrate"
const char* operation_name(Operation o);  // "Equal", "NotEqual"

// One FilterTrackPropertyCondition.
struct Condition {
  Property property = Property::kType;
  Operation operation = Operation::kEqual;
  std::string value;  // as given
  // kBitrate: the bits/s range the value names ("1500000": both ends equal; "0-1500000"; an
  // empty side is open, "128000-", as AMS's SDK reads it), inclusive at both ends.
  uint64_t min_bitrate = 0;
  uint64_t max_bitrate = 0;

  bool operator==(const Condition&) const = default;
};

// One FilterTrackSelection: a track is selected when every condition holds.
struct TrackSelection {
  std::vector<Condition> conditions;
  bool operator==(const TrackSelection&) const = default;
};

// PresentationTimeRange. Times in ticks of `timescale`, on the asset's own timeline (the
// manifests' fragment times: 0 at the presentation's start).
struct TimeRange {
  std::optional<int64_t> start;
  std::optional<int64_t> end;
  std::optional<int64_t> presentation_window;  // live only: ignored for VOD (docs/filters.md)
  std::optional<int64_t> live_backoff;         // live only: ignored for VOD
  bool force_end = false;                      // live only: ignored for VOD
  int64_t timescale = 10000000;

  bool operator==(const TimeRange&) const = default;
};

struct Filter {
  std::optional<TimeRange> range;
  std::vector<TrackSelection> tracks;     // a track any of them selects is kept; none: all
  std::optional<uint32_t> first_quality;  // bits/s of the video rendition listed first

  bool operator==(const Filter&) const = default;
};

// The most filters a URL names (`filter=a;b;c`), and the most a locator applies to every request
// (AMS's "ten maximum allowed default filters").
inline constexpr size_t kMaxUrlFilters = 3;
inline constexpr size_t kMaxLocatorFilters = 10;

// Why apply() refuses a combination, each AMS's own error (the streaming endpoint's error codes
// reference lists them under 415).
enum class Refusal {
  kRemovedAllStreams,     // MPE_FILTER_REMOVED_ALL_STREAMS: no video or audio track left
  kRangeInvalid,          // MPE_FILTER_RANGE_ATTRIBUTE_INVALID: the time range holds no fragment
  kMultipleFirstQuality,  // MPE_FILTER_COMPOSITION_MULTIPLE_FIRST_QUALITY_OPERATOR_NOT_ALLOWED
};

// Whether `name` is a filter name AMS takes: 1 to 260 of letters, digits, '-', '_', '.', '~'
// (names ride in URLs, `filter=a;b`); kInvalidArgument saying why.
Status check_name(std::string_view name);

// Parses a filter from its AMS JSON: the REST body {"properties": {...}} or the properties
// object itself ({"presentationTimeRange": ..., "firstQuality": ..., "tracks": [...]}). Unknown
// properties, wrong types, unknown track properties or operations, a malformed bitrate, a
// timescale of 0, start >= end and negative times are kInvalidArgument, saying where.
Result<Filter> parse(std::string_view json);

// The properties object as AMS returns it (every PresentationTimeRange field present, as AMS
// fills the defaults); parse(to_json(f)) == f up to those defaults.
std::string to_json(const Filter& filter);

// Whether `condition` holds for `track` (docs/filters.md, "Track selection": Type is
// video/audio/text; Name the track name; Language ISO 639-2 or its 639-1 form; FourCC the sample
// entry type; Bitrate the track's bits/s; each comparison ignores case).
bool holds(const Condition& condition, const model::Track& track);
// Whether `filter` keeps `track`: any of its selections holds, or it has none.
bool selects(const Filter& filter, const model::Track& track);

// How apply() trims, where the formats differ.
struct ApplyOptions {
  // The first audio fragment of a trimmed presentation also takes the frames of the one before it
  // still presenting at the window start, so that the audio covers the video's first instant.
  // For HLS, whose players build the timeline from the segments (hls.js 1.7 jumps a start hole
  // with bufferSeekOverHole). Not for DASH, whose presentationTimeOffset cuts at the Period start
  // and whose SegmentTimeline would then start before it (GStreamer 1.22 dashdemux2 asks for a
  // wrapped-around $Time$ on a seek), nor Smooth (docs/filters.md, "Time").
  bool audio_lead_in = false;
};

// The presentation `filters` make of `p`, all of them applied (docs/filters.md, "Combining"):
// a track is kept when every filter selects it; the time ranges intersect, and the fragments
// kept are those of the intersection, rounded out to whole fragments of the first video track
// (the first audio track when there is none); the first quality (Presentation::first_quality) is
// the video bitrate nearest the one filter that names one. The result shares the sample tables,
// keeps absolute fragment times (a URL made from the unfiltered manifest still names the same
// fragment) and records where it starts (Presentation::start_10mhz, Track::fragment_base).
// kInvalidArgument, with `why` set, when no video or audio track is left, the time range holds
// no fragment, or several filters name a first quality.
Result<std::shared_ptr<const model::Presentation>> apply(const model::Presentation& p,
                                                         const std::vector<Filter>& filters,
                                                         Refusal* why = nullptr,
                                                         ApplyOptions options = {});

}  // namespace ams::filter
