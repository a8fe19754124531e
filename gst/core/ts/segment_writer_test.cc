#include "ts/segment_writer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "codec/aac.h"
#include "ts/packet.h"

namespace ams::ts {
namespace {

// avcC: High 3.1, 4-byte lengths, SPS 67 64 00 1f, PPS 68 eb e3 cb.
const Bytes kAvcc = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64,
                     0x00, 0x1f, 0x01, 0x00, 0x04, 0x68, 0xeb, 0xe3, 0xcb};
const Bytes kParamsAnnexB = {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f,
                             0, 0, 0, 1, 0x68, 0xeb, 0xe3, 0xcb};
const Bytes kAud = {0, 0, 0, 1, 0x09, 0xf0};

// A length-prefixed access unit of one slice NAL of `size` bytes in total.
Bytes slice_sample(size_t size, bool idr, uint8_t fill) {
  Bytes b(size, fill);
  const uint32_t n = static_cast<uint32_t>(size - 4);
  b[0] = static_cast<uint8_t>(n >> 24), b[1] = static_cast<uint8_t>(n >> 16);
  b[2] = static_cast<uint8_t>(n >> 8), b[3] = static_cast<uint8_t>(n);
  b[4] = static_cast<uint8_t>(idr ? 0x65 : 0x41);
  return b;
}

struct TrackData {
  std::vector<model::Sample> samples;
  std::vector<Bytes> bytes;
  std::vector<ByteSpan> payloads;
  void add(model::Sample s, Bytes b) {
    s.size = static_cast<uint32_t>(b.size());
    samples.push_back(s);
    bytes.push_back(std::move(b));
    payloads.assign(bytes.begin(), bytes.end());
  }
};

// 25 fps in timescale 12800 (512 ticks/frame), keyframe every 25, B-frame like offsets, shift 1024.
TrackData make_video(size_t frames, uint32_t seed = 1) {
  TrackData t;
  for (size_t i = 0; i < frames; ++i) {
    const bool idr = i % 25 == 0;
    const size_t size = 5 + (seed * 7919 + i * 104729) % 3000;
    model::Sample s;
    s.dts = static_cast<int64_t>(i) * 512;
    s.duration = 512;
    s.cts_offset = idr ? 0 : (i % 3 == 1 ? 1024 : -512);
    s.sync = idr;
    t.add(s, slice_sample(size, idr, static_cast<uint8_t>(i)));
  }
  return t;
}

// AAC-LC 48 kHz: 1024-sample frames.
TrackData make_audio(size_t frames) {
  TrackData t;
  for (size_t i = 0; i < frames; ++i) {
    model::Sample s;
    s.dts = static_cast<int64_t>(i) * 1024;
    s.duration = 1024;
    s.sync = true;
    t.add(s, Bytes(200 + i % 50, static_cast<uint8_t>(i)));
  }
  return t;
}

Stream make_stream(model::Codec codec, Bytes priv, uint32_t timescale, int64_t shift) {
  StreamConfig c{codec, std::move(priv), timescale, shift};
  auto s = Stream::create(c);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return std::move(s).value();
}

// What a demuxer sees: per PID, the packets' continuity counters and the reassembled PES units.
struct Pes {
  Bytes data;  // header included
  bool random_access = false;
  std::optional<int64_t> pcr;
};
struct Parsed {
  std::map<uint16_t, std::vector<uint8_t>> continuity;
  std::map<uint16_t, std::vector<Pes>> pes;
  size_t packets = 0;
};

Parsed parse_ts(const Bytes& ts) {
  Parsed p;
  EXPECT_EQ(ts.size() % kPacketSize, 0u);
  for (size_t off = 0; off + kPacketSize <= ts.size(); off += kPacketSize) {
    const uint8_t* b = &ts[off];
    EXPECT_EQ(b[0], 0x47) << "packet " << p.packets;
    ++p.packets;
    const uint16_t pid = static_cast<uint16_t>(((b[1] & 0x1f) << 8) | b[2]);
    const bool start = b[1] & 0x40;
    p.continuity[pid].push_back(b[3] & 0xf);
    size_t pos = 4;
    Pes marks;
    if (b[3] & 0x20) {
      const size_t len = b[4];
      if (len > 0) {
        marks.random_access = b[5] & 0x40;
        if (b[5] & 0x10) {
          marks.pcr = (int64_t{b[6]} << 25) | (int64_t{b[7]} << 17) | (int64_t{b[8]} << 9) |
                      (int64_t{b[9]} << 1) | (b[10] >> 7);
        }
      }
      pos += 1 + len;
    }
    EXPECT_LT(pos, kPacketSize) << "a packet without payload";
    if (pid == kPatPid || pid == kPmtPid) continue;
    auto& units = p.pes[pid];
    if (start) units.push_back(marks);
    EXPECT_FALSE(units.empty()) << "payload before a unit start";
    if (!units.empty()) units.back().data.insert(units.back().data.end(), b + pos, b + kPacketSize);
  }
  return p;
}

int64_t read_ts(const uint8_t* b) {
  return (int64_t{b[0] & 0x0e} << 29) | (int64_t{b[1]} << 22) | (int64_t{b[2] >> 1} << 15) |
         (int64_t{b[3]} << 7) | (b[4] >> 1);
}
int64_t pes_pts(const Pes& p) {
  return read_ts(&p.data[9]);
}
std::optional<int64_t> pes_dts(const Pes& p) {
  if ((p.data[7] & 0xc0) != 0xc0) return std::nullopt;
  return read_ts(&p.data[14]);
}
Bytes pes_es(const Pes& p) {
  return Bytes(p.data.begin() + 9 + p.data[8], p.data.end());
}
Bytes annexb(const Bytes& sample) {
  ByteWriter w;
  EXPECT_TRUE(codec::length_prefixed_to_annexb(sample, 4, w).is_ok());
  return w.take();
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void expect_continuous(const Parsed& p) {
  for (const auto& [pid, ccs] : p.continuity) {
    for (size_t i = 1; i < ccs.size(); ++i) {
      ASSERT_EQ(ccs[i], (ccs[i - 1] + 1) & 0xf) << "PID " << pid << " packet " << i;
    }
  }
}

TEST(TsSegment, VideoAccessUnitsBecomeAnnexBWithAudAndParameterSets) {
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 1024);
  TrackData v = make_video(3);
  SegmentInput in;
  in.video = {&video, v.samples, v.payloads, 0};
  ByteWriter out;
  ASSERT_TRUE(write_segment(in, out).is_ok());
  const Parsed p = parse_ts(out.bytes());
  EXPECT_EQ(out.bytes()[1], 0x40);  // PAT first, PMT second
  EXPECT_EQ(out.bytes()[kPacketSize + 1], 0x50);
  EXPECT_EQ(out.bytes()[kPacketSize + 17], 0x1b);  // stream_type H.264
  const auto& units = p.pes.at(kVideoPid);
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(pes_es(units[0]), cat({kAud, kParamsAnnexB, annexb(v.bytes[0])}));
  EXPECT_EQ(pes_es(units[1]), cat({kAud, annexb(v.bytes[1])}));
  EXPECT_TRUE(units[0].random_access);
  EXPECT_FALSE(units[1].random_access);
  // PTS = pts + 10 s; DTS = dts - shift + 10 s; PCR = DTS. 512 ticks of 12800 = 3600 at 90 kHz.
  EXPECT_EQ(pes_pts(units[0]), 900000);
  EXPECT_EQ(pes_dts(units[0]), 900000 - 7200);
  EXPECT_EQ(units[0].pcr, 900000 - 7200);
  EXPECT_EQ(pes_pts(units[1]), 900000 + 3600 + 7200);
  EXPECT_EQ(pes_dts(units[1]), 900000 + 3600 - 7200);
  EXPECT_EQ(pes_pts(units[2]), 900000 + 7200 - 3600);
  EXPECT_EQ(units[2].pcr, 900000 + 7200 - 7200);
  // PES_packet_length covers the bytes after it.
  EXPECT_EQ((units[1].data[4] << 8) | units[1].data[5], static_cast<int>(units[1].data.size()) - 6);
  expect_continuous(p);
}

TEST(TsSegment, NothingDuplicatedWhenTheSampleCarriesAudAndParameterSets) {
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 0);
  const Bytes carried = {0, 0, 0, 2,    0x09, 0x10, 0,    0, 0, 4, 0x67, 0x64, 0x00, 0x1f, 0,
                         0, 0, 4, 0x68, 0xeb, 0xe3, 0xcb, 0, 0, 0, 3,    0x65, 0x88, 0x80};
  TrackData bare, full;
  model::Sample s;
  s.sync = true;
  s.duration = 512;
  bare.add(s, slice_sample(carried.size(), true, 0x80));
  full.add(s, carried);
  auto write = [&](const TrackData& t) {
    SegmentInput in;
    in.video = {&video, t.samples, t.payloads, 0};
    ByteWriter out;
    EXPECT_TRUE(write_segment(in, out).is_ok());
    return out.take();
  };
  const Bytes a = write(bare), b = write(full);
  EXPECT_EQ(a.size(), b.size());  // the count comes from the sizes: the room is stuffed
  const auto units = parse_ts(b).pes.at(kVideoPid);
  EXPECT_EQ(pes_es(units[0]), annexb(carried));
}

