// Turns fuzzer bytes into an asset as a third-party packager could have written it: 1-4 MP4 files
// of 1-3 tracks each (H.264 or HEVC video with a real avcC / hvcC, AAC audio with an
// AudioSpecificConfig, a text track), progressive (stts, ctts, stss, stsc, stco/co64, an edit
// list) or fragmented (mvex, moof/traf/tfhd/tfdt/trun), and maybe an .ism naming them and a
// WebVTT side-car. Every choice comes from a FuzzedDataProvider, so that libFuzzer's mutations of
// the bytes move through valid but unusual files (irregular, zero and huge durations, negative
// composition offsets, empty edits, odd timescales, trackID params that name the wrong track)
// rather than through files the box parser turns away at the first byte.
//
// The MP4 writer is this file's own, written from ISO/IEC 14496-12, not the project's fmp4/
// writers: those produce what the server sends, and a bug they share with the reader would hide.
// Sizes are bounded (at most 48 samples a track of at most 1 KiB) so that one input stays fast.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The generator is not instrumented for coverage: libFuzzer is to steer by what the input reaches
// in the code under test, not by the generator's own branches, which only added features for it
// to keep track of (the time of a run went mostly to that bookkeeping) and made coverage figures
// incomparable with index_fuzzer's.
#define AMS_GENERATOR __attribute__((no_sanitize("coverage")))

namespace ams::fuzz {

// A box writer: big-endian fields, boxes closed by patching their size in.
class BoxOut {
 public:
  std::vector<uint8_t> bytes;

  AMS_GENERATOR void u8(uint32_t v) { bytes.push_back(static_cast<uint8_t>(v)); }
  AMS_GENERATOR void u16(uint32_t v) {
    u8(v >> 8);
    u8(v);
  }
  AMS_GENERATOR void u24(uint32_t v) {
    u8(v >> 16);
    u16(v);
  }
  AMS_GENERATOR void u32(uint32_t v) {
    u16(v >> 16);
    u16(v);
  }
  AMS_GENERATOR void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  AMS_GENERATOR void zeros(size_t n) { bytes.insert(bytes.end(), n, 0); }
  AMS_GENERATOR void raw(const std::vector<uint8_t>& b) {
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  AMS_GENERATOR void type(const char* t) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(t[i]));
  }
  AMS_GENERATOR size_t begin(const char* t) {
    size_t at = bytes.size();
    u32(0);
    type(t);
    return at;
  }
  AMS_GENERATOR size_t full(const char* t, uint8_t version, uint32_t flags) {
    size_t at = begin(t);
    u8(version);
    u24(flags);
    return at;
  }
  AMS_GENERATOR void end(size_t at) {
    uint32_t size = static_cast<uint32_t>(bytes.size() - at);
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(size >> (24 - 8 * i));
  }
  AMS_GENERATOR void patch32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
  }
  AMS_GENERATOR size_t size() const { return bytes.size(); }
};

enum class GenKind { kAvc, kHevc, kAac, kText };

struct GenSample {
  uint32_t size = 0;
  uint32_t duration = 0;
  int32_t cts = 0;
  bool sync = true;
};

struct GenTrack {
  GenKind kind = GenKind::kAvc;
  uint32_t id = 1;
  uint32_t timescale = 90000;
  std::string fourcc;   // avc1, avc3, hvc1, hev1, mp4a, tx3g, wvtt
  std::string handler;  // vide, soun, text, sbtl, ...
  std::string language;
  std::vector<uint8_t> config;  // avcC / hvcC payload, AudioSpecificConfig
  uint8_t nal_length = 4;
  uint16_t width = 0, height = 0;
  uint16_t channels = 2;
  uint32_t sample_rate = 48000;
  std::vector<GenSample> samples;
  bool ctts = false;
  uint8_t ctts_version = 0;
  bool stss = false;
  bool constant_size = false;
  // Edit list: none, or [empty edit of empty_duration] + one edit at media_time of
  // segment_duration (movie timescale), maybe followed by a second one.
  bool edts = false;
  uint8_t elst_version = 0;
  uint64_t empty_duration = 0;
  int64_t media_time = 0;
  uint64_t segment_duration = 0;
  bool second_edit = false;
  uint32_t samples_per_chunk = 1;
  uint32_t samples_per_fragment = 1;
  // Fragmented layout: trun fields written per sample or through tfhd / trex defaults.
  uint32_t trun_flags = 0;
  uint8_t trun_version = 0;
  bool tfdt = true;
  uint8_t tfdt_version = 1;
  bool tfhd_defaults = false;
  // Where each sample's bytes went (filled by the writer).
  std::vector<uint64_t> offsets;
};

struct GenFile {
  std::string name;
  bool fragmented = false;
  bool moov_first = true;
  bool co64 = false;
  bool mehd = false;
  uint32_t movie_timescale = 1000;
  uint32_t cut = 0;  // bytes cut off the end (a truncated copy)
  std::vector<GenTrack> tracks;
};

struct GenAsset {
  enum class Mode { kFile, kFolder, kIsm, kFolderWithIsm } mode = Mode::kFile;
  std::vector<GenFile> files;
  std::string ism;
  bool vtt = false;
};

