// What every manifest writer shares: fragment times in the 10 MHz manifest timescale, computed
// from absolute track times (never summed, so 44.1 kHz or 24000/1001 tracks do not drift), runs of
// equal durations for Smooth `r` and DASH `r`, and tracks grouped the way manifests list them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/presentation.h"

namespace ams::manifest {

struct TimelineEntry {
  int64_t start = 0;     // 10 MHz, the fragment's URL time
  int64_t duration = 0;  // 10 MHz, up to the fragment's end
};
std::vector<TimelineEntry> timeline_10mhz(const model::Track& track);
// The end of fragment i in 10 MHz.
int64_t fragment_end_10mhz(const model::Track& track, size_t i);

// Consecutive fragments of one duration, with no gap between them.
struct Run {
  int64_t start = 0;
  int64_t duration = 0;
  uint64_t count = 0;
  bool after_gap = false;  // the run does not start where the previous one ended
};
std::vector<Run> compress(const std::vector<TimelineEntry>& timeline);

// Tracks of one type sharing one AMS name (a Smooth StreamIndex, a DASH AdaptationSet), by
// descending bitrate; groups in presentation order.
struct TrackGroup {
  std::string name;
  std::vector<const model::Track*> tracks;
};
std::vector<TrackGroup> group_tracks(const model::Presentation& presentation,
                                     model::TrackType type);

// The track whose fragment times a Smooth StreamIndex lists for every QualityLevel of `track`'s
// group (the first of group_tracks: the highest bitrate). Fragments are aligned by index across a
// group, so fragment i of `track` is asked for by this track's time of fragment i; in an open GOP
// the rungs' earliest frames may differ by a frame or two.
const model::Track& smooth_reference(const model::Presentation& presentation,
                                     const model::Track& track);

// Whether every bitrate of the group has as many fragments as its first (aligned key frames, as
// AMS requires): then one timeline, the first's, names fragment i of each.
bool bitrates_aligned(const TrackGroup& group);

// The order a manifest lists a group's tracks in: by descending bitrate (the group's order), the
// one of a filter's first quality (Presentation::first_quality) moved first.
std::vector<const model::Track*> listing_order(const TrackGroup& group,
                                               const model::Presentation& presentation);

// The track whose timeline names and times the DASH segments of `track`: smooth_reference when
// every bitrate of the group has as many fragments (the one timeline an AdaptationSet lists;
// segment i of each bitrate is asked for by that track's time of fragment i), else the track
// itself (an unaligned encode: one timeline per Representation).
const model::Track& dash_reference(const model::Presentation& presentation,
                                   const model::Track& track);

// Tracks of one type in presentation order (the model's tracks_of without needing presentation.cc).
std::vector<const model::Track*> tracks_of_type(const model::Presentation& presentation,
                                                model::TrackType type);

// AMS URLs name a track by name and bitrate: two tracks sharing both could not be told apart.
Status check_track_urls_unique(const model::Presentation& presentation);

// The presentation's duration in 10 MHz: the model's value, else the end of the longest track.
int64_t presentation_duration_10mhz(const model::Presentation& presentation);

}  // namespace ams::manifest
