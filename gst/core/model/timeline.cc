#include "model/timeline.h"

#include <algorithm>
#include <string>

namespace ams::model {
namespace {

int64_t to_10mhz(int64_t ticks, uint32_t timescale) {
  return rescale(ticks, timescale, kManifestTimescale);
}

int64_t presentation_end(const std::vector<Sample>& samples) {
  int64_t end = 0;
  for (const Sample& s : samples) end = std::max(end, s.pts() + s.duration);
  return end;
}

// Sync sample times (10 MHz) of a video track, in decode order, with their sample indices.
struct SyncPoint {
  int64_t time = 0;
  uint32_t sample = 0;
};

std::vector<SyncPoint> sync_points(const Track& t) {
  std::vector<SyncPoint> out;
  const auto& s = t.samples();
  for (uint32_t i = 0; i < s.size(); ++i) {
    if (s[i].sync || i == 0) out.push_back({to_10mhz(s[i].pts(), t.timescale), i});
  }
  return out;
}

const SyncPoint* find_near(const std::vector<SyncPoint>& points, int64_t time, int64_t tolerance) {
  auto it = std::lower_bound(points.begin(), points.end(), time - tolerance,
                             [](const SyncPoint& p, int64_t t) { return p.time < t; });
  if (it != points.end() && it->time <= time + tolerance) return &*it;
  return nullptr;
}

void fill_fragments(Track& t, const std::vector<uint32_t>& starts) {
  const auto& s = t.samples();
  t.fragments.clear();
  for (size_t k = 0; k < starts.size(); ++k) {
    uint32_t first = starts[k];
    uint32_t next = k + 1 < starts.size() ? starts[k + 1] : static_cast<uint32_t>(s.size());
    Fragment f;
    f.first_sample = first;
    f.sample_count = next - first;
    // The earliest presentation time of its samples: the key frame's, except in an open GOP,
    // whose leading frames present before the key frame that starts the fragment.
    f.start = s[first].pts();
    for (uint32_t i = first + 1; i < next; ++i) f.start = std::min(f.start, s[i].pts());
    t.fragments.push_back(f);
  }
  for (size_t k = 0; k < t.fragments.size(); ++k) {
    int64_t end = k + 1 < t.fragments.size() ? t.fragments[k + 1].start : t.duration;
    t.fragments[k].duration = std::max<int64_t>(0, end - t.fragments[k].start);
  }
}

// Starts of the fragments of a track whose samples are in presentation order (audio): its first
// sample starts fragment 0 wherever the video's first fragment starts (so fragment i of every
// track covers the same span), then the first sample at or after each later boundary.
std::vector<uint32_t> starts_at_or_after(const Track& t, const std::vector<int64_t>& boundaries) {
  const auto& s = t.samples();
  std::vector<uint32_t> starts = {0};
  uint32_t i = 0;
  for (size_t k = 1; k < boundaries.size(); ++k) {
    while (i < s.size() && to_10mhz(s[i].pts(), t.timescale) < boundaries[k]) ++i;
    if (i >= s.size()) break;
    if (starts.back() != i) starts.push_back(i);
  }
  return starts;
}

}  // namespace

Status build_fragment_timeline(std::vector<Track>& tracks, const TimelineOptions& options) {
  for (Track& t : tracks) {
    if (t.table && !t.samples().empty() && t.timescale == 0) {
      return invalid_data("track " + t.name + ": timescale 0");
    }
    t.duration = presentation_end(t.samples());
    if (t.timescale != 0 && to_10mhz(t.duration, t.timescale) > options.max_duration) {
      return resource_limit("track " + (t.name.empty() ? t.file : t.name) + " presents until " +
                            std::to_string(t.duration / t.timescale) + " s (limit " +
                            std::to_string(options.max_duration / kManifestTimescale) +
                            " s): a composition offset far past its decode time");
    }
  }

  std::vector<Track*> video;
  for (Track& t : tracks) {
    if (t.type == TrackType::kVideo && !t.samples().empty()) video.push_back(&t);
  }

  // Boundaries (10 MHz) shared by every video track, at least min_fragment_duration apart.
  std::vector<int64_t> boundaries;
  if (!video.empty()) {
    std::vector<std::vector<SyncPoint>> points;
    for (Track* t : video) points.push_back(sync_points(*t));
    int64_t last = INT64_MIN;
    for (const SyncPoint& p : points[0]) {
      if (last != INT64_MIN && p.time - last < options.min_fragment_duration) continue;
      bool everywhere = true;
      for (size_t k = 1; k < points.size() && everywhere; ++k) {
        everywhere = find_near(points[k], p.time, options.alignment_tolerance) != nullptr;
      }
      if (!everywhere && last != INT64_MIN) continue;
      boundaries.push_back(p.time);
      last = p.time;
    }
    for (size_t k = 0; k < video.size(); ++k) {
      std::vector<uint32_t> starts;
      for (int64_t b : boundaries) {
        const SyncPoint* p = find_near(points[k], b, options.alignment_tolerance);
        uint32_t idx = p ? p->sample : 0;
        if (starts.empty() || idx > starts.back()) starts.push_back(idx);
      }
      if (starts.empty() || starts.front() != 0) starts.insert(starts.begin(), 0);
      fill_fragments(*video[k], starts);
    }
    // Audio follows where the video fragments start (their earliest frames), so that fragment i
    // of every track covers the same span.
    boundaries.clear();
    for (size_t i = 0; i < video[0]->fragments.size(); ++i) {
      boundaries.push_back(to_10mhz(video[0]->fragments[i].start, video[0]->timescale));
    }
  } else {
    int64_t longest = 0;
    for (const Track& t : tracks) {
      if (!t.samples().empty()) longest = std::max(longest, to_10mhz(t.duration, t.timescale));
    }
    for (int64_t b = 0; b < longest; b += options.audio_only_fragment) boundaries.push_back(b);
  }

  for (Track& t : tracks) {
    if (t.type == TrackType::kVideo || t.samples().empty()) continue;
    fill_fragments(t, starts_at_or_after(t, boundaries));
  }
  return Status::ok();
}

}  // namespace ams::model