// avcC of the project's writer tests (High 3.1, one SPS and PPS); byte 4 carries the NAL length.
inline const std::vector<uint8_t> kGenAvcc = {0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x0c, 0x67,
                                              0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb,
                                              0x01, 0x10, 0x01, 0x00, 0x04, 0x68, 0xeb, 0xe3, 0xcb};
// hvcC from x265 3.5 (Main, level 3, 64x48), VPS, SPS and PPS; byte 21 carries the NAL length.
inline const std::vector<uint8_t> kGenHvcc = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xf0, 0x00, 0xfc,
    0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0x20, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01,
    0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
    0x1e, 0x95, 0x98, 0x09, 0x21, 0x00, 0x01, 0x00, 0x29, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0xa0, 0x20, 0x83, 0x16, 0x59,
    0x59, 0xae, 0x4c, 0xaf, 0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x00,
    0x50, 0x40, 0x22, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc1, 0x73, 0xd0, 0x89};

// --- Decoding the description ---------------------------------------------------------------

// True with probability p. When the input runs out (every value then reads as 0) the usual case
// is taken: an input's short tail must not turn into the rare, odd choices.
AMS_GENERATOR inline bool chance(FuzzedDataProvider& in, double p) {
  const double v = in.ConsumeProbability<double>();
  return p < 0.5 ? v > 1.0 - p : v <= p;
}

AMS_GENERATOR inline uint32_t pick_timescale(FuzzedDataProvider& in, GenKind kind) {
  static constexpr uint32_t kVideo[] = {90000, 30000, 24000, 25, 1000, 10000000, 1, 600};
  static constexpr uint32_t kAudio[] = {48000, 44100, 22050, 8000, 1000, 90000, 1, 96000};
  if (chance(in, 0.1)) return in.ConsumeIntegral<uint32_t>();
  return kind == GenKind::kAac ? in.PickValueInArray(kAudio) : in.PickValueInArray(kVideo);
}

AMS_GENERATOR inline std::vector<uint8_t> pick_asc(FuzzedDataProvider& in, uint32_t& rate,
                                                   uint16_t& channels) {
  struct Known {
    std::vector<uint8_t> asc;
    uint32_t rate;
    uint16_t channels;
  };
  static const Known kKnown[] = {
      {{0x12, 0x10}, 44100, 2},                    // AAC-LC 44.1 kHz stereo
      {{0x11, 0x90}, 48000, 2},                    // AAC-LC 48 kHz stereo
      {{0x11, 0x88}, 48000, 1},                    // AAC-LC 48 kHz mono
      {{0x15, 0x88}, 8000, 1},                     // AAC-LC 8 kHz mono
      {{0x11, 0xb8}, 48000, 8},                    // AAC-LC 48 kHz, channel configuration 7 (7.1)
      {{0x13, 0x10, 0x56, 0xe5, 0x98}, 22050, 2},  // LC 22.05 kHz + SBR sync extension (HE-AAC)
      {{0x2b, 0x92, 0x08, 0x00}, 24000, 2},        // HE-AAC (object type 5), explicit
      {{0x17, 0x80, 0xbb, 0x80, 0x10}, 48000, 2},  // LC, explicit 24-bit sample rate
      {{0x10, 0x00}, 96000, 0},                    // channel configuration 0 (a PCE follows)
  };
  if (chance(in, 0.1)) {
    rate = in.ConsumeIntegralInRange<uint32_t>(0, 200000);
    channels = in.ConsumeIntegralInRange<uint16_t>(0, 9);
    return in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 6));
  }
  const Known& k = kKnown[in.ConsumeIntegralInRange<size_t>(0, std::size(kKnown) - 1)];
  rate = k.rate;
  channels = k.channels;
  return k.asc;
}

AMS_GENERATOR inline uint32_t pick_duration(FuzzedDataProvider& in, uint32_t usual, uint8_t mode) {
  switch (mode) {
    case 0:
      return usual;
    case 1:  // irregular: a little off the usual, as variable frame rate or dropped frames
      return usual + in.ConsumeIntegralInRange<uint32_t>(0, usual) - usual / 2;
    case 2:  // some zero
      return in.ConsumeBool() ? 0 : usual;
    case 3:  // anything, huge included
      return in.ConsumeIntegral<uint32_t>();
    default:
      return static_cast<uint32_t>(
          in.ConsumeIntegralInRange<uint64_t>(0, std::min<uint64_t>(UINT32_MAX, 4ull * usual + 1)));
  }
}

