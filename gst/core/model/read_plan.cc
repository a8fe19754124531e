#include "model/read_plan.h"

namespace ams::model {

std::vector<ReadRange> plan_reads(const std::vector<Sample>& samples, uint32_t first, uint32_t end,
                                  uint64_t max_gap) {
  std::vector<ReadRange> reads;
  if (end > samples.size()) end = static_cast<uint32_t>(samples.size());
  uint64_t gap_bytes = 0;
  uint64_t sample_bytes = 0;
  for (uint32_t i = first; i < end; ++i) {
    const Sample& s = samples[i];
    if (!reads.empty()) {
      ReadRange& r = reads.back();
      const uint64_t r_end = r.offset + r.length;
      if (s.offset >= r_end) {
        const uint64_t gap = s.offset - r_end;
        // Overflow-safe: sizes are bounded by the file, gaps by max_gap.
        if (gap == 0 || (gap <= max_gap && (gap_bytes + gap) * 4 <= sample_bytes + s.size)) {
          r.length += gap + s.size;
          r.sample_count++;
          gap_bytes += gap;
          sample_bytes += s.size;
          continue;
        }
      }
    }
    reads.push_back({s.offset, s.size, i, 1});
    gap_bytes = 0;
    sample_bytes = s.size;
  }
  return reads;
}

Result<uint64_t> pieces_of(const std::vector<Sample>& samples, const ReadRange& r,
                           const MediaFile& file, std::vector<MediaFile::Piece>& pieces) {
  pieces.clear();
  uint64_t payload = 0;
  const uint64_t size = file.size();
  for (uint32_t k = r.first_sample; k < r.first_sample + r.sample_count; ++k) {
    const Sample& s = samples[k];
    if (s.offset > size || s.size > size - s.offset) {
      return truncated(file.path() + ": sample " + std::to_string(k + 1) + " at offset " +
                       std::to_string(s.offset) + " (+" + std::to_string(s.size) +
                       ") lies outside the file (" + std::to_string(size) +
                       " bytes): the file is shorter than its index");
    }
    pieces.push_back({s.offset, s.size});
    payload += s.size;
  }
  return payload;
}

}  // namespace ams::model
