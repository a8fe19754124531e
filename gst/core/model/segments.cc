#include "model/segments.h"

#include <algorithm>

namespace ams::model {
namespace {

size_t per(size_t per_segment) {
  return std::max<size_t>(1, per_segment);
}

Segment make(const Track& t, size_t k, size_t index) {
  Segment s;
  s.index = index;
  s.first_fragment = index * k;
  s.fragment_count = std::min(k, t.fragments.size() - s.first_fragment);
  s.start_10mhz = t.fragment_start_10mhz(s.first_fragment);
  const Fragment& last = t.fragments[s.first_fragment + s.fragment_count - 1];
  s.duration_10mhz =
      rescale(last.start + last.duration, t.timescale, kManifestTimescale) - s.start_10mhz;
  return s;
}

}  // namespace

std::vector<Segment> segments_of(const Track& track, size_t per_segment) {
  std::vector<Segment> out;
  if (track.timescale == 0) return out;
  const size_t k = per(per_segment);
  const size_t n = (track.fragments.size() + k - 1) / k;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(make(track, k, i));
  return out;
}

std::optional<Segment> segment(const Track& track, size_t per_segment, size_t index) {
  const size_t k = per(per_segment);
  if (track.timescale == 0 || index >= (track.fragments.size() + k - 1) / k) return std::nullopt;
  return make(track, k, index);
}

std::optional<Segment> segment_at(const Track& track, size_t per_segment, int64_t time_10mhz) {
  std::optional<size_t> f = track.fragment_at(time_10mhz);
  const size_t k = per(per_segment);
  if (!f || *f % k != 0) return std::nullopt;
  return make(track, k, *f / k);
}

size_t Selection::end_fragment(const Track& track) const {
  const size_t n = track.fragments.size();
  if (segment_count == SIZE_MAX) return n;
  const size_t k = per(per_segment);
  return std::min(n, (first_segment + segment_count) * k);
}

}  // namespace ams::model
