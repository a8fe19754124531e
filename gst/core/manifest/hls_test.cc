#include <gtest/gtest.h>

#include <tuple>

#include "manifest/hls_check.h"
#include "manifest/manifest.h"
#include "manifest/test_presentations.h"
#include "text/webvtt.h"

namespace ams::manifest {
namespace {

using namespace ams::manifest::test;  // NOLINT

// Renders and runs the RFC 8216 checks on the result.
std::string master(const model::Presentation& p, Format f, const Options& o = {}) {
  Result<std::string> r = render_master(p, f, o);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r.is_ok()) return "";
  Status s = check_hls_playlist(r.value());
  EXPECT_TRUE(s.is_ok()) << s.to_string() << "\n" << r.value();
  return r.value();
}
std::string media(const model::Presentation& p, Format f, size_t track, bool iframes = false,
                  const Options& o = {}) {
  Result<std::string> r = render_media_playlist(p, f, p.tracks[track], o, iframes);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  if (!r.is_ok()) return "";
  Status s = check_hls_playlist(r.value());
  EXPECT_TRUE(s.is_ok()) << s.to_string() << "\n" << r.value();
  return r.value();
}

TEST(HlsMaster, V4AmsExampleLayoutWithOurBandwidths) {
  // doc_dynpack_hls_master_v4.m3u8 line for line; BANDWIDTH is our estimate, each a little above
  // AMS's (536608, 884544, 1327398, 2413312, 3805760, 139017).
  EXPECT_EQ(master(ams_doc_presentation(), Format::kHlsV4), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_eng_2_128041_2_1",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,URI="QualityLevels(128041)/Manifest(aac_eng_2_128041_2_1,format=m3u8-aapl)"
#EXT-X-STREAM-INF:BANDWIDTH=537052,RESOLUTION=320x180,CODECS="avc1.64000d,mp4a.40.2",AUDIO="audio"
QualityLevels(381048)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=537052,RESOLUTION=320x180,CODECS="avc1.64000d",URI="QualityLevels(381048)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=885240,RESOLUTION=480x270,CODECS="avc1.640015,mp4a.40.2",AUDIO="audio"
QualityLevels(721495)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=885240,RESOLUTION=480x270,CODECS="avc1.640015",URI="QualityLevels(721495)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=1328414,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"
QualityLevels(1154816)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1328414,RESOLUTION=640x360,CODECS="avc1.64001e",URI="QualityLevels(1154816)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=2415114,RESOLUTION=960x540,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
QualityLevels(2217354)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=2415114,RESOLUTION=960x540,CODECS="avc1.64001f",URI="QualityLevels(2217354)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=3808568,RESOLUTION=1280x720,CODECS="avc1.640020,mp4a.40.2",AUDIO="audio"
QualityLevels(3579827)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=3808568,RESOLUTION=1280x720,CODECS="avc1.640020",URI="QualityLevels(3579827)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=139146,CODECS="mp4a.40.2",AUDIO="audio"
QualityLevels(128041)/Manifest(aac_eng_2_128041_2_1,format=m3u8-aapl)
)m");
}

TEST(HlsMaster, BandwidthStaysAboveAmsFigures) {
  // AMS's own BANDWIDTH values for these bitrates (doc_dynpack_hls_master_v4, linkedin v3 master).
  const std::tuple<uint32_t, uint32_t, uint32_t> ams[] = {
      {381048, 128041, 536608},   {3579827, 128041, 3805760}, {200000, 128000, 351536},
      {3500000, 128000, 3724136}, {850000, 128000, 1015836},
  };
  for (auto [v, a, bw] : ams) {
    model::Presentation p;
    p.tracks.push_back(video(v, 640, 360, "avc1.64001e", {}, 90000, repeat(180000, 2)));
    p.tracks.push_back(aac("a", "und", a, 48000, repeat(96000, 2)));
    std::string m = master(p, Format::kHlsV4);
    uint32_t ours = std::stoul(m.substr(m.find("BANDWIDTH=") + 10));
    EXPECT_GE(ours, bw);
    EXPECT_LT(ours, bw + bw / 500) << "more than 0.2 % above AMS";
  }
}

TEST(HlsMaster, TwoAudioLanguagesOneGroupFirstIsDefault) {
  EXPECT_EQ(master(small_presentation(), Format::kHlsV4), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_eng_2_128000_2_1",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,URI="QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-aapl)"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_fra_2_96000_3_1",LANGUAGE="fra",DEFAULT=NO,AUTOSELECT=YES,URI="QualityLevels(96000)/Manifest(aac_fra_2_96000_3_1,format=m3u8-aapl)"
#EXT-X-STREAM-INF:BANDWIDTH=965487,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"
QualityLevels(800000)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=965487,RESOLUTION=640x360,CODECS="avc1.64001e",URI="QualityLevels(800000)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=2192774,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
QualityLevels(2000000)/Manifest(video,format=m3u8-aapl)
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=2192774,RESOLUTION=1280x720,CODECS="avc1.64001f",URI="QualityLevels(2000000)/Manifest(video,format=m3u8-aapl,type=keyframes)"
#EXT-X-STREAM-INF:BANDWIDTH=139103,CODECS="mp4a.40.2",AUDIO="audio"
QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-aapl)
)m");
}