AMS_GENERATOR inline GenTrack gen_track(FuzzedDataProvider& in, uint32_t id,
                                        uint32_t movie_timescale) {
  GenTrack t;
  t.id = id;
  static constexpr GenKind kKinds[] = {GenKind::kAvc, GenKind::kAac, GenKind::kHevc,
                                       GenKind::kText};
  t.kind = in.PickValueInArray(kKinds);
  t.timescale = pick_timescale(in, t.kind);
  static const char* kLanguages[] = {"und", "eng", "fre", "spa", "", "zzz"};
  t.language = in.PickValueInArray(kLanguages);
  uint32_t usual = 1;
  switch (t.kind) {
    case GenKind::kAvc:
    case GenKind::kHevc: {
      const bool avc = t.kind == GenKind::kAvc;
      t.fourcc = avc ? (in.ConsumeBool() ? "avc1" : "avc3") : (in.ConsumeBool() ? "hvc1" : "hev1");
      t.handler = "vide";
      static constexpr uint8_t kNalLengths[] = {4, 4, 4, 2, 1};
      t.nal_length = in.PickValueInArray(kNalLengths);
      t.config = avc ? kGenAvcc : kGenHvcc;
      if (avc) t.config[4] = static_cast<uint8_t>(0xfc | (t.nal_length - 1));
      if (!avc) t.config[21] = static_cast<uint8_t>(0xfc | (t.nal_length - 1));
      static constexpr uint16_t kSizes[] = {64, 1280, 1920, 0, 4096};
      t.width = in.PickValueInArray(kSizes);
      t.height = t.width * 9 / 16;
      usual = std::max<uint32_t>(1, t.timescale / 25);
      break;
    }
    case GenKind::kAac:
      t.fourcc = "mp4a";
      t.handler = "soun";
      t.config = pick_asc(in, t.sample_rate, t.channels);
      usual = 1024;
      break;
    case GenKind::kText:
      t.fourcc = in.ConsumeBool() ? "tx3g" : "wvtt";
      t.handler = in.ConsumeBool() ? "text" : "sbtl";
      usual = std::max<uint32_t>(1, t.timescale);
      break;
  }
  // A handler that says something else than the codec: muxers get this wrong too.
  if (chance(in, 0.05)) {
    static const char* kHandlers[] = {"vide", "soun", "text", "meta", "hint"};
    t.handler = in.PickValueInArray(kHandlers);
  }

  // No samples at all is rare: such a track only fails the build.
  const size_t count =
      chance(in, 0.03) ? 0
                       : in.ConsumeIntegralInRange<size_t>(1, t.kind == GenKind::kText ? 6 : 48);
  const uint8_t duration_mode = in.ConsumeIntegralInRange<uint8_t>(0, 5);
  const uint32_t gop = in.ConsumeIntegralInRange<uint32_t>(1, 12);
  const uint8_t sync_mode = in.ConsumeIntegralInRange<uint8_t>(0, 3);
  const uint8_t cts_mode = in.ConsumeIntegralInRange<uint8_t>(0, 4);
  t.constant_size = chance(in, 0.2);
  const uint32_t base_size = in.ConsumeIntegralInRange<uint32_t>(0, 1024);
  const uint32_t frame = duration_mode == 0 ? usual : pick_duration(in, usual, duration_mode);
  for (size_t k = 0; k < count; ++k) {
    GenSample s;
    s.duration = duration_mode == 0 ? frame : pick_duration(in, usual, duration_mode);
    s.size = t.constant_size ? base_size : in.ConsumeIntegralInRange<uint32_t>(0, 1024);
    const bool video = t.kind == GenKind::kAvc || t.kind == GenKind::kHevc;
    switch (video ? sync_mode : 0) {
      case 0:
        s.sync = !video || k % gop == 0;
        break;
      case 1:  // the first sample not a key frame (an open GOP cut, a broken file)
        s.sync = k % gop == gop - 1;
        break;
      case 2:
        s.sync = in.ConsumeBool();
        break;
      default:  // no key frame at all
        s.sync = false;
        break;
    }
    const int32_t f = static_cast<int32_t>(std::min<uint32_t>(frame, 1u << 24));
    switch (cts_mode) {
      case 0:
        s.cts = 0;
        break;
      case 1: {  // I P B B in decode order, presented 0 3 1 2, offsets kept positive
        static constexpr int32_t kPattern[] = {1, 3, 0, 0};
        s.cts = kPattern[k % 4] * f;
        break;
      }
      case 2: {  // the same with signed offsets (ctts version 1, no edit needed)
        static constexpr int32_t kPattern[] = {0, 2, -1, -1};
        s.cts = kPattern[k % 4] * f;
        break;
      }
      case 3:
        s.cts = in.ConsumeIntegralInRange<int32_t>(-4 * f, 4 * f);
        break;
      default:
        s.cts = in.ConsumeIntegral<int32_t>();
        break;
    }
    t.samples.push_back(s);
  }
  t.ctts = cts_mode != 0 || in.ConsumeBool();
  t.ctts_version = cts_mode == 2 || in.ConsumeBool() ? 1 : 0;
  t.stss = t.kind == GenKind::kAvc || t.kind == GenKind::kHevc ? sync_mode != 0 || in.ConsumeBool()
                                                               : in.ConsumeBool();
  if (!t.stss) {
    for (GenSample& s : t.samples) s.sync = true;  // no stss: every sample is a sync sample
  }

  // The edit list: what ffmpeg writes for B-frames (media_time = the first presentation
  // offset), an AAC priming skip (1024 or 2112 samples), an empty edit first, or anything.
  const uint8_t edit_mode = in.ConsumeIntegralInRange<uint8_t>(0, 5);
  t.edts = edit_mode != 0;
  t.elst_version = in.ConsumeBool() ? 1 : 0;
  uint64_t media_duration = 0;
  for (const GenSample& s : t.samples) media_duration += s.duration;
  const uint64_t movie_duration = t.timescale ? media_duration * movie_timescale / t.timescale : 0;
  t.segment_duration = in.ConsumeBool() ? 0 : movie_duration;
  switch (edit_mode) {
    case 1:
      t.media_time = t.samples.empty() ? 0 : t.samples[0].cts;
      break;
    case 2:
      t.media_time = in.ConsumeBool() ? 1024 : 2112;
      break;
    case 3:
      t.empty_duration =
          in.ConsumeIntegralInRange<uint64_t>(1, std::max<uint64_t>(1, 2ull * movie_timescale));
      t.media_time = 0;
      break;
    case 4:
      t.empty_duration = in.ConsumeBool() ? in.ConsumeIntegral<uint32_t>() : 0;
      t.media_time = in.ConsumeIntegralInRange<int64_t>(-2, 1 << 20);
      t.segment_duration = in.ConsumeIntegral<uint32_t>();
      break;
    case 5:
      t.media_time = 0;
      t.second_edit = true;
      break;
    default:
      break;
  }
  t.samples_per_chunk = in.ConsumeIntegralInRange<uint32_t>(1, 16);
  t.samples_per_fragment = in.ConsumeIntegralInRange<uint32_t>(1, 16);
  t.trun_flags = 0x001 | (in.ConsumeBool() ? 0x100 : 0) | (in.ConsumeBool() ? 0x200 : 0) |
                 (in.ConsumeBool() ? 0x400 : 0) | (t.ctts ? 0x800 : 0) |
                 (in.ConsumeBool() ? 0x004 : 0);
  t.trun_version = t.ctts_version;
  t.tfdt = chance(in, 0.9);
  t.tfdt_version = in.ConsumeBool() ? 1 : 0;
  t.tfhd_defaults = in.ConsumeBool();
  return t;
}

