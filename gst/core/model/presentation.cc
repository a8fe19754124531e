#include "model/presentation.h"

#include <algorithm>

namespace ams::model {

const char* track_type_name(TrackType t) {
  switch (t) {
    case TrackType::kVideo:
      return "video";
    case TrackType::kAudio:
      return "audio";
    case TrackType::kText:
      return "text";
  }
  return "unknown";
}

const char* codec_name(Codec c) {
  switch (c) {
    case Codec::kH264:
      return "h264";
    case Codec::kH265:
      return "h265";
    case Codec::kAac:
      return "aac";
    case Codec::kAc3:
      return "ac3";
    case Codec::kEac3:
      return "eac3";
    case Codec::kWebVtt:
      return "webvtt";
    case Codec::kUnknown:
      break;
  }
  return "unknown";
}

int64_t decode_lead_of(const std::vector<Sample>& samples) {
  int64_t lead = 0;
  for (const Sample& s : samples)
    lead = std::max<int64_t>(lead, -static_cast<int64_t>(s.cts_offset));
  return lead;
}

const std::vector<Sample>& Track::samples() const {
  static const std::vector<Sample> kNone;
  return table ? table->samples : kNone;
}

std::optional<size_t> Track::fragment_at(int64_t time_10mhz) const {
  // Fragment starts grow with the index: binary search on their 10 MHz values.
  size_t lo = 0;
  size_t hi = fragments.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int64_t t = fragment_start_10mhz(mid);
    if (t == time_10mhz) return mid;
    if (t < time_10mhz) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return std::nullopt;
}

std::string Presentation::path_of(const Track& track) const {
  if (folder.empty() || track.file.starts_with('/')) return track.file;
  return folder + "/" + track.file;
}

std::vector<const Track*> Presentation::tracks_of(TrackType type) const {
  std::vector<const Track*> out;
  for (const Track& t : tracks) {
    if (t.type == type) out.push_back(&t);
  }
  return out;
}

const Track* Presentation::find(const std::string& name, std::optional<uint32_t> bitrate) const {
  for (const Track& t : tracks) {
    if (t.name == name && (!bitrate || t.bitrate == *bitrate)) return &t;
  }
  return nullptr;
}

}  // namespace ams::model
