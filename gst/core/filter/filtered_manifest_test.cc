// The manifests of filtered presentations (filter::apply), format by format, against what was
// worked out by hand from the AMS documentation asset (manifest/test_presentations.h): video in
// 6.006 s fragments, audio in 6.016 s ones, five video bitrates and one English AAC track.
#include <gtest/gtest.h>

#include "filter/filter.h"
#include "manifest/hls_check.h"
#include "manifest/manifest.h"
#include "manifest/test_presentations.h"

namespace ams::filter {
namespace {

using manifest::Format;

std::shared_ptr<const model::Presentation> filtered(const std::string& json) {
  auto f = parse(json);
  EXPECT_TRUE(f.is_ok()) << f.status().to_string();
  auto p = apply(manifest::test::ams_doc_presentation(), {*f});
  EXPECT_TRUE(p.is_ok()) << p.status().to_string();
  return *p;
}

// 10 s to 20 s: video fragments 1-3 (6.006 s to 24.024 s), audio 6.016 s to 24.064 s.
constexpr char kClip[] =
    R"({"presentationTimeRange":{"startTimestamp":100000000,"endTimestamp":200000000}})";

std::string render(const model::Presentation& p, Format f, const std::string& filter) {
  manifest::Options o;
  o.filter = filter;
  auto out = manifest::render_master(p, f, o);
  EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  return out.is_ok() ? *out : "";
}

TEST(FilteredManifestTest, DashStartsThePeriodAtTheFirstFragmentKept) {
  auto p = filtered(kClip);
  const std::string mpd = render(*p, Format::kDashCsf, "clip");
  // 24.064 - 6.006 s, rounded up to the millisecond.
  EXPECT_NE(mpd.find(R"(mediaPresentationDuration="PT18.058S")"), std::string::npos) << mpd;
  EXPECT_NE(mpd.find(R"(presentationTimeOffset="60060000")"), std::string::npos) << mpd;
  EXPECT_NE(mpd.find(R"(<S t="60060000" d="60060000" r="2" />)"), std::string::npos) << mpd;
  EXPECT_NE(mpd.find(R"(<S t="60160000" d="60160000" r="2" />)"), std::string::npos) << mpd;
  EXPECT_NE(
      mpd.find(
          R"x(media="QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-csf,filter=clip)")x"),
      std::string::npos)
      << mpd;
  EXPECT_NE(
      mpd.find(
          R"x(initialization="QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-csf,filter=clip)")x"),
      std::string::npos)
      << mpd;
  // Unfiltered: no offset, no filter in the URLs.
  const std::string whole = render(manifest::test::ams_doc_presentation(), Format::kDashCsf, "");
  EXPECT_EQ(whole.find("presentationTimeOffset"), std::string::npos);
  EXPECT_EQ(whole.find("filter="), std::string::npos);
}

TEST(FilteredManifestTest, HlsPlaylistsNumberTheirSegmentsFromTheUnfilteredPlaylist) {
  auto p = filtered(kClip);
  manifest::Options o;
  o.filter = "clip;hd";
  for (Format f : {Format::kHlsV4, Format::kHlsV3, Format::kHlsCmaf}) {
    const std::string master = *manifest::render_master(*p, f, o);
    EXPECT_NE(master.find(",filter=clip;hd)"), std::string::npos) << master;
    for (const model::Track& t : p->tracks) {
      auto media = manifest::render_media_playlist(*p, f, t, o, false);
      ASSERT_TRUE(media.is_ok()) << media.status().to_string();
      EXPECT_TRUE(manifest::check_hls_playlist(*media).is_ok()) << *media;
      // TS packs 3 fragments a segment: fragments 1-3 make segments from 1 on, numbered 1 / 3.
      const bool ts = f != Format::kHlsCmaf;
      EXPECT_NE(media->find(ts ? "#EXT-X-MEDIA-SEQUENCE:0\n" : "#EXT-X-MEDIA-SEQUENCE:1\n"),
                std::string::npos)
          << *media;
      const std::string first = t.type == model::TrackType::kVideo ? "video=60060000" : "=60160000";
      EXPECT_NE(media->find(first), std::string::npos) << *media;
      EXPECT_EQ(media->find("=0,"), std::string::npos) << *media;  // fragment 0 is not listed
      EXPECT_NE(media->find("filter=clip;hd)"), std::string::npos) << *media;
      EXPECT_NE(media->find("#EXT-X-ENDLIST"), std::string::npos);
    }
  }
  // The I-frame playlist follows its variant.
  auto iframes = manifest::render_media_playlist(*p, Format::kHlsV4, p->tracks[0], o, true);
  ASSERT_TRUE(iframes.is_ok());
  EXPECT_NE(iframes->find("#EXT-X-MEDIA-SEQUENCE:1\n"), std::string::npos) << *iframes;
  EXPECT_NE(iframes->find("KeyFrames(video=60060000,format=m3u8-aapl,filter=clip;hd)"),
            std::string::npos)
      << *iframes;
}