TEST(TsSegment, AudioAloneCarriesThePcrAndGroupsFramesInAdts) {
  const Stream audio =
      make_stream(model::Codec::kAac, codec::make_audio_specific_config(2, 48000, 2), 48000, 0);
  TrackData a = make_audio(10);
  SegmentInput in;
  in.audio = {&audio, a.samples, a.payloads, 7};
  ByteWriter out;
  ASSERT_TRUE(write_segment(in, out).is_ok());
  EXPECT_EQ(out.bytes()[kPacketSize + 13], 0xe1);  // PCR PID 0x101
  EXPECT_EQ(out.bytes()[kPacketSize + 14], 0x01);
  const Parsed p = parse_ts(out.bytes());
  EXPECT_EQ(p.continuity.at(kAudioPid).front(), 7);
  const auto& units = p.pes.at(kAudioPid);
  ASSERT_EQ(units.size(), 3u);  // 4 frames (85 ms) per PES: 4 + 4 + 2
  EXPECT_EQ(units[1].pcr, 900000 + 4 * 1920);
  EXPECT_EQ(pes_pts(units[1]), 900000 + 4 * 1920);
  EXPECT_FALSE(pes_dts(units[1]).has_value());
  EXPECT_EQ(units[0].data[3], 0xc0);
  ByteWriter expected;
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(codec::write_adts_header(*codec::parse_audio_specific_config(
                                             codec::make_audio_specific_config(2, 48000, 2)),
                                         a.bytes[i].size(), expected)
                    .is_ok());
    expected.bytes(a.bytes[i]);
  }
  EXPECT_EQ(pes_es(units[0]), expected.bytes());
  expect_continuous(p);
}

