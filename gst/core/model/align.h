// One presentation timeline for tracks that come from any encoder: the file's edit lists are
// already mapped onto each sample table (file_index.h); this decides which samples a presentation
// shows and moves the tracks so that no presented time is negative and they start together.
//
// The rule (docs/asset-model.md, "Times"), in edit-mapped time where the edit starts at 0:
//  1. Each track keeps one run of samples in decode order, so that whatever it keeps decodes:
//     it starts at the last sync sample presented at or before the start (for audio, where every
//     frame is a sync sample, that drops the encoder's priming frames, which end at or before it),
//     and it ends before the first sample of the tail that is presented at or after the edit's end.
//  2. The presentation starts at the earliest time a video track presents (at most 0: earlier only
//     when an edit starts inside a GOP, whose first frames are then shown); every track moves by
//     the same amount, so audio and video stay in sync.
//  3. An audio track whose first frame still starts before 0 (a priming shorter than one frame,
//     as ffmpeg's AC-3 and E-AC-3 encoders write) moves later by that part of a frame.
#pragma once

#include <vector>

#include "base/status.h"
#include "model/presentation.h"

namespace ams::model {

// Replaces the table of every track that needs it with the presented one (the file's table is
// shared when nothing changes). Tracks without a table (side-car text) are left alone.
Status align_tracks(std::vector<Track>& tracks);

// What align_tracks does to one track, given the presentation's start in that track's ticks
// (<= 0): the run of samples it keeps and the shift added to every presentation time.
struct Presented {
  size_t first = 0;
  size_t end = 0;  // one past the last kept sample
  int64_t shift = 0;
};
Presented present_track(const SampleTable& table, bool video, int64_t origin);

}  // namespace ams::model
