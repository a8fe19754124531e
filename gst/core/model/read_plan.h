// Which byte ranges of a file to read for a run of samples: as few reads as the layout allows.
//
// Samples that follow each other in the file share one read. Across a gap (another track's
// samples interleaved between them, as ffmpeg and GStreamer muxers write) the read goes on when
// the gap is small: on this kind of machine a pread costs as much as copying tens of kilobytes
// (docs/performance.md, "Reads"), so reading a few hundred bytes of interleaved audio to save a
// system call per video frame is the cheaper way. A gap is read through only when it is at most
// `max_gap` bytes and the gap bytes of the read stay at most a quarter of its sample bytes, so a
// read never carries more than 25 % of bytes it does not need (an audio fragment between large
// video frames reads its samples one by one, as before).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "model/media_file.h"
#include "model/presentation.h"

namespace ams::model {

struct ReadRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  uint32_t first_sample = 0;  // index into the samples given
  uint32_t sample_count = 0;
};

inline constexpr uint64_t kDefaultMaxReadGap = 16 * 1024;

// The reads for samples[first, end): in sample order, each covering whole samples. A sample
// before the current read's end (out of file order) starts a new read, so no byte is read twice.
std::vector<ReadRange> plan_reads(const std::vector<Sample>& samples, uint32_t first, uint32_t end,
                                  uint64_t max_gap = kDefaultMaxReadGap);

// The byte ranges of read `r`'s samples, for MediaFile::read_gathered (into `pieces`), and their
// total: the size of the buffer the read fills. A sample that lies past the end of `file` (the
// index keeps those of a damaged file, model/file_index.h) fails the read here, before anything
// is allocated for it, naming the file and the sample.
Result<uint64_t> pieces_of(const std::vector<Sample>& samples, const ReadRange& r,
                           const MediaFile& file, std::vector<MediaFile::Piece>& pieces);

}  // namespace ams::model
