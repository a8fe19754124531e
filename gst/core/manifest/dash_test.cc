#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "manifest/manifest.h"
#include "manifest/test_presentations.h"

namespace ams::manifest {
namespace {

using namespace ams::manifest::test;  // NOLINT

std::string mpd(const model::Presentation& p, Format f = Format::kDashCsf) {
  Result<std::string> r = render_master(p, f, {});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? r.value() : "";
}

// xmllint's exit status on `text` against the MPD schema (no network: the catalog maps
// xlink.xsd); -1 when the schema is absent.
int xmllint(const std::string& text, const std::string& name, std::string& output) {
  const std::string schema = shared_file("schemas/dash/DASH-MPD.xsd");
  const std::string catalog = shared_file("schemas/dash/catalog.xml");
  if (schema.empty() || catalog.empty()) return -1;
  const std::string path = ::testing::TempDir() + "ams_manifest_" + name + ".mpd";
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  const std::string cmd = "XML_CATALOG_FILES='" + catalog + "' xmllint --noout --nonet --schema '" +
                          schema + "' '" + path + "' 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -2;
  char buf[512];
  while (fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int rc = pclose(pipe);
  std::remove(path.c_str());
  return rc;
}

void expect_schema_valid(const std::string& text, const std::string& name) {
  std::string output;
  const int rc = xmllint(text, name, output);
  if (rc == -1) GTEST_FAIL() << "the DASH schema is absent (../shared/schemas/dash)";
  EXPECT_EQ(rc, 0) << output << text;
}

TEST(DashMpd, SchemaCheckCatchesAnInvalidMpd) {
  std::string output;
  const std::string bad = mpd(ams_doc_presentation());
  const int rc = xmllint(bad.substr(0, bad.find("<Period>")) + "<Period><Bogus /></Period></MPD>",
                         "invalid", output);
  if (rc == -1) GTEST_FAIL() << "the DASH schema is absent (../shared/schemas/dash)";
  EXPECT_NE(rc, 0);
  EXPECT_NE(output.find("Bogus"), std::string::npos) << output;
}

// small_presentation with the French track in the bibliographic code and described.
model::Presentation two_languages() {
  model::Presentation p = small_presentation();
  p.tracks.back().language = "fre";
  p.tracks.back().accessibility = "description";
  return p;
}

// doc_dynpack_dash_csf.mpd with our documented differences: no (mistyped) xmlns:xsi, codecs as
// the model writes them (lower-case hex), and Label, Role and AudioChannelConfiguration for audio.
TEST(DashMpd, CsfAmsExampleLayout) {
  const std::string m = mpd(ams_doc_presentation());
  EXPECT_EQ(m, R"m(<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT1M10.315S" minBufferTime="PT7S">
   <Period>
      <AdaptationSet id="1" group="5" profiles="ccff" bitstreamSwitching="false" segmentAlignment="true" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en">
         <Label>aac_eng_2_128041_2_1</Label>
         <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main" />
         <SegmentTemplate timescale="10000000" media="QualityLevels($Bandwidth$)/Fragments(aac_eng_2_128041_2_1=$Time$,format=mpd-time-csf)" initialization="QualityLevels($Bandwidth$)/Fragments(aac_eng_2_128041_2_1=i,format=mpd-time-csf)">
            <SegmentTimeline>
               <S d="60160000" r="10" />
               <S d="41386666" />
            </SegmentTimeline>
         </SegmentTemplate>
         <Representation id="5_A_aac_eng_2_128041_2_1_1" bandwidth="128041" audioSamplingRate="48000">
            <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2" />
         </Representation>
      </AdaptationSet>
      <AdaptationSet id="2" group="1" profiles="ccff" bitstreamSwitching="false" segmentAlignment="true" contentType="video" mimeType="video/mp4" codecs="avc1.640020" maxWidth="1280" maxHeight="720" startWithSAP="1">
         <SegmentTemplate timescale="10000000" media="QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-csf)" initialization="QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-csf)">
            <SegmentTimeline>
               <S d="60060000" r="10" />
               <S d="42375666" />
            </SegmentTimeline>
         </SegmentTemplate>
         <Representation id="1_V_video_1" bandwidth="3579827" width="1280" height="720" />
         <Representation id="1_V_video_2" bandwidth="2217354" codecs="avc1.64001f" width="960" height="540" />
         <Representation id="1_V_video_3" bandwidth="1154816" codecs="avc1.64001e" width="640" height="360" />
         <Representation id="1_V_video_4" bandwidth="721495" codecs="avc1.640015" width="480" height="270" />
         <Representation id="1_V_video_5" bandwidth="381048" codecs="avc1.64000d" width="320" height="180" />
      </AdaptationSet>
   </Period>
</MPD>
)m");
  expect_schema_valid(m, "csf_doc");
}

TEST(DashMpd, CmafProfilesAndUrls) {
  const std::string m = mpd(ams_doc_presentation(), Format::kDashCmaf);
  EXPECT_NE(
      m.find(
          R"m(profiles="urn:mpeg:dash:profile:isoff-live:2011,urn:mpeg:dash:profile:cmaf:2019" type="static")m"),
      std::string::npos);
  EXPECT_EQ(m.find("ccff"), std::string::npos);
  EXPECT_EQ(m.find("mpd-time-csf"), std::string::npos);
  EXPECT_NE(
      m.find(
          R"m(media="QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-cmaf)" initialization="QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-cmaf)")m"),
      std::string::npos);
  expect_schema_valid(m, "cmaf_doc");
}

TEST(DashMpd, OneAdaptationSetPerAudioLanguage) {
  const std::string m = mpd(two_languages());
  EXPECT_NE(
      m.find(
          R"m(<AdaptationSet id="1" group="5" profiles="ccff" bitstreamSwitching="false" segmentAlignment="true" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="en">
         <Label>aac_eng_2_128000_2_1</Label>
         <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main" />)m"),
      std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          R"m(<AdaptationSet id="2" group="5" profiles="ccff" bitstreamSwitching="false" segmentAlignment="true" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="fr">
         <Label>aac_fra_2_96000_3_1</Label>
         <Accessibility schemeIdUri="urn:mpeg:dash:role:2011" value="description" />
         <Role schemeIdUri="urn:mpeg:dash:role:2011" value="alternate" />)m"),
      std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          R"m(<Representation id="5_A_aac_fra_2_96000_3_1_1" bandwidth="96000" audioSamplingRate="48000">)m"),
      std::string::npos);
  EXPECT_NE(m.find(R"m(<AdaptationSet id="3" group="1")m"), std::string::npos);
  EXPECT_NE(m.find(R"m(mediaPresentationDuration="PT13S" minBufferTime="PT2S")m"),
            std::string::npos);
  EXPECT_NE(m.find(R"m(<S d="20000000" r="5" />
               <S d="10000000" />)m"),
            std::string::npos);
  expect_schema_valid(m, "two_languages");
  expect_schema_valid(mpd(two_languages(), Format::kDashCmaf), "two_languages_cmaf");
}

