// The movie fragment as the fragment writer lays it out: one moof with one traf, whose children
// differ by variant (CMAF/DASH: tfhd, tfdt, trun; Smooth: tfhd, trun, tfxd). mp4::Traf has no
// place for Smooth's tfxd, so this traf keeps its own list; it reads back what it writes.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "mp4/box.h"
#include "mp4/boxes.h"

namespace ams::fmp4 {

struct TrackFragment {
  static constexpr mp4::FourCC kType = mp4::fourcc("traf");
  mp4::Tfhd tfhd;
  std::optional<mp4::Tfdt> tfdt;
  mp4::Trun trun;
  std::optional<mp4::Tfxd> tfxd;  // Smooth only
  bool read_write(mp4::BoxBuffer& b);
};

struct MovieFragment {
  static constexpr mp4::FourCC kType = mp4::fourcc("moof");
  mp4::Mfhd mfhd;
  TrackFragment traf;
  bool read_write(mp4::BoxBuffer& b);
};

// The header of an mdat of `payload_size` bytes: 8 bytes, or 16 (64-bit size) when the box would
// not fit a 32-bit size.
size_t mdat_header_size(uint64_t payload_size);
void write_mdat_header(ByteWriter& w, uint64_t payload_size);

}  // namespace ams::fmp4