AMS_GENERATOR inline GenFile gen_file(FuzzedDataProvider& in, size_t n) {
  GenFile f;
  static const char* kExt[] = {".mp4", ".mp4", ".ismv", ".isma"};
  f.name = "f" + std::to_string(n) + in.PickValueInArray(kExt);
  f.fragmented = in.ConsumeBool();
  f.moov_first = in.ConsumeBool();
  f.co64 = chance(in, 0.2);
  f.mehd = in.ConsumeBool();
  static constexpr uint32_t kMovie[] = {1000, 600, 90000, 1, 10000000};
  f.movie_timescale =
      chance(in, 0.05) ? in.ConsumeIntegral<uint32_t>() : in.PickValueInArray(kMovie);
  const size_t tracks = in.ConsumeIntegralInRange<size_t>(1, 3);
  for (size_t k = 0; k < tracks; ++k) {
    // Track IDs are usually 1, 2, 3; sometimes not (gaps, 0, a duplicate).
    uint32_t id = static_cast<uint32_t>(k + 1);
    if (chance(in, 0.1)) id = in.ConsumeIntegralInRange<uint32_t>(0, 5);
    f.tracks.push_back(gen_track(in, id, f.movie_timescale));
  }
  if (chance(in, 0.05)) f.cut = in.ConsumeIntegralInRange<uint32_t>(1, 4096);
  return f;
}

// --- Writing the MP4 ------------------------------------------------------------------------

AMS_GENERATOR inline void write_payload(BoxOut& out, const GenTrack& t, size_t k) {
  const uint32_t size = t.samples[k].size;
  const bool video = t.kind == GenKind::kAvc || t.kind == GenKind::kHevc;
  if (video) {
    // NAL units of the track's length size, each as large as that size allows.
    const uint64_t max_nal = t.nal_length == 4 ? UINT32_MAX : (1ull << (8 * t.nal_length)) - 1;
    uint32_t left = size;
    bool first = true;
    while (left > t.nal_length) {
      const uint64_t n = std::min<uint64_t>(left - t.nal_length, max_nal);
      for (int b = t.nal_length - 1; b >= 0; --b) out.u8(static_cast<uint32_t>(n >> (8 * b)));
      const bool idr = t.samples[k].sync && first;
      size_t header = 1;
      if (t.kind == GenKind::kAvc) {
        out.u8(idr ? 0x65 : 0x41);
      } else {
        out.u8((idr ? 19 : 1) << 1);
        if (n > 1) {
          out.u8(0x01);
          header = 2;
        }
      }
      out.zeros(static_cast<size_t>(n) - header);
      left -= static_cast<uint32_t>(n) + t.nal_length;
      first = false;
    }
    out.zeros(left);
  } else {
    for (uint32_t i = 0; i < size; ++i) out.u8(static_cast<uint32_t>(k + i));
  }
}

