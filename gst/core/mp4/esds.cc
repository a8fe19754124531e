#include "mp4/esds.h"

namespace ams::mp4 {
namespace {

constexpr uint8_t kEsDescrTag = 0x03;
constexpr uint8_t kDecoderConfigDescrTag = 0x04;
constexpr uint8_t kDecSpecificInfoTag = 0x05;
constexpr uint8_t kSlConfigDescrTag = 0x06;

// A descriptor header: tag, then a size in 1 to 4 bytes of 7 bits each.
bool read_descriptor(ByteReader& r, uint8_t& tag, ByteReader& body) {
  if (!r.read_u8(tag)) return false;
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) {
    uint8_t b = 0;
    if (!r.read_u8(b)) return false;
    size = (size << 7) | (b & 0x7f);
    if (!(b & 0x80)) return r.sub_reader(size, body);
  }
  return false;
}

void write_descriptor_header(ByteWriter& w, uint8_t tag, size_t size) {
  w.u8(tag);
  // Four bytes always, as most muxers do: sizes stay fixed whatever the content.
  w.u8(static_cast<uint8_t>(0x80 | ((size >> 21) & 0x7f)));
  w.u8(static_cast<uint8_t>(0x80 | ((size >> 14) & 0x7f)));
  w.u8(static_cast<uint8_t>(0x80 | ((size >> 7) & 0x7f)));
  w.u8(static_cast<uint8_t>(size & 0x7f));
}

}  // namespace

Result<EsDescriptor> parse_esds(ByteSpan payload) {
  ByteReader r(payload);
  uint32_t version_flags = 0;
  if (!r.read_u32(version_flags)) return truncated("esds: no full-box header");
  uint8_t tag = 0;
  ByteReader es;
  if (!read_descriptor(r, tag, es) || tag != kEsDescrTag) {
    return invalid_data("esds: no ES_Descriptor");
  }
  EsDescriptor out;
  uint8_t flags = 0;
  if (!es.read_u16(out.es_id) || !es.read_u8(flags))
    return truncated("esds: ES_Descriptor cut short");
  uint16_t skip16 = 0;
  if ((flags & 0x80) && !es.read_u16(skip16)) return truncated("esds: dependsOn_ES_ID cut short");
  if (flags & 0x40) {
    uint8_t url_len = 0;
    if (!es.read_u8(url_len) || !es.skip(url_len)) return truncated("esds: URL cut short");
  }
  if ((flags & 0x20) && !es.read_u16(skip16)) return truncated("esds: OCR_ES_Id cut short");
  ByteReader dc;
  if (!read_descriptor(es, tag, dc) || tag != kDecoderConfigDescrTag) {
    return invalid_data("esds: no DecoderConfigDescriptor");
  }
  uint8_t stream = 0;
  if (!dc.read_u8(out.object_type_indication) || !dc.read_u8(stream) ||
      !dc.read_u24(out.buffer_size_db) || !dc.read_u32(out.max_bitrate) ||
      !dc.read_u32(out.avg_bitrate)) {
    return truncated("esds: DecoderConfigDescriptor cut short");
  }
  out.stream_type = stream >> 2;
  while (!dc.at_end()) {
    ByteReader dsi;
    if (!read_descriptor(dc, tag, dsi)) return truncated("esds: descriptor cut short");
    if (tag == kDecSpecificInfoTag) {
      (void)dsi.read_bytes(dsi.remaining(), out.decoder_specific_info);
      break;
    }
  }
  return out;
}

Bytes write_esds(const EsDescriptor& es) {
  ByteWriter w;
  const size_t dsi_size = es.decoder_specific_info.size();
  const size_t dc_size = 13 + 5 + dsi_size;
  const size_t es_size = 3 + 5 + dc_size + 5 + 1;
  w.u32(0);  // version 0, flags 0
  write_descriptor_header(w, kEsDescrTag, es_size);
  w.u16(es.es_id);
  w.u8(0);
  write_descriptor_header(w, kDecoderConfigDescrTag, dc_size);
  w.u8(es.object_type_indication);
  w.u8(static_cast<uint8_t>(es.stream_type << 2 | 1));
  w.u24(es.buffer_size_db);
  w.u32(es.max_bitrate);
  w.u32(es.avg_bitrate);
  write_descriptor_header(w, kDecSpecificInfoTag, dsi_size);
  w.bytes(es.decoder_specific_info);
  write_descriptor_header(w, kSlConfigDescrTag, 1);
  w.u8(2);  // predefined: MP4
  return w.take();
}

}  // namespace ams::mp4
