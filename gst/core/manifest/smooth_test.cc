#include <gtest/gtest.h>

#include "manifest/manifest.h"
#include "manifest/test_presentations.h"

namespace ams::manifest {
namespace {

using namespace ams::manifest::test;  // NOLINT

std::string render(const model::Presentation& p, Format f = Format::kSmooth) {
  Result<std::string> r = render_master(p, f, {});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? r.value() : "";
}

// reference/examples/doc_dynpack_smooth.ismc, byte for byte.
TEST(SmoothManifest, MatchesAmsDynamicPackagingExample) {
  EXPECT_EQ(render(ams_doc_presentation()), R"m(<?xml version="1.0" encoding="UTF-8"?>
<SmoothStreamingMedia MajorVersion="2" MinorVersion="2" Duration="703146666" TimeScale="10000000">
   <StreamIndex Chunks="12" Type="audio" Url="QualityLevels({bitrate})/Fragments(aac_eng_2_128041_2_1={start time})" QualityLevels="1" Language="eng" Name="aac_eng_2_128041_2_1">
      <QualityLevel AudioTag="255" Index="0" BitsPerSample="16" Bitrate="128041" FourCC="AACL" CodecPrivateData="1190" Channels="2" PacketSize="4" SamplingRate="48000" />
      <c t="0" d="60160000" r="11" />
      <c d="41386666" />
   </StreamIndex>
   <StreamIndex Chunks="12" Type="video" Url="QualityLevels({bitrate})/Fragments(video={start time})" QualityLevels="5">
      <QualityLevel Index="0" Bitrate="3579827" FourCC="H264" MaxWidth="1280" MaxHeight="720" CodecPrivateData="0000000167640020ACD9405005BB011000003E90000EA600F18319600000000168EBECB22C" />
      <QualityLevel Index="1" Bitrate="2217354" FourCC="H264" MaxWidth="960" MaxHeight="540" CodecPrivateData="000000016764001FACD940F0117EF01100000303E90000EA600F1831960000000168EBECB22C" />
      <QualityLevel Index="2" Bitrate="1154816" FourCC="H264" MaxWidth="640" MaxHeight="360" CodecPrivateData="000000016764001EACD940A02FF9701100000303E90000EA600F162D960000000168EBECB22C" />
      <QualityLevel Index="3" Bitrate="721495" FourCC="H264" MaxWidth="480" MaxHeight="270" CodecPrivateData="0000000167640015ACD941E08FEB011000003E90000EA600F162D9600000000168EBECB22C" />
      <QualityLevel Index="4" Bitrate="381048" FourCC="H264" MaxWidth="320" MaxHeight="180" CodecPrivateData="000000016764000DACD941419F9F011000003E90000EA600F14299600000000168EBECB22C" />
      <c t="0" d="60060000" r="11" />
      <c d="42375666" />
   </StreamIndex>
</SmoothStreamingMedia>
)m");
}

TEST(SmoothManifest, Version20ListsEveryChunkAndNumbersTheFirst) {
  model::Presentation p;
  p.tracks.push_back(video(1000000, 640, 360, "avc1.4d401e", avcc("674D401E", "68EB7352"), 1000,
                           repeat(2000, 3, 1500)));
  EXPECT_EQ(render(p, Format::kSmoothV20), R"m(<?xml version="1.0" encoding="UTF-8"?>
<SmoothStreamingMedia MajorVersion="2" MinorVersion="0" Duration="75000000" TimeScale="10000000">
   <StreamIndex Chunks="4" Type="video" Url="QualityLevels({bitrate})/Fragments(video={start time})" QualityLevels="1">
      <QualityLevel Index="0" Bitrate="1000000" FourCC="H264" MaxWidth="640" MaxHeight="360" CodecPrivateData="00000001674D401E0000000168EB7352" />
      <c t="0" d="20000000" n="0" />
      <c d="20000000" />
      <c d="20000000" />
      <c d="15000000" />
   </StreamIndex>
</SmoothStreamingMedia>
)m");
  EXPECT_NE(render(p).find(R"m(<c t="0" d="20000000" r="3" />
      <c d="15000000" />)m"),
            std::string::npos);
}

TEST(SmoothManifest, GapRestartsTheRunWithItsTime) {
  model::Presentation p;
  model::Track v = video(1000000, 640, 360, "avc1.4d401e", avcc("674D401E", "68EB7352"), 1000, {});
  v.fragments = {{0, 0, 0, 2000}, {0, 0, 2000, 2000}, {0, 0, 5000, 2000}, {0, 0, 7000, 2000}};
  v.duration = 9000;
  p.tracks.push_back(v);
  EXPECT_NE(render(p).find(R"m(<c t="0" d="20000000" r="2" />
      <c t="50000000" d="20000000" r="2" />)m"),
            std::string::npos)
      << render(p);
}

TEST(SmoothManifest, TwoAudioLanguagesAreTwoStreamIndexes) {
  model::Presentation p = ams_doc_presentation();
  p.tracks.push_back(aac("aac_fra_2_96000_2_1", "fra", 96000, 48000, repeat(288768, 11, 198656)));
  std::string m = render(p);
  size_t eng = m.find(R"m(Language="eng" Name="aac_eng_2_128041_2_1">)m");
  size_t fra = m.find(R"m(Language="fra" Name="aac_fra_2_96000_2_1">)m");
  size_t vid = m.find(R"m(Type="video")m");
  ASSERT_NE(fra, std::string::npos);
  EXPECT_LT(eng, fra);
  EXPECT_LT(fra, vid);
}

TEST(SmoothManifest, HevcAndAc3QualityLevels) {
  model::Presentation p;
  model::Track v =
      video(2000000, 1920, 1080, "hev1.1.6.L120.90", {}, 10000000, repeat(20000000, 2));
  v.codec = model::Codec::kH265;
  v.fourcc = "hev1";
  // hvcC: Main profile, level 4, 4-byte lengths; one VPS, SPS and PPS (short stand-ins).
  v.codec_private = from_hex(
      "01016000000090000000000078F000FCFDF8F800000F03A00001000440010C01A1000100054201016000"
      "A2000100044401C172");
  model::Track a = aac("ac3_eng_6_384000_2_1", "eng", 384000, 48000, repeat(96000, 2));
  a.codec = model::Codec::kAc3;
  a.fourcc = "ac-3";
  a.codec_string = "ac-3";
  a.channels = 6;
  a.codec_private = from_hex("103DC0");
  p.tracks = {v, a};
  std::string m = render(p);
  EXPECT_NE(
      m.find(
          R"m(<QualityLevel AudioTag="8192" Index="0" BitsPerSample="16" Bitrate="384000" FourCC="AC-3" CodecPrivateData="103DC0" Channels="6" PacketSize="12" SamplingRate="48000" />)m"),
      std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          R"m(<QualityLevel Index="0" Bitrate="2000000" FourCC="HEV1" MaxWidth="1920" MaxHeight="1080" CodecPrivateData="0000000140010C01000000014201016000000000014401C172" />)m"),
      std::string::npos)
      << m;
}

TEST(SmoothManifest, FractionalTimescalesDoNotDrift) {
  model::Presentation p = fractional_presentation(300);
  std::string m = render(p);
  for (const model::Track& t : p.tracks) {
    size_t at = m.find("Fragments(" + t.name + "=");
    ASSERT_NE(at, std::string::npos);
    auto timeline = expand_timeline(m, "c", at, false);
    ASSERT_EQ(timeline.size(), t.fragments.size()) << t.name;
    for (size_t i = 0; i < timeline.size(); ++i) {
      ASSERT_EQ(timeline[i].first, t.fragment_start_10mhz(i)) << t.name << " fragment " << i;
    }
    EXPECT_EQ(timeline.back().first + timeline.back().second, t.duration_10mhz());
  }
  // 2.002 s video fragments compress to one run; 44.1 kHz audio cannot.
  EXPECT_NE(m.find(R"m(<c t="0" d="20020000" r="300" />)m"), std::string::npos);
}

TEST(SmoothManifest, RefusesTracksWhoseUrlsCollide) {
  model::Presentation p = ams_doc_presentation();
  p.tracks[1].bitrate = p.tracks[0].bitrate;
  EXPECT_EQ(render_master(p, Format::kSmooth, {}).status().code(), StatusCode::kInvalidArgument);
}

// WebVTT side-cars are text StreamIndexes of TTML fragments after the video, on its chunks.
TEST(SmoothManifest, WebVttSideCarsAreTextStreamIndexes) {
  const std::string m = render(with_subtitles());
  EXPECT_NE(
      m.find(
          R"m(<StreamIndex Chunks="7" Type="text" Subtype="SUBT" Url="QualityLevels({bitrate})/Fragments(english={start time})" QualityLevels="1" Language="eng" Name="english">
      <QualityLevel Index="0" Bitrate="0" FourCC="TTML" CodecPrivateData="" />
      <c t="0" d="20000000" r="6" />
      <c d="10000000" />
   </StreamIndex>)m"),
      std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          R"m(Type="text" Subtype="CAPT" Url="QualityLevels({bitrate})/Fragments(french_sdh={start time})")m"),
      std::string::npos);
  EXPECT_LT(m.find("Type=\"video\""), m.find("Type=\"text\""));
  EXPECT_EQ(m.find("Name=\"ttml\""), std::string::npos);
  EXPECT_EQ(m.find("Name=\"unread\""), std::string::npos);
}

}  // namespace
}  // namespace ams::manifest
