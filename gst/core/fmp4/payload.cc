// Reading a fragment's payload: as few reads as the samples' layout allows (model/read_plan.h).
#include <string>

#include "fmp4/writer.h"
#include "model/media_file.h"
#include "model/read_plan.h"

namespace ams::fmp4 {

Result<Bytes> read_fragment_payload(const model::Track& track, size_t fragment_index,
                                    const model::MediaFile& file,
                                    std::vector<ByteSpan>& sample_spans) {
  sample_spans.clear();
  if (fragment_index >= track.fragments.size()) {
    return not_found("track " + track.name + " has no fragment " + std::to_string(fragment_index));
  }
  const model::Fragment& f = track.fragments[fragment_index];
  const std::vector<model::Sample>& all = track.samples();
  if (f.first_sample > all.size() || f.sample_count > all.size() - f.first_sample) {
    return invalid_argument("track " + track.name + ": fragment " + std::to_string(fragment_index) +
                            " names samples the track does not have");
  }
  const model::Sample* s = all.data() + f.first_sample;
  const size_t n = f.sample_count;

  // Sizes come from the index: bound them by the file before allocating anything.
  uint64_t total = 0;
  for (size_t k = 0; k < n; ++k) {
    if (s[k].offset > file.size() || s[k].size > file.size() - s[k].offset) {
      return invalid_data(file.path() + ": sample at offset " + std::to_string(s[k].offset) +
                          " lies outside the file");
    }
    total += s[k].size;
  }
  if (total > file.size()) {
    return invalid_data(file.path() + ": fragment payload larger than the file");
  }

  Bytes buf(static_cast<size_t>(total));
  std::vector<model::MediaFile::Piece> pieces;
  pieces.reserve(n);
  size_t at = 0;
  for (const model::ReadRange& r :
       model::plan_reads(all, f.first_sample, f.first_sample + f.sample_count)) {
    AMS_ASSIGN_OR_RETURN(uint64_t bytes, model::pieces_of(all, r, file, pieces));
    AMS_RETURN_IF_ERROR(file.read_gathered(pieces.data(), pieces.size(), buf.data() + at));
    at += static_cast<size_t>(bytes);
  }
  sample_spans.reserve(n);
  at = 0;
  for (size_t k = 0; k < n; ++k) {
    sample_spans.push_back(ByteSpan(buf).subspan(at, s[k].size));
    at += s[k].size;
  }
  return buf;
}

}  // namespace ams::fmp4