AMS_GENERATOR inline void write_sample_entry(BoxOut& out, const GenTrack& t) {
  size_t e = out.begin(t.fourcc.c_str());
  out.zeros(6);
  out.u16(1);  // data_reference_index
  if (t.kind == GenKind::kAvc || t.kind == GenKind::kHevc) {
    out.zeros(16);
    out.u16(t.width);
    out.u16(t.height);
    out.u32(0x00480000);
    out.u32(0x00480000);
    out.u32(0);
    out.u16(1);
    out.zeros(32);
    out.u16(0x18);
    out.u16(0xffff);
    size_t c = out.begin(t.kind == GenKind::kAvc ? "avcC" : "hvcC");
    out.raw(t.config);
    out.end(c);
  } else if (t.kind == GenKind::kAac) {
    out.zeros(8);
    out.u16(t.channels);
    out.u16(16);
    out.u32(0);
    out.u32(std::min<uint32_t>(t.sample_rate, 65535) << 16);
    // esds: ES_Descriptor > DecoderConfigDescriptor > DecoderSpecificInfo (the ASC), SLConfig.
    size_t c = out.full("esds", 0, 0);
    const uint32_t asc = static_cast<uint32_t>(t.config.size());
    out.u8(0x03);
    out.u8(3 + 2 + 13 + 2 + asc + 3);
    out.u16(t.id);
    out.u8(0);
    out.u8(0x04);
    out.u8(13 + 2 + asc);
    out.u8(0x40);  // MPEG-4 audio
    out.u8(0x15);  // audio stream
    out.u24(0);
    out.u32(128000);
    out.u32(128000);
    out.u8(0x05);
    out.u8(asc);
    out.raw(t.config);
    out.u8(0x06);
    out.u8(1);
    out.u8(0x02);
    out.end(c);
  } else if (t.fourcc == "wvtt") {
    size_t c = out.begin("vttC");
    for (char ch : std::string("WEBVTT")) out.u8(static_cast<uint8_t>(ch));
    out.end(c);
  } else {
    out.zeros(30);  // tx3g: display flags, justification, colours, box, style record
  }
  out.end(e);
}

AMS_GENERATOR inline uint16_t packed_language(const std::string& l) {
  if (l.size() != 3) return 0x55c4;  // "und"
  return static_cast<uint16_t>(((l[0] - 0x60) & 31) << 10 | ((l[1] - 0x60) & 31) << 5 |
                               ((l[2] - 0x60) & 31));
}

AMS_GENERATOR inline void write_matrix(BoxOut& out) {
  for (uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) out.u32(v);
}

// The sample table of a progressive track (offsets already known), or an empty one.
AMS_GENERATOR inline void write_stbl(BoxOut& out, const GenTrack& t, const GenFile& f) {
  size_t stbl = out.begin("stbl");
  size_t stsd = out.full("stsd", 0, 0);
  out.u32(1);
  write_sample_entry(out, t);
  out.end(stsd);
  const bool table = !f.fragmented;
  const std::vector<GenSample> none;
  const std::vector<GenSample>& s = table ? t.samples : none;
  // stts: runs of equal durations.
  size_t stts = out.full("stts", 0, 0);
  size_t count_at = out.size();
  out.u32(0);
  uint32_t runs = 0;
  for (size_t k = 0; k < s.size();) {
    size_t j = k;
    while (j < s.size() && s[j].duration == s[k].duration) ++j;
    out.u32(static_cast<uint32_t>(j - k));
    out.u32(s[k].duration);
    ++runs;
    k = j;
  }
  out.patch32(count_at, runs);
  out.end(stts);
  if (table && t.ctts) {
    size_t ctts = out.full("ctts", t.ctts_version, 0);
    count_at = out.size();
    out.u32(0);
    runs = 0;
    for (size_t k = 0; k < s.size();) {
      size_t j = k;
      while (j < s.size() && s[j].cts == s[k].cts) ++j;
      out.u32(static_cast<uint32_t>(j - k));
      out.u32(static_cast<uint32_t>(s[k].cts));
      ++runs;
      k = j;
    }
    out.patch32(count_at, runs);
    out.end(ctts);
  }
  if (table && t.stss) {
    size_t stss = out.full("stss", 0, 0);
    count_at = out.size();
    out.u32(0);
    runs = 0;
    for (size_t k = 0; k < s.size(); ++k) {
      if (!s[k].sync) continue;
      out.u32(static_cast<uint32_t>(k + 1));
      ++runs;
    }
    out.patch32(count_at, runs);
    out.end(stss);
  }
  // stsc: chunks of samples_per_chunk, the last one shorter.
  const size_t chunks = (s.size() + t.samples_per_chunk - 1) / t.samples_per_chunk;
  const uint32_t last =
      s.empty() ? 0 : static_cast<uint32_t>(s.size() - (chunks - 1) * t.samples_per_chunk);
  size_t stsc = out.full("stsc", 0, 0);
  if (chunks == 0) {
    out.u32(0);
  } else if (last == t.samples_per_chunk || chunks == 1) {
    out.u32(1);
    out.u32(1);
    out.u32(chunks == 1 ? last : t.samples_per_chunk);
    out.u32(1);
  } else {
    out.u32(2);
    out.u32(1);
    out.u32(t.samples_per_chunk);
    out.u32(1);
    out.u32(static_cast<uint32_t>(chunks));
    out.u32(last);
    out.u32(1);
  }
  out.end(stsc);
  size_t stsz = out.full("stsz", 0, 0);
  if (t.constant_size && !s.empty()) {
    out.u32(s[0].size);
    out.u32(static_cast<uint32_t>(s.size()));
  } else {
    out.u32(0);
    out.u32(static_cast<uint32_t>(s.size()));
    for (const GenSample& g : s) out.u32(g.size);
  }
  out.end(stsz);
  size_t stco = out.full(f.co64 ? "co64" : "stco", 0, 0);
  out.u32(static_cast<uint32_t>(chunks));
  for (size_t c = 0; c < chunks; ++c) {
    uint64_t at =
        c * t.samples_per_chunk < t.offsets.size() ? t.offsets[c * t.samples_per_chunk] : 0;
    if (f.co64) {
      out.u64(at);
    } else {
      out.u32(static_cast<uint32_t>(at));
    }
  }
  out.end(stco);
  out.end(stbl);
}

