// The movie fragment as the fragment writer lays it out: one moof with one traf, whose children
// differ by variant (CMAF/DASH: tfhd, tfdt, trun; Smooth: tfhd, trun, tfxd). mp4::Traf has no
// place for Smooth's tfxd, so this traf keeps its own list; it reads back what it writes.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "mp4/box.h"
#include "mp4/boxes.h"

namespace ams::fmp4 {

// Common encryption's sample auxiliary information (ISO/IEC 23001-7 7.2): each sample's IV and
// subsample map, in the traf, as a senc box that saiz sizes and saio points at.
struct Subsample {
  uint16_t clear = 0;
  uint32_t protected_bytes = 0;
};

struct Senc {
  static constexpr mp4::FourCC kType = mp4::fourcc("senc");
  static constexpr uint32_t kUseSubsamples = 0x2;
  struct Entry {
    Bytes iv;  // iv_size bytes (none with a constant IV)
    std::vector<Subsample> subsamples;
  };
  uint8_t version = 0;
  uint32_t flags = 0;
  uint8_t iv_size = 0;  // the track's Per_Sample_IV_Size (tenc): reading needs it
  std::vector<Entry> entries;
  // The bytes of entry k as saiz counts them.
  size_t entry_size(size_t k) const;
  bool read_write(mp4::BoxBuffer& b);
};

struct Saiz {
  static constexpr mp4::FourCC kType = mp4::fourcc("saiz");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint8_t default_size = 0;  // 0: the sizes are listed
  uint32_t sample_count = 0;
  std::vector<uint8_t> sizes;  // with default_size 0
  bool read_write(mp4::BoxBuffer& b);
};

struct Saio {
  static constexpr mp4::FourCC kType = mp4::fourcc("saio");
  uint8_t version = 0;
  uint32_t flags = 0;
  uint32_t offset = 0;  // one entry: where the first sample's information starts, from the moof
  bool read_write(mp4::BoxBuffer& b);
};

struct TrackFragment {
  static constexpr mp4::FourCC kType = mp4::fourcc("traf");
  mp4::Tfhd tfhd;
  std::optional<mp4::Tfdt> tfdt;
  mp4::Trun trun;
  std::optional<mp4::Tfxd> tfxd;  // Smooth only
  // Protected fragments, in this order after the trun (as ISO/IEC 23001-7's examples and Shaka
  // Packager lay them out).
  std::optional<Saiz> saiz;
  std::optional<Saio> saio;
  std::optional<Senc> senc;
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
