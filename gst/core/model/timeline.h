// The fragment timeline: where each track's fragments start. Video fragments start on sync
// samples common to every video track (so the bitrates switch cleanly); audio fragments start at
// the first audio sample at or after each video boundary; an audio-only presentation is cut every
// `audio_only_fragment` seconds.
#pragma once

#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "model/presentation.h"

namespace ams::model {

struct TimelineOptions {
  // A sync sample starts a new fragment only this long (10 MHz ticks) after the previous start:
  // encoder output with 2 s GOPs gives 2 s fragments; 0.5 s GOPs are grouped into >= 1 s fragments.
  int64_t min_fragment_duration = 10'000'000;
  // Audio-only presentations: fragment length (10 MHz ticks).
  int64_t audio_only_fragment = 20'000'000;
  // Sync samples of two video tracks closer than this (10 MHz ticks) count as the same boundary.
  int64_t alignment_tolerance = 10'000;
  // Latest presentation end accepted (10 MHz ticks): 30 days, the index's limit on decode times
  // (IndexLimits::max_duration_seconds). A composition offset can present a sample up to 2^31
  // ticks after its decode time (68 years at a timescale of 1), and an audio-only presentation is
  // cut every audio_only_fragment up to its end: without this bound, a billion fragments.
  int64_t max_duration = int64_t{30} * 24 * 3600 * kManifestTimescale;
};

// Fills Track::fragments and Track::duration of every track that has samples.
Status build_fragment_timeline(std::vector<Track>& tracks, const TimelineOptions& options = {});

}  // namespace ams::model