AMS_GENERATOR inline void write_moov(BoxOut& out, const GenFile& f) {
  size_t moov = out.begin("moov");
  uint64_t longest = 0;
  for (const GenTrack& t : f.tracks) {
    uint64_t d = 0;
    for (const GenSample& s : t.samples) d += s.duration;
    if (t.timescale) longest = std::max<uint64_t>(longest, d * f.movie_timescale / t.timescale);
  }
  size_t mvhd = out.full("mvhd", 0, 0);
  out.u32(0);
  out.u32(0);
  out.u32(f.movie_timescale);
  out.u32(f.fragmented ? 0 : static_cast<uint32_t>(longest));
  out.u32(0x00010000);
  out.u16(0x0100);
  out.zeros(10);
  write_matrix(out);
  out.zeros(24);
  out.u32(static_cast<uint32_t>(f.tracks.size() + 1));
  out.end(mvhd);
  for (const GenTrack& t : f.tracks) {
    uint64_t media = 0;
    for (const GenSample& s : t.samples) media += s.duration;
    size_t trak = out.begin("trak");
    size_t tkhd = out.full("tkhd", 0, 3);
    out.u32(0);
    out.u32(0);
    out.u32(t.id);
    out.u32(0);
    out.u32(t.timescale ? static_cast<uint32_t>(media * f.movie_timescale / t.timescale) : 0);
    out.zeros(8);
    out.u16(0);
    out.u16(0);
    out.u16(t.kind == GenKind::kAac ? 0x0100 : 0);
    out.u16(0);
    write_matrix(out);
    out.u32(static_cast<uint32_t>(t.width) << 16);
    out.u32(static_cast<uint32_t>(t.height) << 16);
    out.end(tkhd);
    if (t.edts) {
      size_t edts = out.begin("edts");
      size_t elst = out.full("elst", t.elst_version, 0);
      out.u32((t.empty_duration ? 1 : 0) + 1 + (t.second_edit ? 1 : 0));
      auto entry = [&](uint64_t duration, int64_t media_time) {
        if (t.elst_version == 1) {
          out.u64(duration);
          out.u64(static_cast<uint64_t>(media_time));
        } else {
          out.u32(static_cast<uint32_t>(duration));
          out.u32(static_cast<uint32_t>(media_time));
        }
        out.u16(1);
        out.u16(0);
      };
      if (t.empty_duration) entry(t.empty_duration, -1);
      entry(t.segment_duration, t.media_time);
      if (t.second_edit) entry(t.segment_duration / 2 + 1, t.media_time);
      out.end(elst);
      out.end(edts);
    }
    size_t mdia = out.begin("mdia");
    const bool long_media = media > UINT32_MAX;
    size_t mdhd = out.full("mdhd", long_media ? 1 : 0, 0);
    if (long_media) {
      out.u64(0);
      out.u64(0);
      out.u32(t.timescale);
      out.u64(f.fragmented ? 0 : media);
    } else {
      out.u32(0);
      out.u32(0);
      out.u32(t.timescale);
      out.u32(f.fragmented ? 0 : static_cast<uint32_t>(media));
    }
    out.u16(packed_language(t.language));
    out.u16(0);
    out.end(mdhd);
    size_t hdlr = out.full("hdlr", 0, 0);
    out.u32(0);
    out.type(t.handler.c_str());
    out.zeros(12);
    out.u8(0);
    out.end(hdlr);
    size_t minf = out.begin("minf");
    if (t.handler == "vide") {
      size_t m = out.full("vmhd", 0, 1);
      out.zeros(8);
      out.end(m);
    } else if (t.handler == "soun") {
      size_t m = out.full("smhd", 0, 0);
      out.zeros(4);
      out.end(m);
    } else {
      size_t m = out.full("nmhd", 0, 0);
      out.end(m);
    }
    size_t dinf = out.begin("dinf");
    size_t dref = out.full("dref", 0, 0);
    out.u32(1);
    size_t url = out.full("url ", 0, 1);
    out.end(url);
    out.end(dref);
    out.end(dinf);
    write_stbl(out, t, f);
    out.end(minf);
    out.end(mdia);
    out.end(trak);
  }
  if (f.fragmented) {
    size_t mvex = out.begin("mvex");
    if (f.mehd) {
      size_t mehd = out.full("mehd", 0, 0);
      out.u32(static_cast<uint32_t>(longest));
      out.end(mehd);
    }
    for (const GenTrack& t : f.tracks) {
      size_t trex = out.full("trex", 0, 0);
      out.u32(t.id);
      out.u32(1);
      out.u32(t.samples.empty() ? 0 : t.samples[0].duration);
      out.u32(t.samples.empty() ? 0 : t.samples[0].size);
      out.u32(0x00010000);  // non-sync: the trun's first-sample flags or per-sample flags say
      out.end(trex);
    }
    out.end(mvex);
  }
  out.end(moov);
}

