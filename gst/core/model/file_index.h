// The index of one MP4 file: its tracks and their sample tables, read from `moov` (and the `moof`
// headers of a fragmented file). The media payload is never read. Samples that lie past the end
// of the file are kept (a damaged file fails only the fragments that need them, when read).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/media_file.h"
#include "model/presentation.h"
#include "mp4/boxes.h"

namespace ams::model {

struct FileTrack {
  uint32_t track_id = 0;
  mp4::FourCC handler = 0;  // vide, soun, ...
  uint32_t timescale = 0;
  std::string language;  // from mdhd
  uint32_t width = 0;    // tkhd display size (integer part)
  uint32_t height = 0;
  mp4::SampleEntry entry;  // the first sample description
  std::shared_ptr<const SampleTable> table;
  // H.264 / HEVC video: the CEA-608 channels (codec/captions.h) in the SEI of its first samples
  // (at most kCaptionScanSamples of them, kCaptionScanBytes in all, of each only the NAL units
  // before its first slice: a few hundred bytes), read with the index.
  uint8_t cea608_channels = 0;
};

inline constexpr size_t kCaptionScanSamples = 30;
inline constexpr uint64_t kCaptionScanBytes = 64u << 10;

struct FileIndex {
  std::string path;
  uint64_t size = 0;
  FileState state;  // of the file the index was read from
  bool fragmented = false;
  std::vector<FileTrack> tracks;

  const FileTrack* track(uint32_t track_id) const;
};

// Limits that keep a hostile file from costing unbounded memory or time.
struct IndexLimits {
  uint64_t max_moov_size = 256ull << 20;
  uint64_t max_moof_size = 64ull << 20;
  uint64_t max_samples_per_track = 1ull << 26;
  uint64_t max_top_level_boxes = 1ull << 22;
  // Longest track (and edit) accepted: 30 days. It bounds every time the model computes, so no
  // product of a time and a timescale can overflow.
  uint32_t max_duration_seconds = 30 * 24 * 3600;
};

Result<FileIndex> read_file_index(const MediaFile& file, const IndexLimits& limits = {});

// Pure parts, tested on bytes: a moov's track to its sample table, and a moof's samples appended.
Result<SampleTable> expand_sample_table(const mp4::Trak& trak, uint32_t movie_timescale,
                                        uint64_t file_size, const IndexLimits& limits);
Status append_fragment(const mp4::Moof& moof, uint64_t moof_offset, const mp4::Moov& moov,
                       const IndexLimits& limits,
                       std::vector<std::vector<Sample>>& per_track_samples);

}  // namespace ams::model
