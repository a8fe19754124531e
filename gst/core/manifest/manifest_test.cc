#include "manifest/manifest.h"

#include <gtest/gtest.h>

#include "manifest/test_presentations.h"
#include "manifest/url_template.h"
#include "manifest/xml_writer.h"

namespace ams::manifest {
namespace {

TEST(ManifestFormat, NamesFromTheUrl) {
  EXPECT_EQ(format_from_name(""), Format::kSmooth);
  EXPECT_EQ(format_from_name("fmp4"), Format::kSmooth);
  EXPECT_EQ(format_from_name("fmp4-v20"), Format::kSmoothV20);
  EXPECT_EQ(format_from_name("m3u8-aapl"), Format::kHlsV4);
  EXPECT_EQ(format_from_name("M3U8-AAPL-V4"), Format::kHlsV4);
  EXPECT_EQ(format_from_name("m3u8-aapl-v3"), Format::kHlsV3);
  EXPECT_EQ(format_from_name("m3u8-cmaf"), Format::kHlsCmaf);
  EXPECT_EQ(format_from_name("mpd-time-csf"), Format::kDashCsf);
  EXPECT_EQ(format_from_name("mpd-time-cmaf"), Format::kDashCmaf);
  EXPECT_EQ(format_from_name("m3u8-aapl-isoff"), std::nullopt);
  EXPECT_EQ(format_name(Format::kHlsV4), "m3u8-aapl");
  EXPECT_EQ(format_name(Format::kSmooth), "fmp4");
  EXPECT_EQ(format_name(Format::kDashCmaf), "mpd-time-cmaf");
  for (Format f : {Format::kSmooth, Format::kSmoothV20, Format::kHlsV4, Format::kHlsV3,
                   Format::kHlsCmaf, Format::kDashCsf, Format::kDashCmaf}) {
    EXPECT_EQ(format_from_name(format_name(f)), f);
  }
  EXPECT_EQ(content_type(Format::kSmoothV20), "application/vnd.ms-sstr+xml");
  EXPECT_EQ(content_type(Format::kHlsCmaf), "application/vnd.apple.mpegurl");
  EXPECT_EQ(content_type(Format::kDashCsf), "application/dash+xml");
}

TEST(ManifestUrl, AmsShapes) {
  EXPECT_EQ(url::smooth_fragment_template("video"),
            "QualityLevels({bitrate})/Fragments(video={start time})");
  EXPECT_EQ(url::hls_playlist(381048, "video", "m3u8-aapl"),
            "QualityLevels(381048)/Manifest(video,format=m3u8-aapl)");
  EXPECT_EQ(url::hls_playlist(381048, "video", "m3u8-aapl", "", true),
            "QualityLevels(381048)/Manifest(video,format=m3u8-aapl,type=keyframes)");
  EXPECT_EQ(url::hls_playlist(200000, "video", "m3u8-aapl-v3", "audio_und"),
            "QualityLevels(200000)/Manifest(video,format=m3u8-aapl-v3,audiotrack=audio_und)");
  EXPECT_EQ(url::hls_segment("video", 93067200, "m3u8-aapl-v3", "audio_und"),
            "Fragments(video=93067200,format=m3u8-aapl-v3,audiotrack=audio_und)");
  EXPECT_EQ(url::hls_init("video", "m3u8-cmaf"), "Fragments(video=i,format=m3u8-cmaf)");
  EXPECT_EQ(url::hls_keyframe("video", 60000000, "m3u8-aapl"),
            "KeyFrames(video=60000000,format=m3u8-aapl)");
  EXPECT_EQ(url::dash_media_template("video", "mpd-time-csf"),
            "QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-csf)");
  EXPECT_EQ(url::dash_init_template("aac_eng_2_128041_2_1", "mpd-time-csf"),
            "QualityLevels($Bandwidth$)/Fragments(aac_eng_2_128041_2_1=i,format=mpd-time-csf)");
}

TEST(ManifestXml, EscapesAttributesAndText) {
  EXPECT_EQ(xml_escape(R"(a&b<c>"d'e)"), "a&amp;b&lt;c&gt;&quot;d&apos;e");
  XmlWriter xml(2);
  xml.open("A").attr("n", "x\"y").children();
  xml.open("B").attr("v", 7u).empty();
  xml.open("C").text("<t>");
  xml.close();
  EXPECT_EQ(xml.str(), "<A n=\"x&quot;y\">\n  <B v=\"7\" />\n  <C>&lt;t&gt;</C>\n</A>\n");
}

TEST(ManifestRender, TrackNamesAreEscapedInXml) {
  model::Presentation p = test::ams_doc_presentation();
  p.tracks.back().name = "aac_\"q\"&";
  Result<std::string> m = render_master(p, Format::kSmooth, {});
  ASSERT_TRUE(m.is_ok());
  EXPECT_NE(m->find("Name=\"aac_&quot;q&quot;&amp;\""), std::string::npos);
}

TEST(ManifestRender, EmptyPresentationIsRefused) {
  model::Presentation p;
  EXPECT_FALSE(render_master(p, Format::kHlsV4, {}).is_ok());
  EXPECT_FALSE(render_master(p, Format::kDashCsf, {}).is_ok());
}

}  // namespace
}  // namespace ams::manifest