TEST(TsSegment, MuxedSegmentInterleavesByDecodeTime) {
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 1024);
  const Stream audio =
      make_stream(model::Codec::kAac, codec::make_audio_specific_config(2, 48000, 2), 48000, 0);
  TrackData v = make_video(25), a = make_audio(47);
  SegmentInput in;
  in.video = {&video, v.samples, v.payloads, 0};
  in.audio = {&audio, a.samples, a.payloads, 0};
  ByteWriter out;
  ASSERT_TRUE(write_segment(in, out).is_ok());
  const Parsed p = parse_ts(out.bytes());
  EXPECT_EQ(p.pes.at(kVideoPid).size(), 25u);
  for (const Pes& u : p.pes.at(kAudioPid)) EXPECT_FALSE(u.pcr.has_value());
  // Every audio PES follows the video PES with the latest DTS not after it.
  int64_t last_dts = 0;
  for (size_t off = 2 * kPacketSize; off < out.size(); off += kPacketSize) {
    const uint8_t* b = &out.bytes()[off];
    if (!(b[1] & 0x40)) continue;
    const size_t pos = 4 + ((b[3] & 0x20) ? 1 + b[4] : 0);
    const int64_t t = (b[pos + 7] & 0x40) ? read_ts(b + pos + 14) : read_ts(b + pos + 9);
    EXPECT_GE(t, last_dts);
    last_dts = t;
  }
  ByteWriter size_only = ByteWriter::size_only();
  ASSERT_TRUE(write_segment(in, size_only).is_ok());
  EXPECT_EQ(size_only.size(), out.size());
}

