// Tracks built by hand for the fragment writer tests, and helpers to take fragments apart again.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "base/bytes.h"
#include "fmp4/boxes.h"
#include "fmp4/writer.h"
#include "model/presentation.h"
#include "mp4/box.h"

namespace ams::fmp4::test {

// avcC: High profile 3.1, 4-byte lengths, one SPS, one PPS.
inline const Bytes kAvcc = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x0c, 0x67,
                            0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb,
                            0x01, 0x10, 0x01, 0x00, 0x04, 0x68, 0xeb, 0xe3, 0xcb};

inline constexpr uint32_t kFrame = 1001;  // 29.97 fps at 30 kHz

// 12 frames of 29.97 fps H.264 in GOPs of 4, decode order I P B B (presentation 0 3 1 2), the
// composition offsets already shifted so the first frame presents at 0. Fragments of 8 frames
// (two sync samples) and 4 frames.
inline model::Track video_track() {
  auto table = std::make_shared<model::SampleTable>();
  const int kOffsets[] = {0, 2, -1, -1};
  uint64_t offset = 48;
  for (int k = 0; k < 12; ++k) {
    model::Sample s;
    s.dts = int64_t{k} * kFrame;
    s.duration = kFrame;
    s.cts_offset = kOffsets[k % 4] * static_cast<int32_t>(kFrame);
    s.sync = k % 4 == 0;
    s.size = 100 + 7 * static_cast<uint32_t>(k);
    s.offset = offset;
    offset += s.size;
    table->samples.push_back(s);
  }
  table->decode_lead = kFrame;
  model::Track t;
  t.type = model::TrackType::kVideo;
  t.codec = model::Codec::kH264;
  t.name = "video";
  t.language = "und";
  t.bitrate = 500000;
  t.timescale = 30000;
  t.width = 640;
  t.height = 360;
  t.fourcc = "avc1";
  t.codec_string = "avc1.64001f";
  t.codec_private = kAvcc;
  t.max_sample_size = 177;
  t.table = table;
  t.fragments = {{0, 8, 0, 8 * kFrame}, {8, 4, 8 * kFrame, 4 * kFrame}};
  t.duration = 12 * kFrame;
  return t;
}

// AAC-LC stereo at `rate` Hz: `fragments` fragments of `frames_per_fragment` 1024-sample frames,
// every composition offset -`priming` (an edit list that skipped the encoder delay).
inline model::Track audio_track(uint32_t rate, size_t fragments, uint32_t frames_per_fragment,
                                int32_t priming = 0) {
  auto table = std::make_shared<model::SampleTable>();
  table->decode_lead = priming;
  uint64_t offset = 48;
  model::Track t;
  for (size_t f = 0; f < fragments; ++f) {
    uint32_t first = static_cast<uint32_t>(table->samples.size());
    for (uint32_t k = 0; k < frames_per_fragment; ++k) {
      model::Sample s;
      s.dts = static_cast<int64_t>(table->samples.size()) * 1024;
      s.duration = 1024;
      s.cts_offset = -priming;
      s.sync = true;
      s.size = 4 + static_cast<uint32_t>(table->samples.size() % 5);
      s.offset = offset;
      offset += s.size;
      table->samples.push_back(s);
    }
    int64_t start = table->samples[first].pts();
    t.fragments.push_back({first, frames_per_fragment, start, int64_t{frames_per_fragment} * 1024});
  }
  t.type = model::TrackType::kAudio;
  t.codec = model::Codec::kAac;
  t.name = "aac_eng_2_128041_2_1";
  t.language = "eng";
  t.bitrate = 128041;
  t.timescale = rate;
  t.sample_rate = rate;
  t.channels = 2;
  t.fourcc = "mp4a";
  t.codec_string = "mp4a.40.2";
  t.codec_private = rate == 44100 ? Bytes{0x12, 0x10} : Bytes{0x11, 0x90};
  t.max_sample_size = 8;
  t.table = table;
  t.duration = static_cast<int64_t>(table->samples.size()) * 1024 - priming;
  return t;
}

// Deterministic payload bytes for every sample of a fragment.
struct TestPayload {
  std::vector<Bytes> bytes;
  FragmentPayload spans;
};
inline TestPayload payload_for(const model::Track& t, size_t fragment) {
  TestPayload p;
  const model::Fragment& f = t.fragments[fragment];
  for (uint32_t k = 0; k < f.sample_count; ++k) {
    const model::Sample& s = t.samples()[f.first_sample + k];
    Bytes b(s.size);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(f.first_sample + k + i);
    p.bytes.push_back(std::move(b));
  }
  for (const Bytes& b : p.bytes) p.spans.samples.push_back(b);
  return p;
}

// A written fragment taken apart: its top-level boxes and where the moof and mdat payload start.
struct ParsedFragment {
  std::vector<mp4::FourCC> types;
  MovieFragment moof;
  size_t moof_offset = 0;
  size_t mdat_payload_offset = 0;
  size_t mdat_payload_size = 0;
};
inline ParsedFragment parse_fragment(const Bytes& bytes) {
  ParsedFragment out;
  auto boxes = mp4::split_children(bytes);
  EXPECT_TRUE(boxes.is_ok()) << boxes.status().to_string();
  if (!boxes) return out;
  for (const mp4::RawBox& b : *boxes) {
    out.types.push_back(b.type);
    size_t payload_at = static_cast<size_t>(b.payload.data() - bytes.data());
    if (b.type == mp4::fourcc("moof")) {
      out.moof_offset = payload_at - 8;
      EXPECT_TRUE(mp4::read_box_payload(b.payload, out.moof).is_ok());
    }
    if (b.type == mp4::fourcc("mdat")) {
      out.mdat_payload_offset = payload_at;
      out.mdat_payload_size = b.payload.size();
    }
  }
  return out;
}

// The flags a reader gives sample k: per-sample in trun, else the tfhd default.
inline uint32_t effective_flags(const TrackFragment& traf, size_t k) {
  return (traf.trun.flags & mp4::Trun::kSampleFlags) ? traf.trun.entries[k].flags
                                                     : traf.tfhd.default_sample_flags;
}

}  // namespace ams::fmp4::test
