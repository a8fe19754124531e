#include "fmp4/boxes.h"

namespace ams::fmp4 {

bool TrackFragment::read_write(mp4::BoxBuffer& b) {
  // Reading finds children by type; a traf may hold other uuid boxes, but the ones we write hold
  // only tfxd.
  return b.rw_child(tfhd) && b.rw_optional_child(tfdt) && b.rw_child(trun) &&
         b.rw_optional_child(tfxd);
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