TEST(HlsMaster, AudioOnlyFalseDropsTheAudioVariant) {
  Options o;
  o.audio_only = false;
  std::string m = master(small_presentation(), Format::kHlsV4, o);
  EXPECT_EQ(m.find("CODECS=\"mp4a.40.2\""), std::string::npos);
  EXPECT_NE(m.find("Manifest(video,format=m3u8-aapl)"), std::string::npos);
}

TEST(HlsMaster, AudioOnlyPresentation) {
  model::Presentation p = small_presentation();
  p.tracks.erase(p.tracks.begin(), p.tracks.begin() + 2);
  Options o;
  o.audio_only = false;  // ignored: the audio variant is all there is
  EXPECT_EQ(master(p, Format::kHlsV4, o), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_eng_2_128000_2_1",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,URI="QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-aapl)"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_fra_2_96000_3_1",LANGUAGE="fra",DEFAULT=NO,AUTOSELECT=YES,URI="QualityLevels(96000)/Manifest(aac_fra_2_96000_3_1,format=m3u8-aapl)"
#EXT-X-STREAM-INF:BANDWIDTH=139103,CODECS="mp4a.40.2",AUDIO="audio"
QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-aapl)
)m");
  EXPECT_EQ(master(p, Format::kHlsV3), R"m(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=139103,CODECS="mp4a.40.2"
QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-aapl-v3)
)m");
}

TEST(HlsMaster, V3MuxesTheChosenAudioTrack) {
  Options o;
  o.audio_track = "aac_fra_2_96000_3_1";
  EXPECT_EQ(master(small_presentation(), Format::kHlsV3, o), R"m(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-STREAM-INF:BANDWIDTH=932759,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"
QualityLevels(800000)/Manifest(video,format=m3u8-aapl-v3,audiotrack=aac_fra_2_96000_3_1)
#EXT-X-STREAM-INF:BANDWIDTH=2160046,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"
QualityLevels(2000000)/Manifest(video,format=m3u8-aapl-v3,audiotrack=aac_fra_2_96000_3_1)
#EXT-X-STREAM-INF:BANDWIDTH=106375,CODECS="mp4a.40.2"
QualityLevels(96000)/Manifest(aac_fra_2_96000_3_1,format=m3u8-aapl-v3)
)m");
  o.audio_track = "aac_deu";
  EXPECT_EQ(render_master(small_presentation(), Format::kHlsV3, o).status().code(),
            StatusCode::kNotFound);
}

