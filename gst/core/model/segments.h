// What a segment is: the one place that decides which fragments a media resource holds, for every
// format. fMP4 formats (Smooth, DASH, HLS CMAF) serve one fragment per segment; HLS v3 and v4 pack
// `fragmentsPerHLSSegment` fragments into each MPEG-TS segment, the last one holding what is left.
// Manifests list these segments, the server and `ams package` make them, and amsdemux/amstsmux
// emit and cut them, so they cannot disagree.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "model/presentation.h"

namespace ams::model {

struct Segment {
  size_t index = 0;  // position in the track's segment list (the HLS media sequence number)
  size_t first_fragment = 0;
  size_t fragment_count = 0;
  int64_t start_10mhz = 0;     // the first fragment's URL time
  int64_t duration_10mhz = 0;  // up to the end of the last fragment
};

// The segments of `track` when each holds `per_segment` fragments (0 counts as 1).
std::vector<Segment> segments_of(const Track& track, size_t per_segment);
// Segment `index`, or nullopt past the end.
std::optional<Segment> segment(const Track& track, size_t per_segment, size_t index);
// The segment that starts at the URL time `time_10mhz`, or nullopt.
std::optional<Segment> segment_at(const Track& track, size_t per_segment, int64_t time_10mhz);

// What a media request (or a gst-launch run) emits: segments [first_segment, first_segment +
// segment_count) of `per_segment` fragments of each track. Every track emits the fragments with
// the same indices (fragment i of every track covers the same span, model/timeline.h).
struct Selection {
  std::vector<size_t> tracks;  // presentation track indices, in pad order
  size_t per_segment = 1;
  size_t first_segment = 0;
  size_t segment_count = SIZE_MAX;  // SIZE_MAX: to the end
  bool key_units_only = false;      // HLS I-frame segments: each fragment's key frame only
  // MPEG-TS: the continuity counter of each selected track's first packet in first_segment
  // (ts::continuity_table); empty when the writer is to work them out.
  std::vector<uint8_t> continuity;

  size_t first_fragment() const { return first_segment * std::max<size_t>(1, per_segment); }
  // One past the last fragment of `track` the selection emits.
  size_t end_fragment(const Track& track) const;
};

}  // namespace ams::model
