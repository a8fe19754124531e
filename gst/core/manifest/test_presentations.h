// Presentations built by hand for the manifest tests (data members only: no presentation.cc).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "model/presentation.h"
#include "text/webvtt.h"

namespace ams::manifest::test {

inline Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// avcC with one SPS and one PPS, 4-byte NAL lengths.
inline Bytes avcc(const std::string& sps_hex, const std::string& pps_hex) {
  Bytes sps = from_hex(sps_hex), pps = from_hex(pps_hex);
  Bytes out = {1, sps[1], sps[2], sps[3], 0xFF, 0xE1};
  out.push_back(static_cast<uint8_t>(sps.size() >> 8));
  out.push_back(static_cast<uint8_t>(sps.size()));
  out.insert(out.end(), sps.begin(), sps.end());
  out.push_back(1);
  out.push_back(static_cast<uint8_t>(pps.size() >> 8));
  out.push_back(static_cast<uint8_t>(pps.size()));
  out.insert(out.end(), pps.begin(), pps.end());
  return out;
}

// Fragments with the given durations (track ticks), back to back from `start`.
inline void fill(model::Track& t, const std::vector<int64_t>& durations, int64_t start = 0) {
  int64_t at = start;
  for (int64_t d : durations) {
    t.fragments.push_back({0, 0, at, d});
    at += d;
  }
  t.duration = at;
}

inline std::vector<int64_t> repeat(int64_t d, size_t n, int64_t last = 0) {
  std::vector<int64_t> v(n, d);
  if (last > 0) v.push_back(last);
  return v;
}

inline model::Track video(uint32_t bitrate, uint32_t w, uint32_t h, const std::string& codec,
                          const Bytes& config, uint32_t timescale,
                          const std::vector<int64_t>& durations) {
  model::Track t;
  t.type = model::TrackType::kVideo;
  t.codec = model::Codec::kH264;
  t.name = "video";
  t.bitrate = bitrate;
  t.timescale = timescale;
  t.width = w;
  t.height = h;
  t.fourcc = "avc1";
  t.codec_string = codec;
  t.codec_private = config;
  fill(t, durations);
  return t;
}

inline model::Track aac(const std::string& name, const std::string& lang, uint32_t bitrate,
                        uint32_t rate, const std::vector<int64_t>& durations) {
  model::Track t;
  t.type = model::TrackType::kAudio;
  t.codec = model::Codec::kAac;
  t.name = name;
  t.language = lang;
  t.bitrate = bitrate;
  t.timescale = rate;
  t.sample_rate = rate;
  t.channels = 2;
  t.fourcc = "mp4a";
  t.codec_string = "mp4a.40.2";
  t.codec_private = rate == 48000 ? Bytes{0x11, 0x90} : Bytes{0x12, 0x10};
  fill(t, durations);
  return t;
}

// The asset behind AMS's Dynamic Packaging examples (doc_dynpack_*): five H.264 bitrates at
// 30000/1001 fps (11 x 6.006 s + 4.2375666 s) and one AAC track (11 x 6.016 s + 4.1386666 s).
inline model::Presentation ams_doc_presentation() {
  struct Q {
    uint32_t bitrate, w, h;
    const char *codec, *sps;
  };
  const Q qs[] = {
      {3579827, 1280, 720, "avc1.640020", "67640020ACD9405005BB011000003E90000EA600F1831960"},
      {2217354, 960, 540, "avc1.64001f", "6764001FACD940F0117EF01100000303E90000EA600F183196"},
      {1154816, 640, 360, "avc1.64001e", "6764001EACD940A02FF9701100000303E90000EA600F162D96"},
      {721495, 480, 270, "avc1.640015", "67640015ACD941E08FEB011000003E90000EA600F162D960"},
      {381048, 320, 180, "avc1.64000d", "6764000DACD941419F9F011000003E90000EA600F1429960"},
  };
  model::Presentation p;
  p.name = "ignite";
  for (const Q& q : qs) {
    p.tracks.push_back(video(q.bitrate, q.w, q.h, q.codec, avcc(q.sps, "68EBECB22C"), 30000,
                             repeat(180180, 11, 127127)));
  }
  p.tracks.push_back(aac("aac_eng_2_128041_2_1", "eng", 128041, 48000, repeat(288768, 11, 198656)));
  return p;
}

// <source root>/../shared/<relative>, or "" when the shared folder is not there.
inline std::string shared_file(const std::string& relative) {
  std::vector<std::string> roots;
  if (const char* env = std::getenv("AMS_SOURCE_ROOT")) roots.push_back(env);
  roots.push_back(".");
  roots.push_back("..");
  for (const std::string& root : roots) {
    std::filesystem::path p = std::filesystem::path(root) / ".." / "shared" / relative;
    if (std::filesystem::exists(p)) return p.string();
  }
  return "";
}

}  // namespace ams::manifest::test

