#include "fmp4/boxes.h"

namespace ams::fmp4 {

bool TrackFragment::read_write(mp4::BoxBuffer& b) {
  // Reading finds children by type; a traf may hold other uuid boxes, but the ones we write hold
  // only tfxd.
  if (!b.rw_child(tfhd) || !b.rw_optional_child(tfdt) || !b.rw_child(trun) ||
      !b.rw_optional_child(tfxd)) {
    return false;
  }
  if (!b.rw_optional_child(saiz) || !b.rw_optional_child(saio)) return false;
  // Reading a senc needs its IV size, which only the init segment gives: the caller reads it.
  return b.reading() || b.rw_optional_child(senc);
}

size_t Senc::entry_size(size_t k) const {
  const Entry& e = entries[k];
  return e.iv.size() + ((flags & kUseSubsamples) ? 2 + 6 * e.subsamples.size() : 0);
}

bool Senc::read_write(mp4::BoxBuffer& b) {
  if (!b.rw_full_header(version, flags)) return false;
  uint32_t count = static_cast<uint32_t>(entries.size());
  if (!b.rw(count) || !b.fits(count, iv_size)) return false;
  if (b.reading()) entries.resize(count);
  for (Entry& e : entries) {
    if (!b.rw_bytes(e.iv, iv_size)) return false;
    if (!(flags & kUseSubsamples)) continue;
    uint16_t n = static_cast<uint16_t>(e.subsamples.size());
    if (!b.rw(n) || !b.fits(n, 6)) return false;
    if (b.reading()) e.subsamples.resize(n);
    for (Subsample& s : e.subsamples) {
      if (!b.rw(s.clear) || !b.rw(s.protected_bytes)) return false;
    }
  }
  return true;
}

bool Saiz::read_write(mp4::BoxBuffer& b) {
  if (!b.rw_full_header(version, flags)) return false;
  if (flags & 1) return false;  // aux_info_type: never written here
  if (!b.rw(default_size) || !b.rw(sample_count)) return false;
  if (default_size != 0) return true;
  if (!b.fits(sample_count, 1)) return false;
  if (b.reading()) sizes.resize(sample_count);
  for (uint8_t& s : sizes) {
    if (!b.rw(s)) return false;
  }
  return true;
}

bool Saio::read_write(mp4::BoxBuffer& b) {
  if (!b.rw_full_header(version, flags)) return false;
  if (flags & 1) return false;
  uint32_t count = 1;
  if (!b.rw(count) || count != 1) return false;
  if (version == 0) return b.rw(offset);
  uint64_t wide = offset;
  if (!b.rw(wide) || wide > UINT32_MAX) return false;
  offset = static_cast<uint32_t>(wide);
  return true;
}

bool MovieFragment::read_write(mp4::BoxBuffer& b) {
  return b.rw_child(mfhd) && b.rw_child(traf);
}

size_t mdat_header_size(uint64_t payload_size) {
  return payload_size + 8 > UINT32_MAX ? 16 : 8;
}

void write_mdat_header(ByteWriter& w, uint64_t payload_size) {
  if (mdat_header_size(payload_size) == 16) {
    w.u32(1);
    w.fourcc("mdat");
    w.u64(payload_size + 16);
    return;
  }
  w.u32(static_cast<uint32_t>(payload_size + 8));
  w.fourcc("mdat");
}

}  // namespace ams::fmp4