TEST(HlsMaster, CmafHasIndependentSegmentsAndNoIFramePlaylists) {
  EXPECT_EQ(master(small_presentation(), Format::kHlsCmaf), R"m(#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_eng_2_128000_2_1",LANGUAGE="eng",DEFAULT=YES,AUTOSELECT=YES,URI="QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-cmaf)"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="aac_fra_2_96000_3_1",LANGUAGE="fra",DEFAULT=NO,AUTOSELECT=YES,URI="QualityLevels(96000)/Manifest(aac_fra_2_96000_3_1,format=m3u8-cmaf)"
#EXT-X-STREAM-INF:BANDWIDTH=945472,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio"
QualityLevels(800000)/Manifest(video,format=m3u8-cmaf)
#EXT-X-STREAM-INF:BANDWIDTH=2157472,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
QualityLevels(2000000)/Manifest(video,format=m3u8-cmaf)
#EXT-X-STREAM-INF:BANDWIDTH=133376,CODECS="mp4a.40.2",AUDIO="audio"
QualityLevels(128000)/Manifest(aac_eng_2_128000_2_1,format=m3u8-cmaf)
)m");
}

TEST(HlsMedia, V4PacksThreeFragmentsPerSegmentLastShorter) {
  EXPECT_EQ(media(small_presentation(), Format::kHlsV4, 0), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:6
#EXTINF:6.000000,no-desc
Fragments(video=0,format=m3u8-aapl)
#EXTINF:6.000000,no-desc
Fragments(video=60000000,format=m3u8-aapl)
#EXTINF:1.000000,no-desc
Fragments(video=120000000,format=m3u8-aapl)
#EXT-X-ENDLIST
)m");
  EXPECT_EQ(media(small_presentation(), Format::kHlsV4, 3), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:6
#EXTINF:6.000000,no-desc
Fragments(aac_fra_2_96000_3_1=0,format=m3u8-aapl)
#EXTINF:6.000000,no-desc
Fragments(aac_fra_2_96000_3_1=60000000,format=m3u8-aapl)
#EXTINF:1.000000,no-desc
Fragments(aac_fra_2_96000_3_1=120000000,format=m3u8-aapl)
#EXT-X-ENDLIST
)m");
}

TEST(HlsMedia, PackingRatioFromTheIsm) {
  model::Presentation p = small_presentation();
  p.fragments_per_hls_segment = 1;
  std::vector<HlsSegment> s = hls_segments(p, p.tracks[0], Format::kHlsV4);
  ASSERT_EQ(s.size(), 7u);
  EXPECT_EQ(s[6].start_10mhz, 120000000);
  EXPECT_EQ(s[6].duration_10mhz, 10000000);
  p.fragments_per_hls_segment = 4;
  s = hls_segments(p, p.tracks[0], Format::kHlsV3);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].first_fragment, 4u);
  EXPECT_EQ(s[1].fragment_count, 3u);
  EXPECT_EQ(hls_segments(p, p.tracks[0], Format::kHlsCmaf).size(), 7u);  // CMAF: always 1:1
}

TEST(HlsMedia, IFramePlaylistListsEveryFragmentKeyFrame) {
  EXPECT_EQ(media(small_presentation(), Format::kHlsV4, 1, true), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:2
#EXT-X-I-FRAMES-ONLY
#EXTINF:2.000000,no-desc
KeyFrames(video=0,format=m3u8-aapl)
#EXTINF:2.000000,no-desc
KeyFrames(video=20000000,format=m3u8-aapl)
#EXTINF:2.000000,no-desc
KeyFrames(video=40000000,format=m3u8-aapl)
#EXTINF:2.000000,no-desc
KeyFrames(video=60000000,format=m3u8-aapl)
#EXTINF:2.000000,no-desc
KeyFrames(video=80000000,format=m3u8-aapl)
#EXTINF:2.000000,no-desc
KeyFrames(video=100000000,format=m3u8-aapl)
#EXTINF:1.000000,no-desc
KeyFrames(video=120000000,format=m3u8-aapl)
#EXT-X-ENDLIST
)m");
  model::Presentation p = small_presentation();
  EXPECT_FALSE(render_media_playlist(p, Format::kHlsV3, p.tracks[0], {}, true).is_ok());
  EXPECT_FALSE(render_media_playlist(p, Format::kHlsV4, p.tracks[2], {}, true).is_ok());
  EXPECT_FALSE(render_media_playlist(p, Format::kDashCsf, p.tracks[0], {}, false).is_ok());
}

