#include "mp4/boxes.h"

#include <gtest/gtest.h>

#include "mp4/esds.h"

namespace ams::mp4 {
namespace {

template <typename B>
Bytes write(const B& box) {
  ByteWriter w;
  write_box(w, box);
  return w.take();
}

template <typename B>
B round_trip(const B& box) {
  Bytes bytes = write(box);
  EXPECT_EQ(bytes.size(), box_size(box));
  B out;
  Status s = read_box(bytes, out);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(write(out), bytes) << "re-written bytes differ";
  return out;
}

TEST(Mp4Box, HeaderReadsCompact64BitAndToEndSizes) {
  const uint8_t compact[] = {0, 0, 0, 8, 'f', 'r', 'e', 'e'};
  ByteReader r(compact);
  BoxHeader h;
  ASSERT_TRUE(read_box_header(r, sizeof compact, h).is_ok());
  EXPECT_EQ(h.type, fourcc("free"));
  EXPECT_EQ(h.size, 8u);

  const uint8_t large[] = {0, 0, 0, 1, 'm', 'd', 'a', 't', 0, 0, 0, 0, 0, 0, 0, 16};
  ByteReader r2(large);
  ASSERT_TRUE(read_box_header(r2, sizeof large, h).is_ok());
  EXPECT_EQ(h.header_size, 16u);
  EXPECT_EQ(h.size, 16u);

  const uint8_t to_end[] = {0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2, 3};
  ByteReader r3(to_end);
  ASSERT_TRUE(read_box_header(r3, sizeof to_end, h).is_ok());
  EXPECT_TRUE(h.to_end);
  EXPECT_EQ(h.size, sizeof to_end);
}

TEST(Mp4Box, HeaderRejectsSizesPastTheEndAndSmallerThanTheHeader) {
  const uint8_t past_end[] = {0, 0, 0, 100, 'm', 'o', 'o', 'v', 0, 0};
  ByteReader r(past_end);
  BoxHeader h;
  Status s = read_box_header(r, sizeof past_end, h);
  EXPECT_EQ(s.code(), StatusCode::kTruncated);
  EXPECT_NE(s.message().find("exceeds"), std::string::npos) << s.message();
  EXPECT_EQ(r.position(), 0u);

  const uint8_t tiny[] = {0, 0, 0, 4, 'm', 'o', 'o', 'v'};
  ByteReader r2(tiny);
  EXPECT_EQ(read_box_header(r2, sizeof tiny, h).code(), StatusCode::kInvalidData);

  const uint8_t huge64[] = {0,    0,    0,    1,    'm',  'd',  'a',  't',
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  ByteReader r3(huge64);
  EXPECT_EQ(read_box_header(r3, sizeof huge64, h).code(), StatusCode::kTruncated);
}

TEST(Mp4Box, FullBoxesRoundTrip) {
  Mvhd mvhd;
  mvhd.timescale = 90000;
  mvhd.duration = 1ull << 33;
  mvhd.version = 1;
  EXPECT_EQ(round_trip(mvhd).duration, 1ull << 33);
  EXPECT_EQ(box_size(mvhd), 120u);

  Tkhd tkhd;
  tkhd.track_id = 7;
  tkhd.width = 1280u << 16;
  tkhd.height = 720u << 16;
  EXPECT_EQ(round_trip(tkhd).width >> 16, 1280u);
  EXPECT_EQ(box_size(tkhd), 92u);

  Mdhd mdhd;
  mdhd.timescale = 48000;
  mdhd.language = "fre";
  EXPECT_EQ(round_trip(mdhd).language, "fre");

  Hdlr hdlr;
  hdlr.handler_type = fourcc("soun");
  hdlr.name = "SoundHandler";
  EXPECT_EQ(round_trip(hdlr).name, "SoundHandler");
}

TEST(Mp4Box, SampleTablesRoundTrip) {
  Stbl stbl;
  stbl.stts.entries = {{10, 1001}, {1, 500}};
  stbl.ctts = Ctts{};
  stbl.ctts->version = 1;
  stbl.ctts->entries = {{1, 2002}, {1, -1001}};
  stbl.stss = Stss{};
  stbl.stss->sample_numbers = {1, 6};
  stbl.stsc.entries = {{1, 4, 1}, {3, 3, 1}};
  stbl.stsz = Stsz{};
  stbl.stsz->sizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  stbl.stco = Stco{};
  stbl.stco->offsets = {100, 200, 300};
  SampleEntry avc;
  avc.format = fourcc("avc1");
  avc.width = 640;
  avc.height = 360;
  avc.children.push_back({fourcc("avcC"), {1, 0x64, 0, 0x1f, 0xff, 0xe0, 0}});
  stbl.stsd.entries.push_back(avc);
  Stbl out = round_trip(stbl);
  ASSERT_TRUE(out.ctts.has_value());
  EXPECT_EQ(out.ctts->entries[1].offset, -1001);
  EXPECT_EQ(out.stsz->sizes.size(), 11u);
  EXPECT_EQ(out.stsd.entries[0].width, 640);
  ASSERT_NE(out.stsd.entries[0].child(fourcc("avcC")), nullptr);
  EXPECT_EQ(out.stsd.entries[0].child(fourcc("avcC"))->payload.size(), 7u);
}

// A uuid child of a sample entry (encoders put vendor data there) keeps its 16-byte extended
// type: written back and read again it is the same box (found by box_fuzzer).
TEST(Mp4Box, SampleEntryUuidChildRoundTrips) {
  Stsd stsd;
  SampleEntry avc;
  avc.format = fourcc("avc1");
  Bytes uuid(19, 0xab);  // the extended type, then three bytes of payload
  uuid[16] = 1, uuid[17] = 2, uuid[18] = 3;
  avc.children.push_back({fourcc("uuid"), uuid});
  stsd.entries.push_back(avc);
  Stsd once = round_trip(stsd);
  ASSERT_NE(once.entries[0].child(fourcc("uuid")), nullptr);
  EXPECT_EQ(once.entries[0].child(fourcc("uuid"))->payload, uuid);
  Stsd twice = round_trip(once);
  EXPECT_EQ(twice.entries[0].child(fourcc("uuid"))->payload, uuid);
}

TEST(Mp4Box, SampleEntryOfFormatUuidKeepsItsExtendedType) {
  Stsd stsd;
  SampleEntry entry;
  entry.format = fourcc("uuid");
  entry.usertype = Bytes(16, 0xcd);
  entry.opaque = {1, 2, 3, 4};
  stsd.entries.push_back(entry);
  Stsd once = round_trip(stsd);
  EXPECT_EQ(once.entries[0].usertype, entry.usertype);
  EXPECT_EQ(once.entries[0].opaque, entry.opaque);
  Stsd twice = round_trip(once);
  EXPECT_EQ(twice.entries[0].usertype, entry.usertype);
  EXPECT_EQ(twice.entries[0].opaque, entry.opaque);
}

TEST(Mp4Box, AudioSampleEntryKeepsRateChannelsAndConfig) {
  Stsd stsd;
  SampleEntry mp4a;
  mp4a.format = fourcc("mp4a");
  mp4a.channel_count = 2;
  mp4a.sample_rate = 44100;
  EsDescriptor es;
  es.decoder_specific_info = {0x12, 0x10};
  es.avg_bitrate = 128000;
  mp4a.children.push_back({fourcc("esds"), write_esds(es)});
  stsd.entries.push_back(mp4a);
  Stsd out = round_trip(stsd);
  EXPECT_EQ(out.entries[0].sample_rate, 44100u);
  auto parsed = parse_esds(out.entries[0].child(fourcc("esds"))->payload);
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->decoder_specific_info, (Bytes{0x12, 0x10}));
  EXPECT_EQ(parsed->avg_bitrate, 128000u);
  EXPECT_EQ(parsed->object_type_indication, 0x40);
}

TEST(Mp4Box, FragmentBoxesRoundTrip) {
  Moof moof;
  moof.mfhd.sequence_number = 5;
  Traf traf;
  traf.tfhd.track_id = 2;
  traf.tfhd.flags |= Tfhd::kDefaultSampleFlags;
  traf.tfhd.default_sample_flags = kSampleFlagsNonSync;
  traf.tfdt = Tfdt{};
  traf.tfdt->base_media_decode_time = 1ull << 40;
  Trun trun;
  trun.flags |= Trun::kSampleCompositionOffset | Trun::kFirstSampleFlags;
  trun.entries = {{1000, 50, 0, -2000}, {1000, 60, 0, 3000}};
  traf.truns.push_back(trun);
  moof.trafs.push_back(traf);
  Moof out = round_trip(moof);
  ASSERT_EQ(out.trafs.size(), 1u);
  EXPECT_EQ(out.trafs[0].tfdt->base_media_decode_time, 1ull << 40);
  EXPECT_EQ(out.trafs[0].truns[0].entries[0].composition_offset, -2000);

  Sidx sidx;
  sidx.timescale = 10000000;
  sidx.references.push_back({false, 1234, 20000000, true, 1, 0});
  EXPECT_EQ(round_trip(sidx).references[0].referenced_size, 1234u);
}

TEST(Mp4Box, TfxdWritesTheSmoothUuid) {
  Tfxd tfxd;
  tfxd.time = 20000000;
  tfxd.duration = 20000000;
  Bytes bytes = write(tfxd);
  ASSERT_EQ(bytes.size(), 8u + 16u + 4u + 16u);
  EXPECT_EQ(to_hex(ByteSpan(bytes).subspan(4, 4 + 16)), "757569646d1d9b0542d544e680e2141daff757b2");
  Tfxd out;
  ASSERT_TRUE(read_box(bytes, out).is_ok());
  EXPECT_EQ(out.time, 20000000u);
}

TEST(Mp4Box, CountsLargerThanTheBoxAreRejectedBeforeAllocating) {
  // stsz claiming 2^32-1 sizes in a 20-byte box.
  const uint8_t stsz[] = {0, 0, 0, 20, 's', 't', 's',  'z',  0,    0,
                          0, 0, 0, 0,  0,   0,   0xff, 0xff, 0xff, 0xff};
  Stsz box;
  EXPECT_FALSE(read_box(stsz, box).is_ok());
  // stts with an entry count far past its payload.
  const uint8_t stts[] = {0, 0, 0, 16, 's', 't', 't', 's', 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
  Stts stts_box;
  EXPECT_FALSE(read_box(stts, stts_box).is_ok());
  // trun with flags that carry nothing per sample and a huge count.
  const uint8_t trun[] = {0, 0, 0, 16, 't', 'r', 'u', 'n', 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  Trun trun_box;
  EXPECT_FALSE(read_box(trun, trun_box).is_ok());
}

TEST(Mp4Box, ChildOverrunningItsParentFails) {
  // A moov whose child claims more bytes than the moov holds.
  const uint8_t moov[] = {0, 0, 0, 16, 'm', 'o', 'o', 'v', 0, 0, 0, 200, 'm', 'v', 'h', 'd'};
  Moov box;
  EXPECT_FALSE(read_box(moov, box).is_ok());
}

TEST(Mp4Box, MfraRoundTripsWithEveryNumberSize) {
  Mfra mfra;
  Tfra tfra;
  tfra.track_id = 2;
  tfra.length_size_of_traf_num = 0;
  tfra.length_size_of_trun_num = 1;
  tfra.length_size_of_sample_num = 3;
  tfra.entries = {{0, 1000, 1, 2, 1}, {1ull << 35, 1ull << 33, 1, 300, 70000}};
  mfra.tfra.push_back(tfra);
  mfra.mfro = Mfro{};
  mfra.mfro->size = 16;
  Mfra out = round_trip(mfra);
  ASSERT_EQ(out.tfra.size(), 1u);
  ASSERT_EQ(out.tfra[0].entries.size(), 2u);
  EXPECT_EQ(out.tfra[0].entries[1].time, 1ull << 35);
  EXPECT_EQ(out.tfra[0].entries[1].trun_number, 300u);
  EXPECT_EQ(out.tfra[0].entries[1].sample_number, 70000u);
  EXPECT_EQ(out.mfro->size, 16u);
  // Each entry: 8 + 8 (version 1) + 1 + 2 + 4 bytes.
  EXPECT_EQ(box_size(tfra), 8u + 4u + 4u + 4u + 4u + 2u * 23u);
}

TEST(Mp4Box, Stz2ReadsFourBitSizes) {
  Stz2 stz2;
  stz2.field_size = 4;
  stz2.sizes = {1, 2, 3};
  Stz2 out = round_trip(stz2);
  EXPECT_EQ(out.sizes, (std::vector<uint32_t>{1, 2, 3}));
}

}  // namespace
}  // namespace ams::mp4