TEST(DashMpd, AudioOnlyHevcAndEac3) {
  model::Presentation p;
  model::Track v =
      video(6000000, 3840, 2160, "hvc1.2.4.L150.90", {}, 10000000, repeat(20000000, 3));
  v.codec = model::Codec::kH265;
  p.tracks.push_back(v);
  model::Track a = aac("ec3_eng_6_448000_2_1", "eng", 448000, 48000, repeat(96000, 3));
  a.codec = model::Codec::kEac3;
  a.codec_string = "ec-3";
  a.channels = 6;
  p.tracks.push_back(a);
  std::string m = mpd(p);
  EXPECT_NE(
      m.find(
          R"m(contentType="video" mimeType="video/mp4" codecs="hvc1.2.4.L150.90" maxWidth="3840" maxHeight="2160")m"),
      std::string::npos);
  EXPECT_NE(m.find(R"m(codecs="ec-3" lang="en")m"), std::string::npos);
  EXPECT_NE(m.find(R"m(audio_channel_configuration:2011" value="6" />)m"), std::string::npos);
  expect_schema_valid(m, "hevc_eac3");
  p.tracks.erase(p.tracks.begin());
  m = mpd(p);
  EXPECT_EQ(m.find("video"), std::string::npos);
  expect_schema_valid(m, "audio_only");
}

TEST(DashMpd, FractionalTimescalesDoNotDrift) {
  model::Presentation p = fractional_presentation(300);
  const std::string m = mpd(p);
  for (const model::Track& t : p.tracks) {
    size_t at = m.find("Fragments(" + t.name + "=$Time$");
    ASSERT_NE(at, std::string::npos);
    auto timeline = expand_timeline(m, "S", at, true);
    ASSERT_EQ(timeline.size(), t.fragments.size()) << t.name;
    for (size_t i = 0; i < timeline.size(); ++i) {
      ASSERT_EQ(timeline[i].first, t.fragment_start_10mhz(i)) << t.name << " fragment " << i;
    }
    EXPECT_EQ(timeline.back().first + timeline.back().second, t.duration_10mhz());
  }
  EXPECT_NE(m.find(R"m(<S d="20020000" r="299" />
               <S d="4170833" />)m"),
            std::string::npos);
  expect_schema_valid(m, "fractional");
}

TEST(DashMpd, GapsAndNonZeroStartsCarryT) {
  model::Presentation p;
  model::Track v = video(1000000, 640, 360, "avc1.4d401e", {}, 1000, {});
  v.fragments = {{0, 0, 500, 2000}, {0, 0, 2500, 2000}, {0, 0, 6000, 2000}};
  v.duration = 8000;
  p.tracks.push_back(v);
  const std::string m = mpd(p);
  EXPECT_NE(m.find(R"m(<S t="5000000" d="20000000" r="1" />
               <S t="60000000" d="20000000" />)m"),
            std::string::npos)
      << m;
  expect_schema_valid(m, "gaps");
}

TEST(DashMpd, BitratesAFrameApartShareTheTopBitratesTimeline) {
  // Open GOPs: a lower bitrate's fragment starts a frame away from the top's. Segment i of each
  // is named and timed by the top's timeline (the server looks it up the same way).
  model::Presentation p = two_languages();
  p.tracks[1].fragments.back().duration = 45000;
  const std::string m = mpd(p);
  EXPECT_EQ(
      m.find(
          R"m(<Representation id="1_V_video_2" bandwidth="800000" codecs="avc1.64001e" width="640" height="360">
            <SegmentTemplate)m"),
      std::string::npos)
      << m;
  EXPECT_NE(
      m.find(
          R"m(<Representation id="1_V_video_2" bandwidth="800000" codecs="avc1.64001e" width="640" height="360" />)m"),
      std::string::npos)
      << m;
  expect_schema_valid(m, "a frame apart");
}

TEST(DashMpd, UnalignedBitratesGetTheirOwnTimeline) {
  model::Presentation p = two_languages();
  p.tracks[1].fragments.pop_back();  // a bitrate with fewer fragments: no shared timeline
  const std::string m = mpd(p);
  EXPECT_NE(
      m.find(
          R"m(<Representation id="1_V_video_2" bandwidth="800000" codecs="avc1.64001e" width="640" height="360">
            <SegmentTemplate)m"),
      std::string::npos)
      << m;
  expect_schema_valid(m, "unaligned");
}

TEST(DashMpd, SameBandwidthTwiceIsRefused) {
  // $Bandwidth$ is how a segment URL names its Representation: two equal ones would collide.
  model::Presentation p = two_languages();
  p.tracks[1].bitrate = p.tracks[0].bitrate;
  EXPECT_EQ(render_master(p, Format::kDashCsf, {}).status().code(), StatusCode::kInvalidArgument);
}

// WebVTT side-cars are text AdaptationSets of TTML fragments (stpp) after the video, one
// Representation each, on the video's timeline; a TTML side-car and one that did not parse are
// not listed. Valid against the schema in both profiles.
TEST(DashMpd, WebVttSideCarsAreTextAdaptationSetsOnTheVideoTimeline) {
  const model::Presentation p = with_subtitles();
  const std::string m = mpd(p);
  const size_t text = m.find("contentType=\"text\"");
  ASSERT_NE(text, std::string::npos) << m;
  EXPECT_LT(m.find("contentType=\"video\""), text);
  EXPECT_NE(
      m.find(
          R"m(<AdaptationSet id="4" group="3" profiles="ccff" segmentAlignment="true" contentType="text" mimeType="application/mp4" codecs="stpp.ttml.im1t" lang="en">
         <Label>english</Label>
         <Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle" />
         <SegmentTemplate timescale="10000000" media="QualityLevels(0)/Fragments(english=$Time$,format=mpd-time-csf)" initialization="QualityLevels(0)/Fragments(english=i,format=mpd-time-csf)">)m"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find(R"m(lang="fr">
         <Label>french_sdh</Label>
         <Role schemeIdUri="urn:mpeg:dash:role:2011" value="caption" />)m"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find(R"m(<Representation id="3_T_english" bandwidth="0" />)m"), std::string::npos);
  EXPECT_EQ(m.find("ttml="), std::string::npos);
  EXPECT_EQ(m.find("unread"), std::string::npos);
  // Every text timeline is the video's.
  const auto video =
      expand_timeline(m, "S", m.find("<SegmentTimeline>", m.find("contentType=\"video\"")), true);
  const auto english =
      expand_timeline(m, "S", m.find("<SegmentTimeline>", m.find("<Label>english</Label>")), true);
  EXPECT_EQ(english, video);
  EXPECT_EQ(english.size(), 7u);
  expect_schema_valid(m, "csf_text");
  const std::string cmaf = mpd(p, Format::kDashCmaf);
  EXPECT_NE(cmaf.find("Fragments(french_sdh=$Time$,format=mpd-time-cmaf)"), std::string::npos);
  expect_schema_valid(cmaf, "cmaf_text");
}

// CEA-608 captions in the video: the SCTE 214 Accessibility descriptor on its AdaptationSet.
TEST(DashMpd, Cea608CaptionsInTheVideoAreAnAccessibilityDescriptor) {
  model::Presentation p = with_subtitles();
  p.tracks[1].cea608_channels = 0b0001;
  p.tracks[1].language = "eng";
  p.tracks[0].language = "eng";
  const std::string m = mpd(p);
  EXPECT_NE(m.find(R"m(startWithSAP="1">
         <Accessibility schemeIdUri="urn:scte:dash:cc:cea-608:2015" value="CC1=eng" />)m"),
            std::string::npos)
      << m;
  expect_schema_valid(m, "csf_cea608");
  EXPECT_EQ(mpd(small_presentation()).find("cea-608"), std::string::npos);
}

}  // namespace
}  // namespace ams::manifest