TEST(TsSegment, SizeOnlyPassNeedsNoPayloadAndMatches) {
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 1024);
  const Stream audio =
      make_stream(model::Codec::kAac, codec::make_audio_specific_config(2, 48000, 2), 48000, 0);
  TrackData v = make_video(60, 3), a = make_audio(113);
  for (bool with_video : {true, false}) {
    SegmentInput in;
    if (with_video) in.video = {&video, v.samples, v.payloads, 0};
    in.audio = {&audio, a.samples, a.payloads, 0};
    ByteWriter out;
    ASSERT_TRUE(write_segment(in, out).is_ok());
    SegmentInput index_only = in;
    index_only.video.payloads = {};
    index_only.audio.payloads = {};
    auto size = segment_size(index_only);
    ASSERT_TRUE(size.is_ok()) << size.status().to_string();
    EXPECT_EQ(*size, out.size());
    std::vector<Bytes> packets;
    ASSERT_TRUE(write_segment(in, [&](ByteSpan pkt) {
                  packets.emplace_back(pkt.begin(), pkt.end());
                }).is_ok());
    ASSERT_EQ(packets.size() * kPacketSize, out.size());
    EXPECT_TRUE(
        std::equal(packets.back().begin(), packets.back().end(), out.bytes().end() - kPacketSize));
  }
}

TEST(TsSegment, TwoByteNalLengthsConvertAndSizeFromThePayload) {
  Bytes avcc = kAvcc;
  avcc[4] = 0xfd;
  const Stream video = make_stream(model::Codec::kH264, avcc, 12800, 0);
  ASSERT_TRUE(video.size_needs_payload());
  TrackData t;
  model::Sample s;
  s.sync = true;
  t.add(s, {0, 3, 0x65, 0x88, 0x80, 0, 2, 0x01, 0x02});
  SegmentInput in;
  in.video = {&video, t.samples, t.payloads, 0};
  ByteWriter out;
  ASSERT_TRUE(write_segment(in, out).is_ok());
  EXPECT_EQ(pes_es(parse_ts(out.bytes()).pes.at(kVideoPid)[0]),
            cat({kAud, kParamsAnnexB, {0, 0, 0, 1, 0x65, 0x88, 0x80, 0, 0, 0, 1, 0x01, 0x02}}));
  auto size = segment_size(in);
  ASSERT_TRUE(size.is_ok());
  EXPECT_EQ(*size, out.size());
  in.video.payloads = {};
  EXPECT_FALSE(segment_size(in).is_ok());
}

// The server writes segment N without having written N - 1: the counters must still chain.
TEST(TsSegment, ContinuityChainsAcrossIndependentlyWrittenSegments) {
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 1024);
  const Stream audio =
      make_stream(model::Codec::kAac, codec::make_audio_specific_config(2, 48000, 2), 48000, 0);
  TrackData v = make_video(75, 5), a = make_audio(141);
  const uint32_t video_starts[] = {0, 25, 50};
  const uint32_t audio_starts[] = {0, 47, 94};
  Bytes joined;
  for (size_t seg = 0; seg < 3; ++seg) {
    auto vcc = continuity_at(video, v.samples, video_starts, seg, true);
    auto acc = continuity_at(audio, a.samples, audio_starts, seg, false);
    ASSERT_TRUE(vcc.is_ok() && acc.is_ok());
    const size_t vb = video_starts[seg], ve = seg + 1 < 3 ? video_starts[seg + 1] : 75;
    const size_t ab = audio_starts[seg], ae = seg + 1 < 3 ? audio_starts[seg + 1] : 141;
    SegmentInput in;
    in.index = seg;
    in.video = {&video, std::span(v.samples).subspan(vb, ve - vb),
                std::span(v.payloads).subspan(vb, ve - vb), *vcc};
    in.audio = {&audio, std::span(a.samples).subspan(ab, ae - ab),
                std::span(a.payloads).subspan(ab, ae - ab), *acc};
    ByteWriter out;
    ASSERT_TRUE(write_segment(in, out).is_ok());
    joined.insert(joined.end(), out.bytes().begin(), out.bytes().end());
  }
  const Parsed p = parse_ts(joined);
  EXPECT_EQ(p.pes.at(kVideoPid).size(), 75u);
  expect_continuous(p);
}