TEST(FilteredManifestTest, SmoothListsTheTrimmedChunksAndCarriesTheFilter) {
  auto p = filtered(kClip);
  const std::string ismc = render(*p, Format::kSmooth, "clip");
  EXPECT_NE(ismc.find(R"(Duration="180580000")"), std::string::npos) << ismc;
  EXPECT_NE(ismc.find(R"(Chunks="3")"), std::string::npos) << ismc;
  EXPECT_NE(ismc.find(R"(<c t="60060000" d="60060000" r="3" />)"), std::string::npos) << ismc;
  EXPECT_NE(
      ismc.find(R"x(Url="QualityLevels({bitrate})/Fragments(video={start time},filter=clip)")x"),
      std::string::npos)
      << ismc;
  const std::string v20 = render(*p, Format::kSmoothV20, "clip");
  EXPECT_NE(v20.find(R"(<c t="60060000" d="60060000" n="1" />)"), std::string::npos) << v20;
}

TEST(FilteredManifestTest, FirstQualityIsTheFirstVariantEverywhere) {
  auto p = filtered(R"({"firstQuality":{"bitrate":1154816}})");
  const std::string master = render(*p, Format::kHlsV4, "");
  const size_t first = master.find("#EXT-X-STREAM-INF:");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(master.find("RESOLUTION=640x360", first), std::string::npos);
  EXPECT_LT(master.find("RESOLUTION=640x360", first), master.find("RESOLUTION=320x180", first))
      << master;
  const std::string mpd = render(*p, Format::kDashCsf, "");
  EXPECT_LT(mpd.find(R"(bandwidth="1154816")"), mpd.find(R"(bandwidth="3579827")")) << mpd;
  const std::string ismc = render(*p, Format::kSmooth, "");
  EXPECT_LT(ismc.find(R"(Bitrate="1154816")"), ismc.find(R"(Bitrate="3579827")")) << ismc;
}

TEST(FilteredManifestTest, TrackSelectionRemovesRenditionsAndAudio) {
  auto p = filtered(
      R"({"tracks":[{"trackSelections":[{"property":"Type","operation":"Equal","value":"Video"},
      {"property":"Bitrate","operation":"Equal","value":"0-1500000"}]}]})");
  const std::string master = render(*p, Format::kHlsV4, "low");
  EXPECT_EQ(master.find("1280x720"), std::string::npos) << master;
  EXPECT_EQ(master.find("TYPE=AUDIO"), std::string::npos) << master;
  EXPECT_NE(master.find("640x360"), std::string::npos) << master;
  const std::string mpd = render(*p, Format::kDashCmaf, "low");
  EXPECT_EQ(mpd.find("contentType=\"audio\""), std::string::npos) << mpd;
  EXPECT_EQ(mpd.find(R"(bandwidth="2217354")"), std::string::npos) << mpd;
}

}  // namespace
}  // namespace ams::filter
