#include "ts/packet.h"

#include <gtest/gtest.h>

#include <string_view>

namespace ams::ts {
namespace {

ByteSpan text(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(TsPacket, Crc32Mpeg2CheckValue) {
  EXPECT_EQ(crc32_mpeg2(text("123456789")), 0x0376e6e7u);
}

TEST(TsPacket, PatMatchesTheBytesFfmpegWrites) {
  ByteWriter w;
  write_pat(5, w);
  ASSERT_EQ(w.size(), kPacketSize);
  const Bytes head = {0x47, 0x40, 0x00, 0x15, 0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1,
                      0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2};
  EXPECT_EQ(Bytes(w.bytes().begin(), w.bytes().begin() + head.size()), head);
  for (size_t i = head.size(); i < kPacketSize; ++i) ASSERT_EQ(w.bytes()[i], 0xff) << i;
}

TEST(TsPacket, PmtForH264AndAacMatchesTheBytesFfmpegWrites) {
  const PmtEntry streams[] = {{0x1b, kVideoPid, {}}, {0x0f, kAudioPid, {}}};
  ByteWriter w;
  write_pmt(kVideoPid, streams, 0, w);
  ASSERT_EQ(w.size(), kPacketSize);
  const Bytes head = {0x47, 0x50, 0x00, 0x10, 0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1,
                      0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00,
                      0x0f, 0xe1, 0x01, 0xf0, 0x00, 0x2f, 0x44, 0xb9, 0x9b};
  EXPECT_EQ(Bytes(w.bytes().begin(), w.bytes().begin() + head.size()), head);
  EXPECT_EQ(w.bytes()[head.size()], 0xff);
}

TEST(TsPacket, PmtCarriesDescriptorsAndTheirCrc) {
  const uint8_t reg[] = {0x05, 0x04, 'A', 'C', '-', '3'};
  const PmtEntry streams[] = {{0x81, kAudioPid, reg}};
  ByteWriter w;
  write_pmt(kAudioPid, streams, 0, w);
  const Bytes& b = w.bytes();
  EXPECT_EQ(b[7], 0x18);   // section_length: 9 + 5 + 6 + 4
  EXPECT_EQ(b[13], 0xe1);  // PCR PID 0x101
  EXPECT_EQ(b[14], 0x01);
  EXPECT_EQ(Bytes(b.begin() + 17, b.begin() + 28),
            (Bytes{0x81, 0xe1, 0x01, 0xf0, 0x06, 0x05, 0x04, 'A', 'C', '-', '3'}));
  // The CRC of a section including its CRC is 0.
  EXPECT_EQ(crc32_mpeg2(ByteSpan(b).subspan(5, 3 + 0x18)), 0u);
}

TEST(TsPacket, PesHeaderTimestampBits) {
  ByteWriter w;
  write_pes_header(0xc0, 900000, std::nullopt, 100, false, w);
  EXPECT_EQ(w.bytes(), (Bytes{0, 0, 1, 0xc0, 0, 108, 0x80, 0x80, 5, 0x21, 0x00, 0x37, 0x77, 0x41}));

  ByteWriter v;
  const int64_t top = (int64_t{1} << 33) - 1;  // every PTS bit set
  write_pes_header(0xe0, top, 900000, 70000, true, v);
  EXPECT_EQ(v.bytes(), (Bytes{0, 0, 1, 0xe0, 0, 0, 0x84, 0xc0, 10, 0x3f, 0xff, 0xff, 0xff, 0xff,
                              0x11, 0x00, 0x37, 0x77, 0x41}));
  ByteWriter wrap;
  write_pes_header(0xc0, top + 1 + 900000, std::nullopt, 0, false, wrap);  // 33-bit wrap
  EXPECT_EQ(Bytes(wrap.bytes().begin() + 9, wrap.bytes().end()),
            (Bytes{0x21, 0x00, 0x37, 0x77, 0x41}));
}

TEST(TsPacket, OnePacketWithAndWithoutStuffing) {
  const Bytes full(184, 0xab);
  uint8_t cc = 15;
  ByteWriter w;
  ASSERT_TRUE(write_pes_packets(full, 1, {kAudioPid, false, std::nullopt}, cc, w).is_ok());
  EXPECT_EQ(cc, 0);
  EXPECT_EQ(Bytes(w.bytes().begin(), w.bytes().begin() + 5), (Bytes{0x47, 0x41, 0x01, 0x1f, 0xab}));

  const Bytes short_by_one(183, 0xab);
  ByteWriter s;
  ASSERT_TRUE(write_pes_packets(short_by_one, 1, {kAudioPid, false, std::nullopt}, cc, s).is_ok());
  EXPECT_EQ(Bytes(s.bytes().begin(), s.bytes().begin() + 6),
            (Bytes{0x47, 0x41, 0x01, 0x30, 0x00, 0xab}));  // adaptation field of length 0
  EXPECT_EQ(s.size(), kPacketSize);
}

TEST(TsPacket, LastPacketStuffedAndFirstMarked) {
  const Bytes pes(185, 0xab);
  const PesMarks marks{kVideoPid, true, 900000};
  EXPECT_EQ(pes_packet_count(pes.size(), marks), 2u);
  EXPECT_EQ(pes_packet_count(176, marks), 1u);
  EXPECT_EQ(pes_packet_count(177, marks), 2u);
  uint8_t cc = 3;
  ByteWriter w;
  ASSERT_TRUE(write_pes_packets(pes, 2, marks, cc, w).is_ok());
  ASSERT_EQ(w.size(), 2 * kPacketSize);
  const Bytes& b = w.bytes();
  // Adaptation field: length 7, RAI + PCR flags, PCR base 900000 = 450000 << 1, extension 0.
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 12),
            (Bytes{0x47, 0x41, 0x00, 0x33, 0x07, 0x50, 0x00, 0x06, 0xdd, 0xd0, 0x7e, 0x00}));
  // 176 bytes in the first packet, 9 in the second after 175 bytes of stuffing.
  EXPECT_EQ(Bytes(b.begin() + 188, b.begin() + 194), (Bytes{0x47, 0x01, 0x00, 0x34, 174, 0x00}));
  EXPECT_EQ(b[194], 0xff);
  EXPECT_EQ(b[188 + 179], 0xab);
  EXPECT_EQ(b[188 + 178], 0xff);
  EXPECT_EQ(cc, 5);
}

TEST(TsPacket, SpreadsShortPesOverThePlannedPackets) {
  const Bytes pes(10, 0xab);
  uint8_t cc = 0;
  ByteWriter w;
  ASSERT_TRUE(write_pes_packets(pes, 3, {kVideoPid, false, std::nullopt}, cc, w).is_ok());
  ASSERT_EQ(w.size(), 3 * kPacketSize);
  for (size_t p = 0; p < 3; ++p) {
    EXPECT_EQ(w.bytes()[p * kPacketSize + 3] & 0xf, p);
    EXPECT_EQ(w.bytes()[p * kPacketSize + kPacketSize - 1], 0xab);  // payload ends every packet
  }
  EXPECT_EQ(w.bytes()[4], 175);  // first packet: 8 payload bytes after 176 of adaptation field
  const Bytes two(2, 0xab);
  ByteWriter fail;
  EXPECT_FALSE(write_pes_packets(two, 3, {kVideoPid, false, std::nullopt}, cc, fail).is_ok());
  EXPECT_FALSE(
      write_pes_packets(Bytes(400, 1), 2, {kVideoPid, false, std::nullopt}, cc, fail).is_ok());
}

}  // namespace
}  // namespace ams::ts