TEST(HlsMedia, V3SegmentsNameTheirAudioTrack) {
  EXPECT_EQ(media(small_presentation(), Format::kHlsV3, 0), R"m(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:6
#EXTINF:6.000000,no-desc
Fragments(video=0,format=m3u8-aapl-v3,audiotrack=aac_eng_2_128000_2_1)
#EXTINF:6.000000,no-desc
Fragments(video=60000000,format=m3u8-aapl-v3,audiotrack=aac_eng_2_128000_2_1)
#EXTINF:1.000000,no-desc
Fragments(video=120000000,format=m3u8-aapl-v3,audiotrack=aac_eng_2_128000_2_1)
#EXT-X-ENDLIST
)m");
}

TEST(HlsMedia, CmafMapsTheInitSegmentOneSegmentPerFragment) {
  std::string m = media(small_presentation(), Format::kHlsCmaf, 2);
  EXPECT_EQ(m.substr(0, m.find("#EXTINF")), R"m(#EXTM3U
#EXT-X-VERSION:7
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:2
#EXT-X-MAP:URI="Fragments(aac_eng_2_128000_2_1=i,format=m3u8-cmaf)"
)m");
  EXPECT_NE(m.find("#EXTINF:2.000000,no-desc\nFragments(aac_eng_2_128000_2_1=20000000,format=m3u8-"
                   "cmaf)\n"),
            std::string::npos);
  EXPECT_NE(m.find("#EXTINF:1.000000,no-desc\nFragments(aac_eng_2_128000_2_1=120000000,format="
                   "m3u8-cmaf)\n#EXT-X-ENDLIST\n"),
            std::string::npos);
}

TEST(HlsMedia, FractionalTimescalesSegmentsAreContiguous) {
  model::Presentation p = fractional_presentation(301);
  for (const model::Track& t : p.tracks) {
    std::vector<HlsSegment> s = hls_segments(p, t, Format::kHlsV4);
    ASSERT_EQ(s.size(), 101u);  // 302 fragments, 3 per segment
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      ASSERT_EQ(s[i].start_10mhz + s[i].duration_10mhz, s[i + 1].start_10mhz);
      ASSERT_EQ(s[i + 1].start_10mhz, t.fragment_start_10mhz(s[i + 1].first_fragment));
    }
    EXPECT_EQ(s.back().start_10mhz + s.back().duration_10mhz, t.duration_10mhz());
  }
  std::string m = media(p, Format::kHlsV4, 0);
  EXPECT_NE(m.find("#EXTINF:6.006000,no-desc\nFragments(video=600600000,format=m3u8-aapl)\n"),
            std::string::npos);
  EXPECT_NE(m.find("#EXT-X-TARGETDURATION:7\n"), std::string::npos);
}

TEST(HlsMaster, WebVttSideCarsAreASubtitlesGroupOfEveryVariant) {
  for (Format f : {Format::kHlsV4, Format::kHlsV3, Format::kHlsCmaf}) {
    const std::string m = master(with_subtitles(), f);
    const std::string fmt(format_name(f));
    EXPECT_NE(m.find("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"english\",LANGUAGE="
                     "\"eng\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"QualityLevels(0)/"
                     "Manifest(english,format=" +
                     fmt + ")\"\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("NAME=\"french_sdh\",LANGUAGE=\"fra\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,"
                     "CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,"
                     "public.accessibility.describes-music-and-sound\""),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find("ttml"), std::string::npos) << m;
    EXPECT_EQ(m.find("unread"), std::string::npos) << m;
    size_t variants = 0, with = 0;
    for (size_t at = m.find("#EXT-X-STREAM-INF:"); at != std::string::npos;
         at = m.find("#EXT-X-STREAM-INF:", at + 1)) {
      ++variants;
      const std::string line = m.substr(at, m.find('\n', at) - at);
      if (line.find(",SUBTITLES=\"subs\"") != std::string::npos) ++with;
    }
    EXPECT_GT(variants, 0u);
    EXPECT_EQ(with, variants) << m;
    // I-frame variants have no subtitles (hls_check refuses the attribute there).
    for (size_t at = m.find("#EXT-X-I-FRAME-STREAM-INF:"); at != std::string::npos;
         at = m.find("#EXT-X-I-FRAME-STREAM-INF:", at + 1)) {
      EXPECT_EQ(m.substr(at, m.find('\n', at) - at).find("SUBTITLES"), std::string::npos) << m;
    }
  }
  // Without side-cars, nothing changes.
  EXPECT_EQ(master(small_presentation(), Format::kHlsV4).find("SUBTITLES"), std::string::npos);
}