namespace ams::manifest::test {

// 24000/1001 fps video (2.002 s fragments) with 44.1 kHz AAC whose fragments start at the first
// 1024-sample frame at or after each video boundary: durations that never divide evenly.
inline model::Presentation fractional_presentation(size_t fragments) {
  model::Presentation p;
  std::vector<int64_t> vd = repeat(48048, fragments, 10010);
  p.tracks.push_back(
      video(2000000, 1920, 1080, "avc1.640028", avcc("6764002AACD940", "68EBECB22C"), 24000, vd));
  std::vector<int64_t> bounds;  // audio ticks at each video boundary, rounded up to a frame
  int64_t video_at = 0;
  for (int64_t d : vd) {
    bounds.push_back((video_at * 44100 + 24000 * 1024 - 1) / (24000 * 1024) * 1024);
    video_at += d;
  }
  bounds.push_back(video_at * 44100 / 24000);  // the audio ends with the video
  std::vector<int64_t> ad;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) ad.push_back(bounds[i + 1] - bounds[i]);
  p.tracks.push_back(aac("aac_und_2_96000_2_1", "und", 96000, 44100, ad));
  return p;
}

// (t, d) of every fragment a Smooth <c> or DASH <S> list announces; `dash_r` picks the meaning
// of r (DASH: repeats after the first; Smooth: the run's total count).
inline std::vector<std::pair<int64_t, int64_t>> expand_timeline(const std::string& xml,
                                                                const std::string& element,
                                                                size_t from, bool dash_r) {
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t t = 0;
  const std::string open = "<" + element + " ";
  size_t end = xml.find("</", from);
  for (size_t at = xml.find(open, from); at != std::string::npos && at < end;
       at = xml.find(open, at + 1)) {
    std::string tag = xml.substr(at, xml.find('>', at) - at);
    auto value = [&](const std::string& key, int64_t fallback) {
      size_t k = tag.find(" " + key + "=\"");
      return k == std::string::npos ? fallback : std::stoll(tag.substr(k + key.size() + 3));
    };
    t = value("t", t);
    const int64_t d = value("d", 0);
    int64_t n = dash_r ? value("r", 0) + 1 : value("r", 1);
    for (int64_t i = 0; i < n; ++i, t += d) out.push_back({t, d});
  }
  return out;
}

// Two bitrates, English and French audio, 2 s fragments at 90 kHz / 48 kHz, 7 fragments, the last
// one 1 s: TS segments of 3 + 3 + 1 fragments.
inline model::Presentation small_presentation() {
  model::Presentation p;
  p.tracks.push_back(video(2000000, 1280, 720, "avc1.64001f", avcc("6764001F", "68EB"), 90000,
                           repeat(180000, 6, 90000)));
  p.tracks.push_back(video(800000, 640, 360, "avc1.64001e", avcc("6764001E", "68EB"), 90000,
                           repeat(180000, 6, 90000)));
  p.tracks.push_back(aac("aac_eng_2_128000_2_1", "eng", 128000, 48000, repeat(96000, 6, 48000)));
  p.tracks.push_back(aac("aac_fra_2_96000_3_1", "fra", 96000, 48000, repeat(96000, 6, 48000)));
  return p;
}

// small_presentation with two WebVTT side-cars (English, and French captions for the deaf and
// hard of hearing) and a TTML one, which HLS does not serve.
inline model::Presentation with_subtitles() {
  model::Presentation p = small_presentation();
  auto text = [](const char* name, const char* lang, const char* file, model::Codec codec) {
    model::Track t;
    t.type = model::TrackType::kText;
    t.codec = codec;
    t.name = name;
    t.language = lang;
    t.file = file;
    t.timescale = kManifestTimescale;
    t.duration = 130000000;
    if (codec == model::Codec::kWebVtt) t.webvtt = std::make_shared<const text::WebVtt>();
    return t;
  };
  p.tracks.push_back(text("english", "eng", "english.vtt", model::Codec::kWebVtt));
  p.tracks.push_back(text("french_sdh", "fra", "french.vtt", model::Codec::kWebVtt));
  p.tracks.back().accessibility = "caption";
  p.tracks.push_back(text("ttml", "deu", "german.ttml", model::Codec::kUnknown));
  // A .vtt side-car that did not parse has no cues: it is not listed.
  p.tracks.push_back(text("unread", "ita", "unread.vtt", model::Codec::kWebVtt));
  p.tracks.back().webvtt.reset();
  return p;
}

}  // namespace ams::manifest::test