TEST(TsSegment, Ac3UsesPrivateStreamAndRegistration) {
  const Stream ac3 = make_stream(model::Codec::kAc3, {0x10, 0x3d, 0xe0}, 48000, 0);
  EXPECT_EQ(ac3.stream_type(), 0x81);
  EXPECT_EQ(ac3.stream_id(), 0xbd);
  const Stream eac3 = make_stream(model::Codec::kEac3, {0x08, 0x00, 0x20, 0x0f, 0x00}, 48000, 0);
  EXPECT_EQ(eac3.stream_type(), 0x87);
  TrackData t;
  model::Sample s;
  s.sync = true;
  s.duration = 1536;
  t.add(s, Bytes(768, 0x0b));
  SegmentInput in;
  in.audio = {&ac3, t.samples, t.payloads, 0};
  ByteWriter out;
  ASSERT_TRUE(write_segment(in, out).is_ok());
  const auto units = parse_ts(out.bytes()).pes.at(kAudioPid);
  EXPECT_EQ(units[0].data[3], 0xbd);
  EXPECT_EQ(pes_es(units[0]), t.bytes[0]);  // frames as stored
}

TEST(TsSegment, RefusesWhatItCannotWrite) {
  EXPECT_FALSE(Stream::create({model::Codec::kWebVtt, {}, 1000, 0}).is_ok());
  EXPECT_FALSE(Stream::create({model::Codec::kH264, {0x01, 0x64}, 12800, 0}).is_ok());
  EXPECT_FALSE(Stream::create({model::Codec::kH264, kAvcc, 0, 0}).is_ok());
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 0);
  TrackData t;
  model::Sample s;
  s.sync = true;
  t.add(s, {0, 0, 0, 9, 0x65});  // NAL length past the sample
  SegmentInput in;
  in.video = {&video, t.samples, t.payloads, 0};
  ByteWriter out;
  EXPECT_FALSE(write_segment(in, out).is_ok());
  SegmentInput empty;
  EXPECT_FALSE(write_segment(empty, out).is_ok());
  // A composition shift larger than the offset would make DTS negative.
  const Stream shifted = make_stream(model::Codec::kH264, kAvcc, 1, 11);
  in.video.stream = &shifted;
  EXPECT_EQ(write_segment(in, out).code(), StatusCode::kInvalidArgument);
}

TEST(TsSegment, FfprobeReadsTheSegment) {
  if (std::system("ffprobe -version > /dev/null 2>&1") != 0) GTEST_FAIL() << "no ffprobe";
  const Stream audio =
      make_stream(model::Codec::kAac, codec::make_audio_specific_config(2, 48000, 2), 48000, 0);
  const Stream video = make_stream(model::Codec::kH264, kAvcc, 12800, 1024);
  TrackData v = make_video(25), a = make_audio(47);
  SegmentInput in;
  in.video = {&video, v.samples, v.payloads, 0};
  in.audio = {&audio, a.samples, a.payloads, 0};
  ByteWriter out;
  ASSERT_TRUE(write_segment(in, out).is_ok());
  char path[] = "/tmp/ams_ts_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  FILE* f = fdopen(fd, "wb");
  fwrite(out.bytes().data(), 1, out.size(), f);
  fclose(f);
  const std::string cmd =
      std::string("ffprobe -v quiet -show_entries packet=codec_type,pts -of csv ") + path;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string text;
  char buf[256];
  while (fgets(buf, sizeof buf, pipe)) text += buf;
  pclose(pipe);
  std::remove(path);
  size_t video_packets = 0, audio_packets = 0;
  for (size_t pos = 0; (pos = text.find("packet,", pos)) != std::string::npos; ++pos) {
    if (text.compare(pos, 12, "packet,video") == 0) ++video_packets;
    if (text.compare(pos, 12, "packet,audio") == 0) ++audio_packets;
  }
  EXPECT_EQ(video_packets, 25u) << text;
  EXPECT_EQ(audio_packets, 47u) << text;  // the ADTS parser splits the PES back into frames
  EXPECT_NE(text.find("packet,video,900000"), std::string::npos) << text;
}

}  // namespace
}  // namespace ams::ts