TEST(HlsMedia, ASubtitlePlaylistHasTheVideosSegmentsAndNoInitSegmentOrKey) {
  const model::Presentation p = with_subtitles();
  // TS: the video's 3-fragment segments (6 + 6 + 1 s), named by their start.
  EXPECT_EQ(media(p, Format::kHlsV4, 4), R"m(#EXTM3U
#EXT-X-VERSION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:6
#EXTINF:6.000000,no-desc
Fragments(english=0,format=m3u8-aapl)
#EXTINF:6.000000,no-desc
Fragments(english=60000000,format=m3u8-aapl)
#EXTINF:1.000000,no-desc
Fragments(english=120000000,format=m3u8-aapl)
#EXT-X-ENDLIST
)m");
  // CMAF: one per fragment, no EXT-X-MAP; an AES-128 locator's key is not for the text.
  Options aes;
  aes.aes128_key_uri = "/keydelivery/?kid=k";
  aes.aes128_iv_hex = "00";
  const std::string cmaf = media(p, Format::kHlsCmaf, 5, false, aes);
  EXPECT_EQ(cmaf.find("EXT-X-MAP"), std::string::npos) << cmaf;
  EXPECT_EQ(cmaf.find("EXT-X-KEY"), std::string::npos) << cmaf;
  EXPECT_NE(cmaf.find("#EXTINF:2.000000,no-desc\nFragments(french_sdh=20000000,format=m3u8-cmaf"),
            std::string::npos)
      << cmaf;
  // The TTML side-car is not served in HLS, and a text track has no I-frame playlist.
  EXPECT_FALSE(render_media_playlist(p, Format::kHlsV4, p.tracks[6], {}, false).is_ok());
  EXPECT_FALSE(render_media_playlist(p, Format::kHlsV4, p.tracks[4], {}, true).is_ok());
}

TEST(HlsCheck, AcceptsAmsPlaylists) {
  EXPECT_TRUE(check_hls_playlist(R"m(#EXTM3U
#EXT-X-VERSION:3
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-ALLOW-CACHE:NO
#EXT-X-MEDIA-SEQUENCE:517
#EXT-X-TARGETDURATION:3
#EXT-X-PROGRAM-DATE-TIME:2022-08-12T08:59:44.080Z
#EXTINF:2.001000,no-desc
Fragments(video=93067200,format=m3u8-aapl-v3,audiotrack=audio_und)
#EXTINF:2.027000,no-desc
Fragments(video=93247290,format=m3u8-aapl-v3,audiotrack=audio_und)
#EXT-X-ENDLIST
)m")
                  .is_ok());
}