AMS_GENERATOR inline void write_ftyp(BoxOut& out, bool fragmented) {
  size_t ftyp = out.begin("ftyp");
  out.type(fragmented ? "iso6" : "isom");
  out.u32(0x200);
  out.type("isom");
  out.type("iso2");
  out.type("avc1");
  out.type("mp41");
  out.end(ftyp);
}

// One moof + mdat with samples [first, first + samples_per_fragment) of each track.
AMS_GENERATOR inline void write_fragment(BoxOut& out, GenFile& f, uint32_t sequence, size_t index) {
  // The moof is written twice: its size does not depend on the data offsets it holds.
  std::vector<size_t> offset_at(f.tracks.size(), 0);
  std::vector<bool> present(f.tracks.size(), false);
  const size_t moof = out.begin("moof");
  size_t mfhd = out.full("mfhd", 0, 0);
  out.u32(sequence);
  out.end(mfhd);
  for (size_t ti = 0; ti < f.tracks.size(); ++ti) {
    const GenTrack& t = f.tracks[ti];
    const size_t first = index * t.samples_per_fragment;
    if (first >= t.samples.size()) continue;
    const size_t end = std::min(t.samples.size(), first + t.samples_per_fragment);
    present[ti] = true;
    size_t traf = out.begin("traf");
    uint32_t tfhd_flags = 0x020000;
    if (t.tfhd_defaults) tfhd_flags |= 0x08 | 0x10 | 0x20;
    size_t tfhd = out.full("tfhd", 0, tfhd_flags);
    out.u32(t.id);
    if (t.tfhd_defaults) {
      out.u32(t.samples[first].duration);
      out.u32(t.samples[first].size);
      out.u32(t.samples[first].sync ? 0 : 0x00010000);
    }
    out.end(tfhd);
    if (t.tfdt) {
      uint64_t dts = 0;
      for (size_t k = 0; k < first; ++k) dts += t.samples[k].duration;
      size_t tfdt = out.full("tfdt", t.tfdt_version, 0);
      if (t.tfdt_version == 1) {
        out.u64(dts);
      } else {
        out.u32(static_cast<uint32_t>(dts));
      }
      out.end(tfdt);
    }
    size_t trun = out.full("trun", t.trun_version, t.trun_flags);
    out.u32(static_cast<uint32_t>(end - first));
    offset_at[ti] = out.size();
    out.u32(0);  // data offset, patched below
    if (t.trun_flags & 0x004) out.u32(t.samples[first].sync ? 0x02000000 : 0x01010000);
    for (size_t k = first; k < end; ++k) {
      const GenSample& s = t.samples[k];
      if (t.trun_flags & 0x100) out.u32(s.duration);
      if (t.trun_flags & 0x200) out.u32(s.size);
      if (t.trun_flags & 0x400) out.u32(s.sync ? 0x02000000 : 0x01010000);
      if (t.trun_flags & 0x800) out.u32(static_cast<uint32_t>(s.cts));
    }
    out.end(trun);
    out.end(traf);
  }
  out.end(moof);
  size_t mdat = out.begin("mdat");
  for (size_t ti = 0; ti < f.tracks.size(); ++ti) {
    if (!present[ti]) continue;
    GenTrack& t = f.tracks[ti];
    const size_t first = index * t.samples_per_fragment;
    const size_t end = std::min(t.samples.size(), first + t.samples_per_fragment);
    out.patch32(offset_at[ti], static_cast<uint32_t>(out.size() - moof));
    for (size_t k = first; k < end; ++k) {
      t.offsets[k] = out.size();
      write_payload(out, t, k);
    }
  }
  out.end(mdat);
}

