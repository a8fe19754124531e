#include "ts/packet.h"

#include <algorithm>

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

Status write_pes_packets(ByteSpan pes, uint64_t packet_count, const PesMarks& marks,
                         uint8_t& continuity, ByteWriter& out) {
  if (packet_count < pes_packet_count(pes.size(), marks)) {
    return invalid_argument("PES needs more packets than were planned");
  }
  if (pes.size() < packet_count) {
    return invalid_data("PES too short for its planned packets (oversized parameter sets?)");
  }
  const size_t fixed = first_packet_adaptation_size(marks);
  size_t pos = 0;
  for (uint64_t i = 0; i < packet_count; ++i) {
    const size_t room = kPacketPayloadSize - (i == 0 ? fixed : 0);
    const size_t left = pes.size() - pos;
    const size_t take = std::min<size_t>(room, left - (packet_count - 1 - i));
    const size_t stuffing = room - take;
    const bool has_fixed = i == 0 && fixed > 0;
    write_packet_header(marks.pid, i == 0, has_fixed || stuffing > 0, continuity, out);
    continuity = (continuity + 1) & 0xf;
    if (has_fixed) {
      out.u8(static_cast<uint8_t>(fixed - 1 + stuffing));  // adaptation_field_length
      out.u8(static_cast<uint8_t>((marks.random_access ? 0x40 : 0) | (marks.pcr ? 0x10 : 0)));
      if (marks.pcr) {
        const uint64_t base = static_cast<uint64_t>(*marks.pcr & kMask33);
        out.u32(static_cast<uint32_t>(base >> 1));
        out.u16(static_cast<uint16_t>(((base & 1) << 15) | 0x7e00));  // reserved bits, extension 0
      }
      for (size_t k = 0; k < stuffing; ++k) out.u8(0xff);
    } else if (stuffing > 0) {
      out.u8(static_cast<uint8_t>(stuffing - 1));
      if (stuffing > 1) out.u8(0x00);  // no flags
      for (size_t k = 2; k < stuffing; ++k) out.u8(0xff);
    }
    out.bytes(pes.subspan(pos, take));
    pos += take;
  }
  return Status::ok();
}

}  // namespace ams::ts
