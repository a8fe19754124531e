#include "fmp4/writer.h"

#include <gtest/gtest.h>

#include "base/time.h"
#include "fmp4/test_tracks.h"
#include "mp4/boxes.h"
#include "mp4/esds.h"

namespace ams::fmp4 {
namespace {

using mp4::fourcc;
using test::audio_track;
using test::effective_flags;
using test::parse_fragment;
using test::payload_for;
using test::video_track;

constexpr Variant kAllVariants[] = {Variant::kCmaf, Variant::kDash, Variant::kSmooth};

Bytes init_segment(const model::Track& t, Variant v) {
  ByteWriter w;
  Status s = write_init_segment(t, v, w);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return w.take();
}

Bytes fragment(const model::Track& t, size_t i, Variant v) {
  test::TestPayload p = payload_for(t, i);
  ByteWriter w;
  Status s = write_fragment(t, i, v, p.spans, w);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return w.take();
}

// Splits an init segment into its ftyp bytes and its parsed moov.
mp4::Moov read_moov(const Bytes& init, size_t ftyp_size) {
  mp4::Moov moov;
  Status s = mp4::read_box(ByteSpan(init).subspan(ftyp_size), moov);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return moov;
}

TEST(Fmp4Init, CmafBrandsBytesAndTheMoovReadBack) {
  model::Track t = video_track();
  Bytes init = init_segment(t, Variant::kCmaf);
  // ftyp: major cmfc, minor 0, compatible cmfc iso6 isom.
  EXPECT_EQ(to_hex(ByteSpan(init).first(28)),
            "0000001c"
            "66747970"
            "636d6663"
            "00000000"
            "636d6663"
            "69736f36"
            "69736f6d");
  mp4::Moov moov = read_moov(init, 28);
  EXPECT_EQ(moov.mvhd.timescale, 30000u);
  EXPECT_EQ(moov.mvhd.next_track_id, 2u);
  ASSERT_EQ(moov.traks.size(), 1u);
  const mp4::Trak& trak = moov.traks[0];
  EXPECT_EQ(trak.tkhd.track_id, kTrackId);
  EXPECT_EQ(trak.tkhd.width, 640u << 16);
  EXPECT_EQ(trak.tkhd.height, 360u << 16);
  // B-frames: one offset edit of duration 0 takes the decode lead off the fragments' unsigned
  // composition offsets.
  ASSERT_TRUE(trak.edts);
  ASSERT_EQ(trak.edts->elst.entries.size(), 1u);
  EXPECT_EQ(trak.edts->elst.entries[0].segment_duration, 0u);
  EXPECT_EQ(trak.edts->elst.entries[0].media_time, test::kFrame);
  EXPECT_EQ(trak.edts->elst.entries[0].rate_integer, 1);
  EXPECT_EQ(trak.mdia.mdhd.timescale, 30000u);
  EXPECT_EQ(trak.mdia.mdhd.language, "und");
  EXPECT_EQ(trak.mdia.hdlr.handler_type, fourcc("vide"));
  EXPECT_TRUE(trak.mdia.minf.vmhd);
  EXPECT_TRUE(trak.mdia.minf.dinf);
  const mp4::Stbl& stbl = trak.mdia.minf.stbl;
  ASSERT_EQ(stbl.stsd.entries.size(), 1u);
  const mp4::SampleEntry& e = stbl.stsd.entries[0];
  EXPECT_EQ(e.format, fourcc("avc1"));
  EXPECT_EQ(e.width, 640);
  EXPECT_EQ(e.height, 360);
  ASSERT_NE(e.child(fourcc("avcC")), nullptr);
  EXPECT_EQ(e.child(fourcc("avcC"))->payload, test::kAvcc);
  EXPECT_TRUE(stbl.stts.entries.empty());
  EXPECT_TRUE(stbl.stsc.entries.empty());
  ASSERT_TRUE(stbl.stsz);
  EXPECT_EQ(stbl.stsz->sample_count, 0u);
  ASSERT_TRUE(stbl.stco);
  EXPECT_TRUE(stbl.stco->offsets.empty());
  ASSERT_TRUE(moov.mvex);
  ASSERT_EQ(moov.mvex->trex.size(), 1u);
  EXPECT_EQ(moov.mvex->trex[0].track_id, kTrackId);
  EXPECT_EQ(moov.mvex->trex[0].default_sample_description_index, 1u);
  ASSERT_TRUE(moov.mvex->mehd);
  EXPECT_EQ(moov.mvex->mehd->fragment_duration, 12u * test::kFrame);
}

TEST(Fmp4Init, DashBrandsAndTheSameMoov) {
  model::Track t = video_track();
  Bytes dash = init_segment(t, Variant::kDash);
  // ftyp: major iso6, minor 0, compatible iso6 dash isom.
  EXPECT_EQ(to_hex(ByteSpan(dash).first(28)),
            "0000001c"
            "66747970"
            "69736f36"
            "00000000"
            "69736f36"
            "64617368"
            "69736f6d");
  Bytes cmaf = init_segment(t, Variant::kCmaf);
  EXPECT_TRUE(std::equal(dash.begin() + 28, dash.end(), cmaf.begin() + 28, cmaf.end()))
      << "the variants differ by their brands only";
}

TEST(Fmp4Init, AudioSampleEntriesCarryTheCodecConfiguration) {
  model::Track aac = audio_track(44100, 2, 43);
  Bytes init = init_segment(aac, Variant::kCmaf);
  mp4::Moov moov = read_moov(init, 28);
  const mp4::Trak& trak = moov.traks[0];
  EXPECT_EQ(trak.tkhd.volume, 0x0100);
  EXPECT_EQ(trak.mdia.hdlr.handler_type, fourcc("soun"));
  EXPECT_TRUE(trak.mdia.minf.smhd);
  EXPECT_EQ(trak.mdia.mdhd.language, "eng");
  EXPECT_EQ(trak.mdia.mdhd.timescale, 44100u);
  const mp4::SampleEntry& e = trak.mdia.minf.stbl.stsd.entries[0];
  EXPECT_EQ(e.format, fourcc("mp4a"));
  EXPECT_EQ(e.sample_rate, 44100u);
  EXPECT_EQ(e.channel_count, 2);
  EXPECT_EQ(e.sample_size, 16);
  ASSERT_NE(e.child(fourcc("esds")), nullptr);
  auto es = mp4::parse_esds(e.child(fourcc("esds"))->payload);
  ASSERT_TRUE(es.is_ok()) << es.status().to_string();
  EXPECT_EQ(es->object_type_indication, 0x40);
  EXPECT_EQ(es->decoder_specific_info, (Bytes{0x12, 0x10}));
  EXPECT_EQ(es->avg_bitrate, 128041u);

  for (const char* fmt : {"ac-3", "ec-3"}) {
    model::Track dolby = aac;
    dolby.codec = fmt[0] == 'a' ? model::Codec::kAc3 : model::Codec::kEac3;
    dolby.fourcc = fmt;
    dolby.sample_rate = 48000;
    dolby.timescale = 48000;
    dolby.channels = 6;
    dolby.codec_private = fmt[0] == 'a' ? Bytes{0x10, 0x3d, 0xc0} : Bytes{0x06, 0x00, 0x20, 0x0f};
    Bytes d = init_segment(dolby, Variant::kDash);
    mp4::Moov dm = read_moov(d, 28);
    const mp4::SampleEntry& de = dm.traks[0].mdia.minf.stbl.stsd.entries[0];
    EXPECT_EQ(de.format, mp4::fourcc_from_string(fmt));
    EXPECT_EQ(de.channel_count, 2) << "AC-3 entries always say 2; dac3/dec3 hold the layout";
    EXPECT_EQ(de.sample_rate, 48000u);
    const auto* config = de.child(fmt[0] == 'a' ? fourcc("dac3") : fourcc("dec3"));
    ASSERT_NE(config, nullptr) << fmt;
    EXPECT_EQ(config->payload, dolby.codec_private);
  }
}

TEST(Fmp4Init, HevcKeepsItsFourccAndHvcC) {
  model::Track t = video_track();
  t.codec = model::Codec::kH265;
  t.fourcc = "hev1";
  t.codec_private = Bytes{0x01, 0x02, 0x03};  // carried as is
  Bytes init = init_segment(t, Variant::kCmaf);
  mp4::Moov moov = read_moov(init, 28);
  const mp4::SampleEntry& e = moov.traks[0].mdia.minf.stbl.stsd.entries[0];
  EXPECT_EQ(e.format, fourcc("hev1"));
  ASSERT_NE(e.child(fourcc("hvcC")), nullptr);
  EXPECT_EQ(e.child(fourcc("hvcC"))->payload, t.codec_private);
}

TEST(Fmp4Init, RefusesSmoothTextUnknownCodecsAndMissingConfig) {
  model::Track t = video_track();
  ByteWriter w;
  EXPECT_EQ(write_init_segment(t, Variant::kSmooth, w).code(), StatusCode::kInvalidArgument);
  model::Track text = t;
  text.type = model::TrackType::kText;
  EXPECT_EQ(write_init_segment(text, Variant::kCmaf, w).code(), StatusCode::kUnsupported);
  model::Track vp9 = t;
  vp9.fourcc = "vp09";
  EXPECT_EQ(write_init_segment(vp9, Variant::kCmaf, w).code(), StatusCode::kUnsupported);
  model::Track bare = t;
  bare.codec_private.clear();
  EXPECT_EQ(write_init_segment(bare, Variant::kCmaf, w).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.size(), 0u) << "nothing is written on failure";
}

TEST(Fmp4Fragment, CmafGoldenHeaderBytes) {
  model::Track t = video_track();
  Bytes f = fragment(t, 1, Variant::kCmaf);
  std::string hex = to_hex(f);
  // styp: major cmfs, compatible cmfs cmff msdh.
  EXPECT_EQ(hex.substr(0, 56),
            "0000001c"
            "73747970"
            "636d6673"
            "00000000"
            "636d6673"
            "636d6666"
            "6d736468");
  // moof, mfhd with sequence number = index + 1.
  EXPECT_EQ(hex.substr(64, 8), "6d6f6f66");
  EXPECT_EQ(hex.substr(72, 32),
            "00000010"
            "6d666864"
            "00000000"
            "00000002");
  // traf, tfhd: default-base-is-moof only (the 4 frames mix sync and non-sync: flags go per
  // sample), track 1.
  EXPECT_EQ(hex.substr(112, 8), "74726166");
  EXPECT_EQ(hex.substr(120, 32),
            "00000010"
            "74666864"
            "00020000"
            "00000001");
  // tfdt version 1: decode time of frame 8.
  EXPECT_EQ(hex.substr(152, 40),
            "00000014"
            "74666474"
            "01000000"
            "0000000000001f48");
  // trun version 0: data offset, duration, size, flags, composition offset; 4 samples.
  EXPECT_EQ(hex.substr(192, 32),
            "00000054"
            "7472756e"
            "00000f01"
            "00000004");
  // data offset: the moof (8 + 16 + 8 + 16 + 20 + 84 bytes) and the mdat header.
  EXPECT_EQ(hex.substr(224, 8), "000000a0");
  // Composition offsets raised by the decode lead (one frame, taken off by the init segment's
  // edit). First sample: duration 1001, size 156, sync, offset 0 + 1001; second: non-sync,
  // 2002 + 1001.
  EXPECT_EQ(hex.substr(232, 64),
            "000003e9"
            "0000009c"
            "02000000"
            "000003e9"
            "000003e9"
            "000000a3"
            "01010000"
            "00000bbb");
  // Third: composition offset -1001 + 1001.
  EXPECT_EQ(hex.substr(296 + 24, 8), "00000000");
  // mdat right after the moof.
  // mdat (8 + 156 + 163 + 170 + 177 bytes) right after the 152-byte moof.
  EXPECT_EQ(hex.substr(2 * (28 + 152), 16),
            "000002a2"
            "6d646174");
}

TEST(Fmp4Fragment, EveryVariantReadsBackToTheSampleTable) {
  model::Track t = video_track();
  for (Variant v : kAllVariants) {
    for (size_t i = 0; i < t.fragments.size(); ++i) {
      SCOPED_TRACE(std::string(variant_name(v)) + " fragment " + std::to_string(i));
      test::TestPayload p = payload_for(t, i);
      ByteWriter w;
      ASSERT_TRUE(write_fragment(t, i, v, p.spans, w).is_ok());
      Bytes bytes = w.take();
      test::ParsedFragment pf = parse_fragment(bytes);
      std::vector<mp4::FourCC> expected_types = {fourcc("moof"), fourcc("mdat")};
      if (v != Variant::kSmooth) expected_types.insert(expected_types.begin(), fourcc("styp"));
      EXPECT_EQ(pf.types, expected_types);

      const model::Fragment& f = t.fragments[i];
      const TrackFragment& traf = pf.moof.traf;
      EXPECT_EQ(pf.moof.mfhd.sequence_number, i + 1);
      EXPECT_EQ(traf.tfhd.track_id, kTrackId);
      EXPECT_EQ(traf.trun.version, v == Variant::kSmooth ? 1 : 0);
      ASSERT_EQ(traf.trun.entries.size(), f.sample_count);
      // data_offset, from the moof's first byte, lands on the first payload byte of the mdat.
      EXPECT_EQ(pf.moof_offset + static_cast<size_t>(traf.trun.data_offset),
                pf.mdat_payload_offset);
      uint64_t at = pf.mdat_payload_offset;
      for (uint32_t k = 0; k < f.sample_count; ++k) {
        const model::Sample& s = t.samples()[f.first_sample + k];
        const mp4::Trun::Entry& e = traf.trun.entries[k];
        EXPECT_EQ(e.size, s.size);
        EXPECT_EQ(effective_flags(traf, k),
                  s.sync ? mp4::kSampleFlagsSync : mp4::kSampleFlagsNonSync);
        EXPECT_TRUE(std::equal(p.bytes[k].begin(), p.bytes[k].end(), bytes.begin() + at));
        at += e.size;
        if (v != Variant::kSmooth) {
          EXPECT_EQ(e.duration, s.duration);
          EXPECT_EQ(e.composition_offset, s.cts_offset + t.table->decode_lead);
        }
      }
      EXPECT_EQ(at, bytes.size()) << "the mdat ends the fragment";
      if (v == Variant::kSmooth) {
        EXPECT_FALSE(traf.tfdt);
        ASSERT_TRUE(traf.tfxd);
        EXPECT_EQ(traf.tfhd.flags & mp4::Tfhd::kDefaultBaseIsMoof, 0u) << "not in PIFF 1.1";
        EXPECT_NE(traf.tfhd.flags & mp4::Tfhd::kDefaultSampleFlags, 0u);
      } else {
        EXPECT_FALSE(traf.tfxd);
        ASSERT_TRUE(traf.tfdt);
        EXPECT_EQ(traf.tfdt->version, 1);
        EXPECT_EQ(traf.tfdt->base_media_decode_time,
                  static_cast<uint64_t>(t.samples()[f.first_sample].dts));
        EXPECT_EQ(traf.tfhd.flags & mp4::Tfhd::kBaseDataOffset, 0u);
        EXPECT_NE(traf.tfhd.flags & mp4::Tfhd::kDefaultBaseIsMoof, 0u);
      }

      auto size = fragment_size(t, i, v);
      ASSERT_TRUE(size.is_ok());
      EXPECT_EQ(*size, bytes.size()) << "size-only pass == real size";
      ByteWriter counting = ByteWriter::size_only();
      ASSERT_TRUE(write_fragment(t, i, v, {}, counting).is_ok());
      EXPECT_EQ(counting.size(), bytes.size());
    }
  }
}

TEST(Fmp4Fragment, OneContiguousPayloadSpanGivesTheSameBytes) {
  model::Track t = video_track();
  test::TestPayload p = payload_for(t, 0);
  Bytes joined;
  for (const Bytes& b : p.bytes) joined.insert(joined.end(), b.begin(), b.end());
  ByteWriter a, b;
  ASSERT_TRUE(write_fragment(t, 0, Variant::kCmaf, p.spans, a).is_ok());
  ASSERT_TRUE(write_fragment(t, 0, Variant::kCmaf, {{joined}}, b).is_ok());
  EXPECT_EQ(a.bytes(), b.bytes());
}

TEST(Fmp4Fragment, RefusesPayloadsThatDisagreeWithTheIndexAndUnknownFragments) {
  model::Track t = video_track();
  test::TestPayload p = payload_for(t, 0);
  ByteWriter w;
  FragmentPayload missing = p.spans;
  missing.samples.pop_back();
  EXPECT_EQ(write_fragment(t, 0, Variant::kCmaf, missing, w).code(), StatusCode::kInvalidArgument);
  FragmentPayload short_sample = p.spans;
  short_sample.samples[3] = short_sample.samples[3].first(10);
  EXPECT_EQ(write_fragment(t, 0, Variant::kDash, short_sample, w).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(write_fragment(t, 0, Variant::kSmooth, {}, w).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(write_fragment(t, 2, Variant::kCmaf, p.spans, w).code(), StatusCode::kNotFound);
  EXPECT_EQ(fragment_size(t, 7, Variant::kSmooth).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(w.size(), 0u);
}

TEST(Fmp4Fragment, UniformAudioFlagsGoOnceInTfhdAndPrimingGoesInTheInitSegmentsEdit) {
  model::Track t = audio_track(48000, 3, 10, 1024);
  Bytes bytes = fragment(t, 0, Variant::kCmaf);
  test::ParsedFragment pf = parse_fragment(bytes);
  const TrackFragment& traf = pf.moof.traf;
  EXPECT_NE(traf.tfhd.flags & mp4::Tfhd::kDefaultSampleFlags, 0u);
  EXPECT_EQ(traf.tfhd.default_sample_flags, mp4::kSampleFlagsSync);
  EXPECT_EQ(traf.trun.flags & mp4::Trun::kSampleFlags, 0u);
  ASSERT_EQ(traf.trun.entries.size(), 10u);
  // Every sample presents 1024 ticks before it decodes: that is the track's decode lead, which
  // the init segment's edit takes off, so no sample needs an offset of its own.
  for (const mp4::Trun::Entry& e : traf.trun.entries) EXPECT_EQ(e.composition_offset, 0);
  EXPECT_EQ(traf.tfdt->base_media_decode_time, 0u);
  mp4::Moov moov = read_moov(init_segment(t, Variant::kCmaf), 28);
  ASSERT_EQ(moov.traks.size(), 1u);
  ASSERT_TRUE(moov.traks[0].edts);
  ASSERT_EQ(moov.traks[0].edts->elst.entries.size(), 1u);
  EXPECT_EQ(moov.traks[0].edts->elst.entries[0].media_time, 1024);

  // Without priming there is nothing to offset: the field is left out.
  model::Track plain = audio_track(48000, 3, 10);
  test::ParsedFragment pp = parse_fragment(fragment(plain, 1, Variant::kDash));
  EXPECT_EQ(pp.moof.traf.trun.flags & mp4::Trun::kSampleCompositionOffset, 0u);
  EXPECT_EQ(pp.moof.traf.tfdt->base_media_decode_time, 10u * 1024);
}

// Smooth clients place sample k at tfxd time + the durations before it, then add its
// composition offset: that must give the sample's presentation time in 10 MHz, exactly.
TEST(Fmp4Smooth, VideoTimesAreExactIn10MHz) {
  model::Track t = video_track();  // 1001/30000 s frames: 333666.67 ticks of 100 ns
  for (size_t i = 0; i < t.fragments.size(); ++i) {
    test::ParsedFragment pf = parse_fragment(fragment(t, i, Variant::kSmooth));
    const TrackFragment& traf = pf.moof.traf;
    ASSERT_TRUE(traf.tfxd);
    EXPECT_EQ(traf.tfxd->version, 1);
    EXPECT_EQ(static_cast<int64_t>(traf.tfxd->time), t.fragment_start_10mhz(i));
    const model::Fragment& f = t.fragments[i];
    EXPECT_EQ(static_cast<int64_t>(traf.tfxd->duration),
              rescale(f.start + f.duration, 30000, kManifestTimescale) - t.fragment_start_10mhz(i));
    int64_t decode = static_cast<int64_t>(traf.tfxd->time);
    for (uint32_t k = 0; k < f.sample_count; ++k) {
      const model::Sample& s = t.samples()[f.first_sample + k];
      const mp4::Trun::Entry& e = traf.trun.entries[k];
      EXPECT_EQ(decode + e.composition_offset, rescale(s.pts(), 30000, kManifestTimescale))
          << "sample " << f.first_sample + k;
      decode += e.duration;
    }
    EXPECT_EQ(decode, rescale(f.start + f.duration, 30000, kManifestTimescale))
        << "the next fragment's decode time follows on";
  }
}

TEST(Fmp4Smooth, AudioAt44100DoesNotDriftOverThousandsOfFragments) {
  const size_t kFragments = 5000;
  model::Track t = audio_track(44100, kFragments, 43);  // ~0.998 s each, 83 minutes
  int64_t expected_next = 0;
  for (size_t i = 0; i < kFragments; ++i) {
    test::ParsedFragment pf = parse_fragment(fragment(t, i, Variant::kSmooth));
    const TrackFragment& traf = pf.moof.traf;
    ASSERT_TRUE(traf.tfxd);
    const int64_t start = rescale(int64_t(i) * 43 * 1024, 44100, kManifestTimescale);
    ASSERT_EQ(static_cast<int64_t>(traf.tfxd->time), start) << "fragment " << i;
    ASSERT_EQ(static_cast<int64_t>(traf.tfxd->time), expected_next) << "fragment " << i;
    ASSERT_EQ(traf.trun.flags & mp4::Trun::kSampleCompositionOffset, 0u);
    int64_t sum = 0;
    for (const mp4::Trun::Entry& e : traf.trun.entries) sum += e.duration;
    ASSERT_EQ(static_cast<int64_t>(traf.tfxd->duration), sum) << "fragment " << i;
    expected_next = start + sum;
  }
  EXPECT_EQ(expected_next, rescale(int64_t(kFragments) * 43 * 1024, 44100, kManifestTimescale));
  EXPECT_EQ(expected_next, t.duration_10mhz());
}

TEST(Fmp4Smooth, NegativeFirstStartIsClampedToZero) {
  model::Track t = audio_track(48000, 2, 10, 1024);
  test::ParsedFragment pf = parse_fragment(fragment(t, 0, Variant::kSmooth));
  ASSERT_TRUE(pf.moof.traf.tfxd);
  EXPECT_EQ(pf.moof.traf.tfxd->time, 0u);
  // The presentation times inside stay those of the samples relative to each other.
  EXPECT_EQ(pf.moof.traf.trun.flags & mp4::Trun::kSampleCompositionOffset, 0u);
}

// A side-car's TTML track: 'subt' handler, sthd, an stpp entry naming the TTML namespace, the
// 10 MHz manifest timescale; CMAF adds the IMSC1 text brand.
TEST(Fmp4Text, TtmlInitSegmentHasAnStppEntry) {
  model::Track t;
  t.type = model::TrackType::kText;
  t.codec = model::Codec::kWebVtt;
  t.name = "english";
  t.language = "eng";
  for (Variant v : {Variant::kCmaf, Variant::kDash}) {
    SCOPED_TRACE(variant_name(v));
    ByteWriter w;
    ASSERT_TRUE(write_ttml_init_segment(t, v, w).is_ok());
    Bytes init = w.take();
    const size_t ftyp_size = v == Variant::kCmaf ? 32 : 28;
    EXPECT_EQ(to_hex(ByteSpan(init).subspan(ftyp_size - 4, 4)),
              v == Variant::kCmaf ? "696d3174" : "69736f6d");  // im1t last, isom
    mp4::Moov moov = read_moov(init, ftyp_size);
    EXPECT_EQ(moov.mvhd.timescale, kManifestTimescale);
    ASSERT_EQ(moov.traks.size(), 1u);
    const mp4::Trak& trak = moov.traks[0];
    EXPECT_EQ(trak.tkhd.volume, 0);
    EXPECT_EQ(trak.mdia.mdhd.timescale, kManifestTimescale);
    EXPECT_EQ(trak.mdia.mdhd.language, "eng");
    EXPECT_EQ(trak.mdia.hdlr.handler_type, fourcc("subt"));
    EXPECT_TRUE(trak.mdia.minf.sthd);
    EXPECT_FALSE(trak.mdia.minf.smhd);
    ASSERT_EQ(trak.mdia.minf.stbl.stsd.entries.size(), 1u);
    const mp4::SampleEntry& e = trak.mdia.minf.stbl.stsd.entries[0];
    EXPECT_EQ(e.format, fourcc("stpp"));
    const std::string payload(e.opaque.begin(), e.opaque.end());
    EXPECT_EQ(payload, std::string("\0\0\0\0\0\0\0\x01http://www.w3.org/ns/ttml\0\0\0", 36));
  }
  ByteWriter w;
  EXPECT_EQ(write_ttml_init_segment(t, Variant::kSmooth, w).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(write_ttml_init_segment(video_track(), Variant::kDash, w).code(),
            StatusCode::kInvalidArgument);
}

// One sync sample holding the document, at the given 10 MHz time (tfdt, or Smooth's tfxd).
TEST(Fmp4Text, TtmlFragmentIsOneSampleHoldingTheDocument) {
  const std::string doc = "<tt xmlns=\"http://www.w3.org/ns/ttml\"/>";
  for (Variant v : kAllVariants) {
    SCOPED_TRACE(variant_name(v));
    ByteWriter w;
    ASSERT_TRUE(write_ttml_fragment(4, 60000000, 20000000, doc, v, w).is_ok());
    Bytes bytes = w.take();
    test::ParsedFragment pf = parse_fragment(bytes);
    std::vector<mp4::FourCC> types = {fourcc("moof"), fourcc("mdat")};
    if (v != Variant::kSmooth) types.insert(types.begin(), fourcc("styp"));
    EXPECT_EQ(pf.types, types);
    const TrackFragment& traf = pf.moof.traf;
    EXPECT_EQ(pf.moof.mfhd.sequence_number, 4u);
    ASSERT_EQ(traf.trun.entries.size(), 1u);
    EXPECT_EQ(traf.trun.entries[0].size, doc.size());
    EXPECT_EQ(traf.trun.entries[0].duration, 20000000u);
    EXPECT_EQ(effective_flags(traf, 0), mp4::kSampleFlagsSync);
    EXPECT_EQ(pf.moof_offset + static_cast<size_t>(traf.trun.data_offset), pf.mdat_payload_offset);
    EXPECT_EQ(std::string(bytes.begin() + pf.mdat_payload_offset, bytes.end()), doc);
    if (v == Variant::kSmooth) {
      ASSERT_TRUE(traf.tfxd);
      EXPECT_EQ(traf.tfxd->time, 60000000u);
      EXPECT_EQ(traf.tfxd->duration, 20000000u);
    } else {
      ASSERT_TRUE(traf.tfdt);
      EXPECT_EQ(traf.tfdt->base_media_decode_time, 60000000u);
    }
  }
  ByteWriter w;
  EXPECT_FALSE(write_ttml_fragment(1, -1, 10, doc, Variant::kDash, w).is_ok());
  EXPECT_FALSE(write_ttml_fragment(1, 0, 0, doc, Variant::kDash, w).is_ok());
}

}  // namespace
}  // namespace ams::fmp4