AMS_GENERATOR inline std::vector<uint8_t> write_mp4(GenFile& f) {
  for (GenTrack& t : f.tracks) t.offsets.assign(t.samples.size(), 0);
  BoxOut out;
  write_ftyp(out, f.fragmented);
  if (f.fragmented) {
    write_moov(out, f);
    size_t fragments = 0;
    for (const GenTrack& t : f.tracks) {
      fragments = std::max(
          fragments, (t.samples.size() + t.samples_per_fragment - 1) / t.samples_per_fragment);
    }
    for (size_t i = 0; i < fragments; ++i) write_fragment(out, f, static_cast<uint32_t>(i + 1), i);
  } else {
    // The moov's size does not depend on the chunk offsets: write it once to learn it.
    size_t moov_size = 0;
    if (f.moov_first) {
      BoxOut probe;
      write_moov(probe, f);
      moov_size = probe.size();
    }
    const size_t mdat_at = out.size() + moov_size;
    BoxOut mdat;
    size_t box = mdat.begin("mdat");
    // Chunks of the tracks interleaved, as muxers write them.
    std::vector<size_t> next(f.tracks.size(), 0);
    bool more = true;
    while (more) {
      more = false;
      for (GenTrack& t : f.tracks) {
        size_t& k = next[&t - f.tracks.data()];
        for (uint32_t c = 0; c < t.samples_per_chunk && k < t.samples.size(); ++c, ++k) {
          t.offsets[k] = mdat_at + mdat.size();
          write_payload(mdat, t, k);
        }
        more = more || k < t.samples.size();
      }
    }
    mdat.end(box);
    if (f.moov_first) {
      write_moov(out, f);
      out.raw(mdat.bytes);
    } else {
      out.raw(mdat.bytes);
      write_moov(out, f);
    }
  }
  if (f.cut > 0) out.bytes.resize(out.size() > f.cut ? out.size() - f.cut : 0);
  return out.bytes;
}

// --- The .ism -------------------------------------------------------------------------------

AMS_GENERATOR inline std::string gen_ism(FuzzedDataProvider& in, const GenAsset& a, bool& vtt) {
  std::string x = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
  x += "<smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\"><head>";
  if (in.ConsumeBool()) x += "<meta name=\"formats\" content=\"mp4-v3\"/>";
  if (in.ConsumeBool()) {
    x += "<meta name=\"fragmentsPerHLSSegment\" content=\"" +
         std::to_string(in.ConsumeIntegralInRange<int>(0, 10)) + "\"/>";
  }
  x += "</head><body><switch>";
  auto param = [](const std::string& name, const std::string& value) {
    return "<param name=\"" + name + "\" value=\"" + value + "\" valuetype=\"data\"/>";
  };
  static const char* kNames[] = {"", "video", "audio", "aac_eng_2_128000_1_1", "x y", "t"};
  static constexpr uint32_t kBitrates[] = {0, 1, 64000, 128000, 500000, 3000000, 4294967295u};
  for (const GenFile& f : a.files) {
    for (const GenTrack& t : f.tracks) {
      if (chance(in, 0.1)) continue;  // a track the .ism leaves out
      const char* element = t.kind == GenKind::kText  ? "textstream"
                            : t.kind == GenKind::kAac ? "audio"
                                                      : "video";
      if (chance(in, 0.05)) element = in.ConsumeBool() ? "audio" : "video";
      const int repeat = chance(in, 0.1) ? 2 : 1;  // the same track twice
      for (int r = 0; r < repeat; ++r) {
        x += std::string("<") + element + " src=\"" + f.name + "\" systemBitrate=\"" +
             std::to_string(in.PickValueInArray(kBitrates)) + "\"";
        if (in.ConsumeBool())
          x += std::string(" systemLanguage=\"") + (in.ConsumeBool() ? "eng" : "fre") + "\"";
        x += ">";
        if (chance(in, 0.8)) {
          uint32_t id = chance(in, 0.9) ? t.id : in.ConsumeIntegralInRange<uint32_t>(0, 6);
          x += param("trackID", std::to_string(id));
        }
        if (in.ConsumeBool()) x += param("trackName", in.PickValueInArray(kNames));
        if (chance(in, 0.2)) x += param("role", "alternate");
        x += std::string("</") + element + ">";
      }
    }
  }
  if (in.ConsumeBool()) {
    vtt = true;
    x += "<textstream src=\"subs.vtt\" systemBitrate=\"0\" systemLanguage=\"eng\">";
    if (in.ConsumeBool()) x += param("trackName", "subtitles");
    x += "</textstream>";
  }
  if (chance(in, 0.1)) x += "<textstream src=\"missing.vtt\"/>";
  x += "</switch></body></smil>\n";
  return x;
}

AMS_GENERATOR inline GenAsset gen_asset(FuzzedDataProvider& in) {
  GenAsset a;
  static constexpr GenAsset::Mode kModes[] = {GenAsset::Mode::kFile, GenAsset::Mode::kFolder,
                                              GenAsset::Mode::kIsm, GenAsset::Mode::kIsm,
                                              GenAsset::Mode::kFolderWithIsm};
  a.mode = in.PickValueInArray(kModes);
  const size_t files =
      a.mode == GenAsset::Mode::kFile ? 1 : in.ConsumeIntegralInRange<size_t>(1, 4);
  for (size_t n = 0; n < files; ++n) a.files.push_back(gen_file(in, n));
  if (a.mode == GenAsset::Mode::kIsm || a.mode == GenAsset::Mode::kFolderWithIsm) {
    a.ism = gen_ism(in, a, a.vtt);
  }
  return a;
}

}  // namespace ams::fuzz
