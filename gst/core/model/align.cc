#include "model/align.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "base/time.h"

namespace ams::model {
namespace {

// The run of step 1: from the last sync sample presented at or before `start`, to before the
// tail presented at or after the edit's end (at least one sample stays).
std::pair<size_t, size_t> kept_run(const SampleTable& table, int64_t start) {
  const std::vector<Sample>& s = table.samples;
  size_t first = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i].sync && s[i].pts() <= start) first = i;
  }
  size_t end = s.size();
  if (table.edit_end) {
    while (end > first + 1 && s[end - 1].pts() >= *table.edit_end) --end;
  }
  return {first, end};
}

// The presentation's start (<= 0) as a time of one track: (ticks, timescale).
struct Origin {
  int64_t ticks = 0;
  uint32_t timescale = 1;
  int64_t in(uint32_t timescale_of_track) const {
    return rescale(ticks, timescale, timescale_of_track);  // floor: never later than the origin
  }
};

Result<std::shared_ptr<const SampleTable>> presented_table(const SampleTable& table,
                                                           const Presented& p,
                                                           const std::string& name) {
  auto out = std::make_shared<SampleTable>();
  const std::vector<Sample>& s = table.samples;
  out->samples.assign(s.begin() + static_cast<std::ptrdiff_t>(p.first),
                      s.begin() + static_cast<std::ptrdiff_t>(p.end));
  // Decode times restart at 0 with the first presented sample; composition offsets take the
  // difference so that every presentation time is the edit-mapped one plus the shift.
  const int64_t base = s[p.first].dts;
  for (Sample& smp : out->samples) {
    const int64_t cts = static_cast<int64_t>(smp.cts_offset) + base + p.shift;
    if (cts < std::numeric_limits<int32_t>::min() || cts > std::numeric_limits<int32_t>::max()) {
      return invalid_data("track " + name + ": a composition offset of " + std::to_string(cts) +
                          " ticks does not fit (an edit list far from its decode times)");
    }
    smp.dts -= base;
    smp.cts_offset = static_cast<int32_t>(cts);
  }
  out->decode_lead = decode_lead_of(out->samples);
  return std::shared_ptr<const SampleTable>(std::move(out));
}

}  // namespace

Presented present_track(const SampleTable& table, bool video, int64_t origin) {
  Presented p;
  if (table.samples.empty()) return p;
  // Video keeps what decodes from the start of the edit; the presentation starts where the
  // earliest video frame it keeps presents (origin). Audio keeps what overlaps that start.
  auto [first, end] = kept_run(table, video ? 0 : origin);
  p.first = first;
  p.end = end;
  p.shift = -origin;
  const int64_t start = table.samples[first].pts() + p.shift;
  if (start < 0) p.shift -= start;  // a frame that starts before 0: only part of a frame late
  return p;
}

Status align_tracks(std::vector<Track>& tracks) {
  // Step 2: the earliest presentation time of the video that the presentation keeps.
  std::optional<Origin> origin;
  for (const Track& t : tracks) {
    if (t.type != TrackType::kVideo || !t.table || t.table->samples.empty()) continue;
    auto [first, end] = kept_run(*t.table, 0);
    int64_t earliest = 0;
    for (size_t i = first; i < end; ++i) earliest = std::min(earliest, t.table->samples[i].pts());
    if (!origin || rescale(earliest, t.timescale, kManifestTimescale) <
                       rescale(origin->ticks, origin->timescale, kManifestTimescale)) {
      origin = Origin{earliest, t.timescale};
    }
  }
  for (Track& t : tracks) {
    if (!t.table || t.table->samples.empty() || t.timescale == 0) continue;
    const int64_t o = origin ? origin->in(t.timescale) : 0;
    const Presented p = present_track(*t.table, t.type == TrackType::kVideo, o);
    const SampleTable& table = *t.table;
    const bool unchanged =
        p.first == 0 && p.end == table.samples.size() && p.shift == 0 && table.samples[0].dts >= 0;
    if (unchanged) continue;
    AMS_ASSIGN_OR_RETURN(t.table, presented_table(table, p, t.name.empty() ? t.file : t.name));
  }
  return Status::ok();
}

}  // namespace ams::model
