#include "manifest/timeline.h"

#include <algorithm>

namespace ams::manifest {

int64_t fragment_end_10mhz(const model::Track& track, size_t i) {
  const model::Fragment& f = track.fragments[i];
  return rescale(f.start + f.duration, track.timescale, kManifestTimescale);
}

std::vector<TimelineEntry> timeline_10mhz(const model::Track& track) {
  std::vector<TimelineEntry> out;
  if (track.timescale == 0) return out;
  out.reserve(track.fragments.size());
  for (size_t i = 0; i < track.fragments.size(); ++i) {
    int64_t start = track.fragment_start_10mhz(i);
    out.push_back({start, fragment_end_10mhz(track, i) - start});
  }
  return out;
}

std::vector<Run> compress(const std::vector<TimelineEntry>& timeline) {
  std::vector<Run> runs;
  int64_t expected = 0;
  for (const TimelineEntry& e : timeline) {
    bool gap = runs.empty() || e.start != expected;
    if (!gap && runs.back().duration == e.duration) {
      ++runs.back().count;
    } else {
      runs.push_back({e.start, e.duration, 1, gap});
    }
    expected = e.start + e.duration;
  }
  return runs;
}

std::vector<const model::Track*> tracks_of_type(const model::Presentation& presentation,
                                                model::TrackType type) {
  std::vector<const model::Track*> out;
  for (const model::Track& t : presentation.tracks) {
    if (t.type == type) out.push_back(&t);
  }
  return out;
}

std::vector<TrackGroup> group_tracks(const model::Presentation& presentation,
                                     model::TrackType type) {
  std::vector<TrackGroup> groups;
  for (const model::Track* t : tracks_of_type(presentation, type)) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const TrackGroup& g) { return g.name == t->name; });
    if (it == groups.end()) {
      groups.push_back({t->name, {}});
      it = groups.end() - 1;
    }
    it->tracks.push_back(t);
  }
  for (TrackGroup& g : groups) {
    std::stable_sort(g.tracks.begin(), g.tracks.end(),
                     [](const auto* a, const auto* b) { return a->bitrate > b->bitrate; });
  }
  return groups;
}

const model::Track& smooth_reference(const model::Presentation& presentation,
                                     const model::Track& track) {
  for (const TrackGroup& g : group_tracks(presentation, track.type)) {
    if (g.name == track.name && !g.tracks.empty()) return *g.tracks.front();
  }
  return track;
}

std::vector<const model::Track*> listing_order(const TrackGroup& group,
                                               const model::Presentation& presentation) {
  std::vector<const model::Track*> order = group.tracks;
  if (presentation.first_quality) {
    std::stable_partition(order.begin(), order.end(), [&](const model::Track* t) {
      return t->bitrate == *presentation.first_quality;
    });
  }
  return order;
}

bool bitrates_aligned(const TrackGroup& group) {
  return std::all_of(group.tracks.begin(), group.tracks.end(), [&](const model::Track* t) {
    return t->fragments.size() == group.tracks.front()->fragments.size();
  });
}

const model::Track& dash_reference(const model::Presentation& presentation,
                                   const model::Track& track) {
  for (const TrackGroup& g : group_tracks(presentation, track.type)) {
    if (g.name != track.name || g.tracks.empty()) continue;
    return bitrates_aligned(g) ? *g.tracks.front() : track;
  }
  return track;
}

Status check_track_urls_unique(const model::Presentation& presentation) {
  const auto& tracks = presentation.tracks;
  for (size_t i = 0; i < tracks.size(); ++i) {
    for (size_t j = i + 1; j < tracks.size(); ++j) {
      if (tracks[i].name == tracks[j].name && tracks[i].bitrate == tracks[j].bitrate) {
        return invalid_argument("tracks " + std::to_string(i) + " and " + std::to_string(j) +
                                " are both named '" + tracks[i].name + "' at bitrate " +
                                std::to_string(tracks[i].bitrate) +
                                ": their QualityLevels URLs would collide");
      }
    }
  }
  return Status::ok();
}

int64_t presentation_duration_10mhz(const model::Presentation& presentation) {
  if (presentation.duration_10mhz > 0) return presentation.duration_10mhz;
  int64_t longest = 0;
  for (const model::Track& t : presentation.tracks) {
    if (t.timescale == 0) continue;
    longest = std::max(longest, t.duration_10mhz());
    if (!t.fragments.empty()) {
      longest = std::max(longest, fragment_end_10mhz(t, t.fragments.size() - 1));
    }
  }
  return longest;
}

}  // namespace ams::manifest
