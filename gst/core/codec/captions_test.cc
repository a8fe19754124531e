#include "codec/captions.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace ams::codec {
namespace {

// An SEI NAL unit (H.264 type 6, or HEVC prefix SEI 39) holding one GA94 cc_data message with
// these (cc_type, byte 1, byte 2) triplets, length-prefixed with 4 bytes.
Bytes sample_with(const std::vector<std::array<uint8_t, 3>>& triplets, NalFormat format) {
  Bytes t35 = {
      0xB5, 0x00, 0x31, 'G', 'A', '9', '4', 0x03, static_cast<uint8_t>(0x40 | triplets.size()),
      0xFF};
  for (const auto& [type, b1, b2] : triplets) {
    t35.push_back(static_cast<uint8_t>(0xF8 | 0x04 | type));  // marker bits, cc_valid
    t35.push_back(b1);
    t35.push_back(b2);
  }
  t35.push_back(0xFF);  // marker_bits
  Bytes nal = format == NalFormat::kAvc ? Bytes{0x06} : Bytes{39 << 1, 0x01};
  nal.push_back(4);  // payload type 4
  nal.push_back(static_cast<uint8_t>(t35.size()));
  // Emulation prevention: a 00 00 0x (x <= 3) in the payload gets a 03 before x.
  size_t zeros = 0;
  for (uint8_t b : t35) {
    if (zeros >= 2 && b <= 3) {
      nal.push_back(3);
      zeros = 0;
    }
    zeros = b == 0 ? zeros + 1 : 0;
    nal.push_back(b);
  }
  nal.push_back(0x80);  // rbsp trailing bits
  ByteWriter out;
  out.u32(static_cast<uint32_t>(nal.size()));
  out.bytes(nal);
  // A slice NAL after it, which is not looked into.
  out.u32(3);
  for (uint8_t b : {0x65, 0x88, 0x84}) out.u8(b);
  return out.take();
}

Cea608Channels scan(const std::vector<Bytes>& samples, NalFormat format = NalFormat::kAvc) {
  Cea608ScanState state;
  Cea608Channels channels = 0;
  for (const Bytes& s : samples) scan_cea608(s, 4, format, state, channels);
  return channels;
}

TEST(Cea608, FindsTheChannelsOfEachField) {
  // Field 1: RCL on CC1 (0x14 0x20 with odd parity), then "HI"; padding alone says nothing.
  EXPECT_EQ(scan({sample_with({{0, 0x94, 0x20}, {0, 0xC8, 0x49}}, NalFormat::kAvc)}), 0b0001);
  EXPECT_EQ(scan({sample_with({{0, 0x80, 0x80}, {1, 0x80, 0x80}}, NalFormat::kAvc)}), 0);
  // A CC2 control code (0x1C) moves field 1's text to CC2, in this sample and the next.
  EXPECT_EQ(scan({sample_with({{0, 0x1C, 0x20}}, NalFormat::kAvc),
                  sample_with({{0, 0xC8, 0x49}}, NalFormat::kAvc)}),
            0b0010);
  // Field 2: CC3 (0x15), then CC4 (0x1D); HEVC's prefix SEI carries them alike.
  EXPECT_EQ(
      scan({sample_with({{1, 0x15, 0x20}, {1, 0x9D, 0x20}}, NalFormat::kHevc)}, NalFormat::kHevc),
      0b1100);
  // CEA-708 triplets (types 2 and 3) are not 608 channels.
  EXPECT_EQ(scan({sample_with({{3, 0x02, 0x21}, {2, 0x10, 0x20}}, NalFormat::kAvc)}), 0);
  // Text bytes with the parity bit clear and a pair with 00 00 that needs emulation prevention.
  EXPECT_EQ(
      scan({sample_with({{0, 0x00, 0x00}, {0, 0x00, 0x01}, {0, 0x14, 0x2F}}, NalFormat::kAvc)}),
      0b0001);
}

TEST(Cea608, MalformedSeiIsSkippedNotAnError) {
  Bytes good = sample_with({{0, 0x94, 0x20}}, NalFormat::kAvc);
  // Every truncation of the sample: no crash, and nothing found past what is there.
  for (size_t n = 0; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + n);
    Cea608ScanState state;
    Cea608Channels channels = 0;
    scan_cea608(cut, 4, NalFormat::kAvc, state, channels);
    EXPECT_LE(channels, 0b0001);
  }
  // An SEI whose payload size runs past the NAL, and one that is not GA94.
  Bytes bad = {0, 0, 0, 4, 0x06, 4, 0xF0, 0xB5};
  EXPECT_EQ(scan({bad}), 0);
  Bytes other = sample_with({{0, 0x94, 0x20}}, NalFormat::kAvc);
  other[10] = 'X';  // "GA94" -> "XA94"
  EXPECT_EQ(scan({other}), 0);
}

}  // namespace
}  // namespace ams::codec
