#include "base/bytes.h"

#include <gtest/gtest.h>

#include "base/status.h"
#include "base/time.h"

namespace ams {
namespace {

TEST(ByteReader, ReadsBigEndianAndStopsAtTheEnd) {
  const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  ByteReader r(data);
  uint32_t v32 = 0;
  uint16_t v16 = 0;
  ASSERT_TRUE(r.read_u32(v32));
  EXPECT_EQ(v32, 0x01020304u);
  ASSERT_TRUE(r.read_u16(v16));
  EXPECT_EQ(v16, 0x0506);
  EXPECT_FALSE(r.read_u16(v16));
  EXPECT_EQ(r.position(), 6u);
  uint8_t v8 = 0;
  ASSERT_TRUE(r.read_u8(v8));
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.skip(1));
}

TEST(ByteReader, ReadsSignedValues) {
  const uint8_t data[] = {0xff, 0xff, 0xff, 0xfe};
  ByteReader r(data);
  int32_t v = 0;
  ASSERT_TRUE(r.read_i32(v));
  EXPECT_EQ(v, -2);
}

TEST(ByteWriter, SizeOnlyModeCountsWhatItWouldWrite) {
  auto write = [](ByteWriter& w) {
    w.u32(7);
    w.fourcc("moov");
    w.u24(1);
    w.zeros(5);
    const uint8_t tail[] = {1, 2};
    w.bytes(tail);
  };
  ByteWriter real;
  ByteWriter counted = ByteWriter::size_only();
  write(real);
  write(counted);
  EXPECT_EQ(real.size(), 18u);
  EXPECT_EQ(counted.size(), real.size());
  EXPECT_TRUE(counted.bytes().empty());
  EXPECT_EQ(to_hex(ByteSpan(real.bytes()).first(8)), "000000076d6f6f76");
}

TEST(Time, RescaleIsExactAndFloors) {
  EXPECT_EQ(rescale(1024, 44100, kManifestTimescale), 232199);
  EXPECT_EQ(rescale(-1, 3, 10), -4);
  // Ten hours of 23.976 fps frames at timescale 24000: no drift from absolute conversion.
  int64_t frames = 10 * 3600 * 24;
  EXPECT_EQ(rescale(frames * 1001, 24000, kManifestTimescale), 360360000000);
  EXPECT_EQ(rescale_round(5, 10, 1), 1);
}

TEST(Status, CarriesCodeMessageAndContext) {
  Status s = invalid_data("bad size");
  s.with_context("moov/trak[1]");
  EXPECT_FALSE(s.is_ok());
  EXPECT_EQ(s.to_string(), "invalid-data: moov/trak[1]: bad size");
  Result<int> r = 5;
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, 5);
  Result<int> e = not_found("x");
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ams
