#include "ts/packet.h"

#include <algorithm>
#include <cstring>

namespace ams::ts {
namespace {

constexpr uint8_t kSyncByte = 0x47;
constexpr int64_t kMask33 = (int64_t{1} << 33) - 1;

void write_packet_header(uint16_t pid, bool unit_start, bool adaptation, uint8_t continuity,
                         ByteWriter& out) {
  out.u8(kSyncByte);
  out.u8(static_cast<uint8_t>((unit_start ? 0x40 : 0) | ((pid >> 8) & 0x1f)));
  out.u8(static_cast<uint8_t>(pid));
  out.u8(static_cast<uint8_t>((adaptation ? 0x30 : 0x10) | (continuity & 0xf)));
}

// A PSI section (table id through CRC) in one packet, pointer_field 0, 0xFF after it.
void write_section_packet(uint16_t pid, const Bytes& section_body, uint8_t continuity,
                          ByteWriter& out) {
  write_packet_header(pid, true, false, continuity, out);
  out.u8(0);  // pointer_field
  out.bytes(section_body);
  out.u32(crc32_mpeg2(section_body));
  const size_t used = 4 + 1 + section_body.size() + 4;
  for (size_t i = used; i < kPacketSize; ++i) out.u8(0xff);
}

void write_timestamp(uint8_t prefix, int64_t t, ByteWriter& out) {
  const uint64_t v = static_cast<uint64_t>(t & kMask33);
  out.u8(static_cast<uint8_t>((prefix << 4) | ((v >> 29) & 0x0e) | 1));
  out.u16(static_cast<uint16_t>(((v >> 14) & 0xfffe) | 1));
  out.u16(static_cast<uint16_t>(((v << 1) & 0xfffe) | 1));
}

}  // namespace

uint32_t crc32_mpeg2(ByteSpan data) {
  uint32_t crc = 0xffffffff;
  for (uint8_t b : data) {
    crc ^= static_cast<uint32_t>(b) << 24;
    for (int i = 0; i < 8; ++i) crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
  }
  return crc;
}

void write_pat(uint8_t continuity, ByteWriter& out) {
  ByteWriter s;
  s.u8(0x00);          // table_id: program_association_section
  s.u16(0xb000 | 13);  // section_syntax_indicator, reserved, section_length
  s.u16(kTransportStreamId);
  s.u8(0xc1);  // version 0, current_next_indicator
  s.u8(0);     // section_number
  s.u8(0);     // last_section_number
  s.u16(kProgramNumber);
  s.u16(0xe000 | kPmtPid);
  write_section_packet(kPatPid, s.bytes(), continuity, out);
}

void write_pmt(uint16_t pcr_pid, std::span<const PmtEntry> streams, uint8_t continuity,
               ByteWriter& out) {
  size_t length = 9 + 4;
  for (const PmtEntry& e : streams) length += 5 + e.descriptors.size();
  ByteWriter s;
  s.u8(0x02);  // table_id: TS_program_map_section
  s.u16(static_cast<uint16_t>(0xb000 | length));
  s.u16(kProgramNumber);
  s.u8(0xc1);
  s.u8(0);
  s.u8(0);
  s.u16(static_cast<uint16_t>(0xe000 | pcr_pid));
  s.u16(0xf000);  // program_info_length 0
  for (const PmtEntry& e : streams) {
    s.u8(e.stream_type);
    s.u16(static_cast<uint16_t>(0xe000 | e.pid));
    s.u16(static_cast<uint16_t>(0xf000 | e.descriptors.size()));
    s.bytes(e.descriptors);
  }
  write_section_packet(kPmtPid, s.bytes(), continuity, out);
}

void write_pes_header(uint8_t stream_id, int64_t pts, std::optional<int64_t> dts, size_t es_size,
                      bool data_alignment, ByteWriter& out) {
  const size_t after_length = pes_header_size(dts.has_value()) - 6 + es_size;
  out.u24(1);
  out.u8(stream_id);
  out.u16(after_length > 0xffff ? 0 : static_cast<uint16_t>(after_length));
  out.u8(data_alignment ? 0x84 : 0x80);
  out.u8(dts ? 0xc0 : 0x80);
  out.u8(dts ? 10 : 5);
  write_timestamp(dts ? 3 : 2, pts, out);
  if (dts) write_timestamp(1, *dts, out);
}

size_t first_packet_adaptation_size(const PesMarks& marks) {
  if (marks.pcr) return 8;
  return marks.random_access ? 2 : 0;
}

uint64_t pes_packet_count(size_t pes_size, const PesMarks& marks) {
  const size_t first = kPacketPayloadSize - first_packet_adaptation_size(marks);
  if (pes_size <= first) return 1;
  return 1 + (pes_size - first + kPacketPayloadSize - 1) / kPacketPayloadSize;
}

Status write_pes_packets(ByteSpan header, const EsPieces& es, uint64_t packet_count,
                         const PesMarks& marks, uint8_t& continuity, ByteWriter& out) {
  const size_t total = header.size() + es.size();
  if (packet_count < pes_packet_count(total, marks)) {
    return invalid_argument("PES needs more packets than were planned");
  }
  if (total < packet_count) {
    return invalid_data("PES too short for its planned packets (oversized parameter sets?)");
  }
  uint8_t* dst = out.append_space(packet_count * kPacketSize);
  if (dst == nullptr) {  // counting
    continuity = static_cast<uint8_t>((continuity + packet_count) & 0xf);
    return Status::ok();
  }
  // The bytes to copy, header first, as (span, position in it).
  std::vector<ByteSpan> spans;
  spans.push_back(header);
  es.for_each([&](ByteSpan piece) { spans.push_back(piece); });
  size_t span = 0;
  size_t in_span = 0;
  auto copy = [&](uint8_t* to, size_t n) {
    while (n > 0) {
      while (in_span == spans[span].size()) {
        ++span;
        in_span = 0;
      }
      const size_t k = std::min(n, spans[span].size() - in_span);
      std::memcpy(to, spans[span].data() + in_span, k);
      to += k;
      n -= k;
      in_span += k;
    }
  };
  const size_t fixed = first_packet_adaptation_size(marks);
  size_t pos = 0;
  for (uint64_t i = 0; i < packet_count; ++i, dst += kPacketSize) {
    const size_t room = kPacketPayloadSize - (i == 0 ? fixed : 0);
    const size_t left = total - pos;
    const size_t take = std::min<size_t>(room, left - (packet_count - 1 - i));
    const size_t stuffing = room - take;
    const bool has_fixed = i == 0 && fixed > 0;
    const bool adaptation = has_fixed || stuffing > 0;
    dst[0] = kSyncByte;
    dst[1] = static_cast<uint8_t>((i == 0 ? 0x40 : 0) | ((marks.pid >> 8) & 0x1f));
    dst[2] = static_cast<uint8_t>(marks.pid);
    dst[3] = static_cast<uint8_t>((adaptation ? 0x30 : 0x10) | (continuity & 0xf));
    continuity = (continuity + 1) & 0xf;
    uint8_t* p = dst + 4;
    if (has_fixed) {
      *p++ = static_cast<uint8_t>(fixed - 1 + stuffing);  // adaptation_field_length
      *p++ = static_cast<uint8_t>((marks.random_access ? 0x40 : 0) | (marks.pcr ? 0x10 : 0));
      if (marks.pcr) {
        const uint64_t base = static_cast<uint64_t>(*marks.pcr & kMask33);
        const uint32_t high = static_cast<uint32_t>(base >> 1);
        const uint16_t low = static_cast<uint16_t>(((base & 1) << 15) | 0x7e00);  // reserved, ext 0
        *p++ = static_cast<uint8_t>(high >> 24);
        *p++ = static_cast<uint8_t>(high >> 16);
        *p++ = static_cast<uint8_t>(high >> 8);
        *p++ = static_cast<uint8_t>(high);
        *p++ = static_cast<uint8_t>(low >> 8);
        *p++ = static_cast<uint8_t>(low);
      }
      std::memset(p, 0xff, stuffing);
      p += stuffing;
    } else if (stuffing > 0) {
      *p++ = static_cast<uint8_t>(stuffing - 1);
      if (stuffing > 1) *p++ = 0x00;  // no flags
      if (stuffing > 2) std::memset(p, 0xff, stuffing - 2);
      p += stuffing > 2 ? stuffing - 2 : 0;
    }
    copy(p, take);
    pos += take;
  }
  return Status::ok();
}

Status write_pes_packets(ByteSpan pes, uint64_t packet_count, const PesMarks& marks,
                         uint8_t& continuity, ByteWriter& out) {
  return write_pes_packets(pes, EsPieces(), packet_count, marks, continuity, out);
}

}  // namespace ams::ts
