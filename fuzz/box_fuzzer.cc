// libFuzzer target over the MP4 index reader: hostile bytes must give a Status, never a crash, an
// overrun or an allocation out of proportion to the input. Each input is tried three ways, so that
// whole-file seeds reach every level and mutations land on each:
//   1. as a whole file, through model::read_file_index (the path amsdemux and the server take);
//   2. every top-level moov / moof found in it, parsed and expanded to sample tables directly;
//   3. the input itself as a moov payload and as a moof payload.
// What parses must also survive a write/read round trip: the fmp4 writer and ams inspect rely on
// the box library reading back what it writes.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "model/file_index.h"
#include "model/media_file.h"
#include "mp4/box.h"
#include "mp4/boxes.h"

namespace {

using ams::Bytes;
using ams::ByteSpan;
namespace mp4 = ams::mp4;
namespace model = ams::model;

// The whole-file path needs a real file: one memfd per process, rewritten per input.
int memfd() {
  static int fd = memfd_create("box_fuzzer", 0);
  return fd;
}

void fuzz_file(ByteSpan data) {
  int fd = memfd();
  if (fd < 0 || ftruncate(fd, 0) != 0) std::abort();
  if (!data.empty() && pwrite(fd, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size()))
    std::abort();
  auto file = model::MediaFile::open("/proc/self/fd/" + std::to_string(fd));
  if (!file) std::abort();
  (void)model::read_file_index(**file);
}

// write(read(x)) must read back and write the same bytes again.
template <mp4::Box B>
void check_round_trip(const B& box) {
  ams::ByteWriter w1;
  mp4::write_box(w1, box);
  B again;
  if (!mp4::read_box(ByteSpan(w1.bytes()), again).is_ok()) std::abort();
  ams::ByteWriter w2;
  mp4::write_box(w2, again);
  if (w1.bytes() != w2.bytes()) std::abort();
}

void fuzz_moov(ByteSpan payload, uint64_t file_size) {
  mp4::Moov moov;
  if (!mp4::read_box_payload(payload, moov).is_ok()) return;
  check_round_trip(moov);
  for (const mp4::Trak& trak : moov.traks) {
    (void)model::expand_sample_table(trak, moov.mvhd.timescale, file_size, {});
  }
}

void fuzz_moof(ByteSpan payload) {
  mp4::Moof moof;
  if (!mp4::read_box_payload(payload, moof).is_ok()) return;
  check_round_trip(moof);
  // A movie that has every track the fragment names, so append_fragment gets past the lookup.
  mp4::Moov moov;
  moov.mvex.emplace();
  for (const mp4::Traf& traf : moof.trafs) {
    moov.traks.emplace_back().tkhd.track_id = traf.tfhd.track_id;
    moov.mvex->trex.emplace_back().track_id = traf.tfhd.track_id;
  }
  std::vector<std::vector<model::Sample>> samples(moov.traks.size());
  (void)model::append_fragment(moof, 0, moov, {}, samples);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  fuzz_file(in);
  if (auto boxes = mp4::split_children(in); boxes.is_ok()) {
    for (const mp4::RawBox& b : *boxes) {
      if (b.type == mp4::Moov::kType) fuzz_moov(b.payload, size);
      if (b.type == mp4::Moof::kType) fuzz_moof(b.payload);
    }
  }
  fuzz_moov(in, size);
  fuzz_moof(in);
  return 0;
}
