// Common encryption on bytes: the subsample maps, the protected init segment and fragment read
// back box by box, and every sample decrypted again with OpenSSL's AES as ISO/IEC 23001-7 says a
// reader does it (from the senc IVs and subsample maps alone), giving back the clear sample.
// Independent decryptors (ffmpeg, Shaka Packager, browsers) check the same bytes in
// tests/integration/protection_test.cc and the end-to-end suite.
#include "fmp4/protection.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <set>

#include "fmp4/test_tracks.h"
#include "fmp4/writer.h"
#include "mp4/boxes.h"

namespace ams::fmp4 {
namespace {

using mp4::fourcc;

const Block kKeyId = {0x3f, 0x0c, 0x11, 0x22, 0x33, 0x44, 0x45, 0x66,
                      0x87, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
const Block kKey = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Protection protection(Scheme scheme) {
  Protection p;
  p.scheme = scheme;
  p.key_id = kKeyId;
  p.key = kKey;
  p.iv_seed = 0x0102030405060708ull;
  p.constant_iv = cbcs_constant_iv(kKeyId);
  p.pssh.push_back(common_pssh(kKeyId));
  return p;
}

// A length-prefixed NAL unit of `size` bytes (header included) of that H.264 type.
void nal(Bytes& out, uint8_t type, size_t size, uint8_t fill) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(size >> (8 * i)));
  out.push_back(type);
  for (size_t i = 1; i < size; ++i) out.push_back(static_cast<uint8_t>(fill + i * 31));
}

// The video test track with real NAL structure: every sample an AUD, an SPS on sync samples,
// then one slice filling the rest.
struct NalTrack {
  model::Track track = test::video_track();
  std::vector<Bytes> samples;
};
NalTrack nal_track() {
  NalTrack t;
  auto table = std::make_shared<model::SampleTable>(*t.track.table);
  uint64_t offset = 48;
  for (size_t k = 0; k < table->samples.size(); ++k) {
    model::Sample& s = table->samples[k];
    Bytes b;
    nal(b, 0x09, 2, 0);  // access unit delimiter
    if (s.sync) nal(b, 0x67, 12, 1);
    const size_t slice = 37 + 53 * k;  // lengths of every remainder modulo 16
    nal(b, s.sync ? 0x65 : 0x41, slice, static_cast<uint8_t>(k));
    s.size = static_cast<uint32_t>(b.size());
    s.offset = offset;
    offset += s.size;
    t.samples.push_back(std::move(b));
  }
  t.track.table = table;
  t.track.max_sample_size = 0;
  for (const model::Sample& s : table->samples) {
    t.track.max_sample_size = std::max(t.track.max_sample_size, s.size);
  }
  return t;
}

FragmentPayload spans(const NalTrack& t, size_t fragment) {
  FragmentPayload p;
  const model::Fragment& f = t.track.fragments[fragment];
  for (uint32_t k = 0; k < f.sample_count; ++k) p.samples.push_back(t.samples[f.first_sample + k]);
  return p;
}

// Decrypts one sample as a CENC reader does.
Bytes decrypt(Scheme scheme, bool video, ByteSpan in, const Bytes& iv,
              const std::vector<Subsample>& subsamples, const Block& constant_iv) {
  Bytes out(in.begin(), in.end());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const bool cenc = scheme == Scheme::kCenc;
  EXPECT_EQ(EVP_DecryptInit_ex(ctx, cenc ? EVP_aes_128_ctr() : EVP_aes_128_cbc(), nullptr,
                               kKey.data(), cenc ? iv.data() : constant_iv.data()),
            1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  auto run = [&](size_t at, size_t n) {
    int got = 0;
    EXPECT_EQ(EVP_DecryptUpdate(ctx, out.data() + at, &got, in.data() + at, static_cast<int>(n)),
              1);
  };
  auto range = [&](size_t at, size_t n) {
    if (cenc) return run(at, n);
    EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, constant_iv.data());
    // 1:9 for video; every whole block for audio; a trailing partial block is clear.
    for (size_t b = 0; (b + 1) * 16 <= n; ++b) {
      if (!video || b % 10 == 0) run(at + b * 16, 16);
    }
  };
  if (subsamples.empty()) {
    range(0, in.size());
  } else {
    size_t at = 0;
    for (const Subsample& s : subsamples) {
      at += s.clear;
      range(at, s.protected_bytes);
      at += s.protected_bytes;
    }
    EXPECT_EQ(at, in.size());
  }
  EVP_CIPHER_CTX_free(ctx);
  return out;
}

TEST(Subsamples, CencKeepsHeadersAndNonVclClearAndProtectsWholeBlocks) {
  NalTrack t = nal_track();
  // Sample 0: AUD (4+2), SPS (4+12), IDR slice of 37 bytes: header 1, remainder 36 % 16 = 4.
  auto map = subsample_map(t.track, Scheme::kCenc, t.samples[0]);
  ASSERT_TRUE(map.is_ok()) << map.status().to_string();
  ASSERT_EQ(map->size(), 1u);
  EXPECT_EQ((*map)[0].clear, 6 + 16 + 4 + 1 + 4);
  EXPECT_EQ((*map)[0].protected_bytes, 32u);
  // Sample 1 (no SPS): slice of 90 bytes: 89 = 5*16 + 9.
  map = subsample_map(t.track, Scheme::kCenc, t.samples[1]);
  ASSERT_TRUE(map.is_ok());
  ASSERT_EQ(map->size(), 1u);
  EXPECT_EQ((*map)[0].clear, 6 + 4 + 1 + 9);
  EXPECT_EQ((*map)[0].protected_bytes, 80u);
}

TEST(Subsamples, CbcsLeavesTheSliceHeaderLeaderClear) {
  NalTrack t = nal_track();
  auto map = subsample_map(t.track, Scheme::kCbcs, t.samples[1]);
  ASSERT_TRUE(map.is_ok());
  ASSERT_EQ(map->size(), 1u);
  EXPECT_EQ((*map)[0].clear, 6 + 4 + 1 + 32);
  EXPECT_EQ((*map)[0].protected_bytes, 90u - 1 - 32);
}

TEST(Subsamples, LongClearRunsSplitAtSixteenBitsAndTrailingClearIsKept) {
  NalTrack t = nal_track();
  Bytes sample;
  nal(sample, 0x06, 70000, 3);  // an SEI longer than a 16-bit clear count
  nal(sample, 0x41, 100, 4);
  nal(sample, 0x0c, 10, 5);  // filler data after the slice
  auto map = subsample_map(t.track, Scheme::kCenc, sample);
  ASSERT_TRUE(map.is_ok());
  ASSERT_EQ(map->size(), 3u);
  EXPECT_EQ((*map)[0].clear, 65535);
  EXPECT_EQ((*map)[0].protected_bytes, 0u);
  EXPECT_EQ((*map)[1].clear, 70004 - 65535 + 4 + 1 + 3);
  EXPECT_EQ((*map)[1].protected_bytes, 96u);
  EXPECT_EQ((*map)[2].clear, 14);
  EXPECT_EQ((*map)[2].protected_bytes, 0u);
  uint64_t covered = 0;
  for (const Subsample& s : *map) covered += s.clear + s.protected_bytes;
  EXPECT_EQ(covered, sample.size());
}

TEST(Subsamples, ALengthPastTheSampleIsAnError) {
  NalTrack t = nal_track();
  Bytes sample = t.samples[0];
  sample.resize(sample.size() - 3);
  EXPECT_FALSE(subsample_map(t.track, Scheme::kCenc, sample).is_ok());
}

TEST(ProtectedInit, SampleEntryCarriesSinfAndMoovTheCommonPssh) {
  for (Scheme scheme : {Scheme::kCenc, Scheme::kCbcs}) {
    for (bool video : {true, false}) {
      model::Track t = video ? test::video_track() : test::audio_track(48000, 2, 4);
      Protection p = protection(scheme);
      ByteWriter w;
      ASSERT_TRUE(write_init_segment(t, Variant::kCmaf, w, &p).is_ok());
      auto boxes = mp4::split_children(w.bytes());
      ASSERT_TRUE(boxes.is_ok());
      ASSERT_EQ(boxes->size(), 2u);
      mp4::Moov moov;
      ASSERT_TRUE(mp4::read_box_payload((*boxes)[1].payload, moov).is_ok());
      const mp4::SampleEntry& e = moov.traks[0].mdia.minf.stbl.stsd.entries[0];
      EXPECT_EQ(e.format, video ? fourcc("encv") : fourcc("enca"));
      const mp4::SampleEntry::Child* sinf = e.child(fourcc("sinf"));
      ASSERT_NE(sinf, nullptr);
      auto parts = mp4::split_children(sinf->payload);
      ASSERT_TRUE(parts.is_ok());
      ASSERT_EQ(parts->size(), 3u);
      EXPECT_EQ((*parts)[0].type, fourcc("frma"));
      EXPECT_EQ(Bytes((*parts)[0].payload.begin(), (*parts)[0].payload.end()),
                (video ? Bytes{'a', 'v', 'c', '1'} : Bytes{'m', 'p', '4', 'a'}));
      EXPECT_EQ((*parts)[1].type, fourcc("schm"));
      EXPECT_EQ(std::string(reinterpret_cast<const char*>((*parts)[1].payload.data()) + 4, 4),
                scheme_name(scheme));
      auto schi = mp4::split_children((*parts)[2].payload);
      ASSERT_TRUE(schi.is_ok());
      ASSERT_EQ((*schi)[0].type, fourcc("tenc"));
      ByteSpan tenc = (*schi)[0].payload;
      const bool cbcs = scheme == Scheme::kCbcs;
      EXPECT_EQ(tenc[0], cbcs ? 1 : 0);  // version
      EXPECT_EQ(tenc[5], cbcs && video ? 0x19 : 0x00);
      EXPECT_EQ(tenc[6], 1);              // protected
      EXPECT_EQ(tenc[7], cbcs ? 0 : 16);  // per-sample IV size
      EXPECT_EQ(0, std::memcmp(tenc.data() + 8, kKeyId.data(), 16));
      if (cbcs) {
        ASSERT_EQ(tenc.size(), 8u + 16 + 1 + 16);
        EXPECT_EQ(tenc[24], 16);
        EXPECT_EQ(0, std::memcmp(tenc.data() + 25, p.constant_iv.data(), 16));
      } else {
        EXPECT_EQ(tenc.size(), 8u + 16);
      }
      // The codec configuration is still there, unchanged.
      EXPECT_NE(e.child(video ? fourcc("avcC") : fourcc("esds")), nullptr);
      // The pssh, after mvex, read back with the box reader.
      auto moov_children = mp4::split_children((*boxes)[1].payload);
      ASSERT_TRUE(moov_children.is_ok());
      ASSERT_EQ(moov_children->back().type, fourcc("pssh"));
      mp4::Pssh pssh;
      ASSERT_TRUE(mp4::read_box_payload(moov_children->back().payload, pssh).is_ok());
      EXPECT_EQ(pssh.version, 1);
      EXPECT_EQ(pssh.system_id, kCommonSystemId);
      ASSERT_EQ(pssh.key_ids.size(), 1u);
      EXPECT_EQ(pssh.key_ids[0], kKeyId);
      EXPECT_TRUE(pssh.data.empty());
    }
  }
}

// Takes the protected fragment apart: the senc the saio offset points at, the sizes saiz gives,
// and every sample decrypted back to its clear bytes.
void check_fragment(Scheme scheme, const model::Track& track, size_t fragment,
                    const FragmentPayload& clear) {
  SCOPED_TRACE(scheme_name(scheme));
  const bool video = track.type == model::TrackType::kVideo;
  Protection p = protection(scheme);
  ByteWriter w;
  Status st = write_protected_fragment(track, fragment, Variant::kCmaf, p, clear, w);
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  const Bytes bytes = w.take();

  ByteWriter counted = ByteWriter::size_only();
  ASSERT_TRUE(write_protected_fragment(track, fragment, Variant::kCmaf, p,
                                       video ? clear : FragmentPayload{}, counted)
                  .is_ok());
  EXPECT_EQ(counted.size(), bytes.size());

  test::ParsedFragment f = test::parse_fragment(bytes);
  const TrackFragment& traf = f.moof.traf;
  const model::Fragment& frag = track.fragments[fragment];
  const bool aux = scheme == Scheme::kCenc || video;
  ASSERT_EQ(traf.saiz.has_value(), aux);
  ASSERT_EQ(traf.saio.has_value(), aux);
  // The trun's data offset still lands on the mdat payload.
  EXPECT_EQ(f.moof_offset + static_cast<size_t>(traf.trun.data_offset), f.mdat_payload_offset);

  Senc senc;
  if (aux) {
    // Read the senc where saio says its first entry is (8 bytes of count and full header back).
    const size_t entries_at = f.moof_offset + traf.saio->offset;
    ByteSpan senc_payload(bytes.data() + entries_at - 8, f.mdat_payload_offset - entries_at + 8);
    auto moof_children = mp4::split_children(ByteSpan(bytes).subspan(f.moof_offset + 8));
    senc.iv_size = scheme == Scheme::kCenc ? 16 : 0;
    ByteReader r(senc_payload);
    mp4::BoxBuffer b(r);
    ASSERT_TRUE(senc.read_write(b));
    ASSERT_EQ(senc.entries.size(), frag.sample_count);
    EXPECT_EQ(traf.saiz->sample_count, frag.sample_count);
    for (size_t k = 0; k < senc.entries.size(); ++k) {
      const size_t want = traf.saiz->default_size ? traf.saiz->default_size : traf.saiz->sizes[k];
      EXPECT_EQ(senc.entry_size(k), want);
    }
    (void)moof_children;
  }

  size_t at = f.mdat_payload_offset;
  std::set<Bytes> ivs;
  for (uint32_t k = 0; k < frag.sample_count; ++k) {
    const model::Sample& s = track.samples()[frag.first_sample + k];
    ByteSpan enc(bytes.data() + at, s.size);
    at += s.size;
    const Bytes iv = aux ? senc.entries[k].iv : Bytes{};
    const std::vector<Subsample> map = aux ? senc.entries[k].subsamples : std::vector<Subsample>{};
    if (scheme == Scheme::kCenc) {
      EXPECT_EQ(iv.size(), 16u);
      EXPECT_TRUE(ivs.insert(iv).second) << "an IV used twice";
    }
    Bytes plain = decrypt(scheme, video, enc, iv, map, p.constant_iv);
    ByteSpan want = clear.samples[k];
    EXPECT_EQ(plain, Bytes(want.begin(), want.end())) << "sample " << k;
    // And the ciphertext is not the clear text where something is protected.
    size_t protected_total = 0;
    for (const Subsample& sub : map) protected_total += sub.protected_bytes;
    if (map.empty()) protected_total = s.size;
    if (protected_total >= 16) {
      EXPECT_NE(Bytes(enc.begin(), enc.end()), Bytes(want.begin(), want.end()));
    }
  }
  EXPECT_EQ(at, bytes.size());
}

TEST(ProtectedFragment, VideoDecryptsBackToTheClearSamples) {
  NalTrack t = nal_track();
  for (Scheme scheme : {Scheme::kCenc, Scheme::kCbcs}) {
    for (size_t f = 0; f < t.track.fragments.size(); ++f)
      check_fragment(scheme, t.track, f, spans(t, f));
  }
}

TEST(ProtectedFragment, AudioDecryptsBackToTheClearSamples) {
  model::Track t = test::audio_track(48000, 3, 5);
  // Samples of 4..8 bytes are too short for a block: make them AAC-sized.
  auto table = std::make_shared<model::SampleTable>(*t.table);
  uint64_t offset = 1000;
  for (size_t k = 0; k < table->samples.size(); ++k) {
    table->samples[k].size = static_cast<uint32_t>(150 + 13 * k);
    table->samples[k].offset = offset;
    offset += table->samples[k].size;
  }
  t.table = table;
  for (Scheme scheme : {Scheme::kCenc, Scheme::kCbcs}) {
    for (size_t f = 0; f < t.fragments.size(); ++f) {
      test::TestPayload payload = test::payload_for(t, f);
      check_fragment(scheme, t, f, payload.spans);
    }
  }
}

TEST(ProtectedFragment, IvSeedsDifferPerFileAndKeyAndTheConstantIvPerKey) {
  Block other = kKeyId;
  other[15] ^= 1;
  EXPECT_NE(cenc_iv_seed(kKeyId, "a:1:2:3:4\n", "video.mp4"),
            cenc_iv_seed(kKeyId, "a:1:2:3:4\n", "audio.mp4"));
  EXPECT_NE(cenc_iv_seed(kKeyId, "a:1:2:3:4\n", "video.mp4"),
            cenc_iv_seed(kKeyId, "a:1:2:3:5\n", "video.mp4"));
  EXPECT_NE(cenc_iv_seed(kKeyId, "x", "y"), cenc_iv_seed(other, "x", "y"));
  EXPECT_EQ(cenc_iv_seed(kKeyId, "x", "y"), cenc_iv_seed(kKeyId, "x", "y"));
  EXPECT_NE(cbcs_constant_iv(kKeyId), cbcs_constant_iv(other));
  EXPECT_EQ(key_id_uuid(kKeyId), "3f0c1122-3344-4566-8788-99aabbccddee");
}

TEST(ProtectedFragment, SmoothAndATruncatedPayloadAreRefused) {
  NalTrack t = nal_track();
  Protection p = protection(Scheme::kCenc);
  ByteWriter w;
  EXPECT_EQ(write_protected_fragment(t.track, 0, Variant::kSmooth, p, spans(t, 0), w).code(),
            StatusCode::kUnsupported);
  FragmentPayload short_payload = spans(t, 0);
  short_payload.samples.pop_back();
  ByteWriter w2;
  EXPECT_FALSE(write_protected_fragment(t.track, 0, Variant::kCmaf, p, short_payload, w2).is_ok());
}

}  // namespace
}  // namespace ams::fmp4