TEST(HlsCheck, RejectsWhatPlayersTripOn) {
  const std::string media_head = "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:6\n";
  const std::pair<std::string, std::string> bad[] = {
      {"no EXTM3U", "#EXT-X-VERSION:3\n"},
      {"EXTINF above target", media_head + "#EXTINF:6.6,\na.ts\n"},
      {"VOD without ENDLIST", media_head + "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6.0,\na.ts\n"},
      {"fractional EXTINF in v2",
       "#EXTM3U\n#EXT-X-VERSION:2\n#EXT-X-TARGETDURATION:6\n"
       "#EXTINF:5.5,\na.ts\n"},
      {"EXT-X-MAP in v4", media_head + "#EXT-X-MAP:URI=\"i.mp4\"\n#EXTINF:6,\na.mp4\n"},
      {"no target duration", "#EXTM3U\n#EXTINF:6,\na.ts\n"},
      {"EXTINF without URI", media_head + "#EXTINF:6,\n#EXT-X-ENDLIST\n"},
      {"duplicated tag", media_head + "#EXT-X-TARGETDURATION:6\n"},
      {"sequence after segment", media_head + "#EXTINF:6,\na.ts\n#EXT-X-MEDIA-SEQUENCE:1\n"},
      {"allow-cache in v7",
       "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-ALLOW-CACHE:NO\n"
       "#EXT-X-TARGETDURATION:6\n"},
      {"STREAM-INF without BANDWIDTH", "#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"a\"\nv.m3u8\n"},
      {"STREAM-INF without URI", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"},
      {"undefined AUDIO group", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\nv.m3u8\n"},
      {"two defaults",
       "#EXTM3U\n"
       "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",DEFAULT=YES,URI=\"x\"\n"
       "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"y\",DEFAULT=YES,URI=\"y\"\n"},
      {"master and media mixed",
       "#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
       "#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n"},
      {"I-frame variant without URI", "#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1\n"},
      {"undefined SUBTITLES group",
       "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES=\"s\"\nv.m3u8\n"},
      {"SUBTITLES without URI",
       "#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",NAME=\"x\"\n"
       "#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES=\"s\"\nv.m3u8\n"},
      {"FORCED on audio",
       "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",FORCED=NO,URI=\"x\"\n"},
  };
  for (const auto& [why, text] : bad) {
    EXPECT_FALSE(check_hls_playlist(text).is_ok()) << why;
  }
}

// CEA-608 captions in the video: one CLOSED-CAPTIONS rendition per channel, named by every
// variant whose video carries them.
TEST(HlsMaster, Cea608CaptionsInTheVideoAreClosedCaptionsRenditions) {
  model::Presentation p = small_presentation();
  p.tracks[0].cea608_channels = 0b0101;  // CC1 and CC3 in the 720p rung
  p.tracks[0].language = "eng";
  for (Format f : {Format::kHlsV3, Format::kHlsV4, Format::kHlsCmaf}) {
    const std::string m = master(p, f);
    EXPECT_NE(m.find("#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\","
                     "LANGUAGE=\"eng\",DEFAULT=NO,AUTOSELECT=YES,INSTREAM-ID=\"CC1\"\n"
                     "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC3\","
                     "LANGUAGE=\"eng\",DEFAULT=NO,AUTOSELECT=YES,INSTREAM-ID=\"CC3\"\n"),
              std::string::npos)
        << m;
    // The 720p variant names the group; the 360p one, whose video has none, does not.
    const size_t hd = m.find("RESOLUTION=1280x720");
    const size_t sd = m.find("RESOLUTION=640x360");
    ASSERT_NE(hd, std::string::npos);
    EXPECT_NE(m.substr(hd, m.find('\n', hd) - hd).find("CLOSED-CAPTIONS=\"cc\""),
              std::string::npos);
    EXPECT_EQ(m.substr(sd, m.find('\n', sd) - sd).find("CLOSED-CAPTIONS"), std::string::npos);
  }
  EXPECT_EQ(master(small_presentation(), Format::kHlsV4).find("CLOSED-CAPTIONS"),
            std::string::npos);
  // The checker holds a master to RFC 8216 4.3.4.1 here too.
  EXPECT_FALSE(check_hls_playlist("#EXTM3U\n#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\","
                                  "NAME=\"x\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n")
                   .is_ok());
  EXPECT_FALSE(check_hls_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CLOSED-CAPTIONS="
                                  "\"cc\"\nv.m3u8\n")
                   .is_ok());
  EXPECT_TRUE(check_hls_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CLOSED-CAPTIONS=NONE\n"
                                 "v.m3u8\n")
                  .is_ok());
}

}  // namespace
}  // namespace ams::manifest
