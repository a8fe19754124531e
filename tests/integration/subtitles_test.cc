// WebVTT side-cars through the real `ams serve` (issue 17): an `ams encode` asset (12 s, two
// H.264 rungs in 2 s GOPs, English audio) whose .ism names two side-cars as AMS's "add WebVTT
// tracks" how-to does (`<textstream src="x.vtt" systemLanguage="...">`): English subtitles, and
// French captions for the deaf and hard of hearing with one malformed cue. Checked: the HLS
// masters' SUBTITLES group (the core's strict HLS parser), the subtitle playlists against the
// video's, every WebVTT segment against the side-car's cues, ffmpeg reading the rendition, the
// DASH and Smooth TTML fragments against the cues (and ffprobe reading them), a changed side-car
// seen at once, and a side-car that is not WebVTT left out.
#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "manifest/hls_check.h"

namespace ams_it {
namespace {

constexpr char kLocator[] = "3c0e5a7e-1f43-4d8e-b6c1-5a2d9e7f1b01";

// Publishes the folder `asset` as asset `name` under locator kLocator
// (Predefined_ClearStreamingOnly) in a store of `dir`, and starts `ams serve` on it into `*server`.
void serve_asset(const std::string& dir, const std::string& asset, const std::string& name,
                 ServerProcess** server) {
  const std::string db = dir + "/ams.db";
  const std::string log = dir + "/publish.log";
  ASSERT_EQ(run_ams({"asset", "create", name, "--path", asset, "--db", db}, log), "");
  ASSERT_EQ(run_ams({"locator", "create", "--asset", name, "--policy",
                     "Predefined_ClearStreamingOnly", "--id", kLocator, "--db", db},
                    log),
            "");
  *server = new ServerProcess(db, {}, dir + "/serve.log");
  ASSERT_TRUE((*server)->started()) << read_file(dir + "/serve.log");
}

// One cue every 2 s from 0.5 s, 1.5 s long: "English cue N" (N from 1).
std::string english_vtt(const std::string& word) {
  std::string s = "WEBVTT\n\n";
  for (int n = 1; n <= 6; ++n) {
    char timing[64];
    std::snprintf(timing, sizeof timing, "00:00:%02d.500 --> 00:00:%02d.000", 2 * (n - 1), 2 * n);
    s += "c" + std::to_string(n) + "\n" + timing + "\n" + word + " cue " + std::to_string(n) +
         "\n\n";
  }
  return s;
}

class SubtitlesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-subtitles-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string log = dir_ + "/setup.log";
    asset_ = dir_ + "/asset";
    ASSERT_EQ(run_ams({"encode", "--test-source", "12", "--ladder", "360:800,180:200", "--width",
                       "640", "--height", "360", asset_},
                      log),
              "");
    write_file(asset_ + "/english.vtt", english_vtt("English"));
    write_file(asset_ + "/french.vtt",
               "WEBVTT\n\nNOTE made by the test\n\n00:00:01.000 --> 00:00:03.000 line:0\n[musique]"
               "\n\n00:00:61.000 --> 00:00:62.000\nmal formée\n\n00:00:07.000 --> 00:00:09.500\n"
               "Bonjour\n");
    write_file(asset_ + "/broken.vtt", std::string("\x00\x01\x02 not text", 12));
    // The side-cars as <textstream>s of the .ism, before </switch>.
    const std::string ism_path = asset_ + "/testsrc.ism";
    std::string ism = read_file(ism_path);
    const size_t end = ism.find("</switch>");
    ASSERT_NE(end, std::string::npos) << ism;
    ism.insert(end,
               "<textstream src=\"english.vtt\" systemBitrate=\"0\" systemLanguage=\"eng\">"
               "<param name=\"trackName\" value=\"english\" valuetype=\"data\"/></textstream>\n"
               "<textstream src=\"french.vtt\" systemBitrate=\"0\" systemLanguage=\"fra\">"
               "<param name=\"trackName\" value=\"french_sdh\" valuetype=\"data\"/>"
               "<param name=\"accessibility\" value=\"caption\" valuetype=\"data\"/></textstream>\n"
               "<textstream src=\"broken.vtt\" systemBitrate=\"0\" systemLanguage=\"deu\">"
               "<param name=\"trackName\" value=\"broken\" valuetype=\"data\"/></textstream>\n");
    write_file(ism_path, ism);
    serve_asset(dir_, asset_, "subs", &server_);
  }
  static void TearDownTestSuite() {
    delete server_;
    remove_tree(dir_);
  }

  static std::string path(const std::string& rest) {
    return std::string("/") + kLocator + "/testsrc.ism/" + rest;
  }
  static std::string url(const std::string& rest) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path(rest);
  }

  static std::string dir_;
  static std::string asset_;
  static ServerProcess* server_;
};

std::string SubtitlesTest::dir_;
std::string SubtitlesTest::asset_;
ServerProcess* SubtitlesTest::server_ = nullptr;

// The URIs of a media playlist, and its EXTINF durations.
std::vector<std::string> uris_of(const std::string& playlist, std::vector<double>* durations) {
  std::vector<std::string> out;
  const std::regex entry(R"(#EXTINF:([0-9.]+),[^\n]*\n([^\n#][^\n]*)\n)");
  for (auto it = std::sregex_iterator(playlist.begin(), playlist.end(), entry);
       it != std::sregex_iterator(); ++it) {
    if (durations != nullptr) durations->push_back(std::stod((*it)[1].str()));
    out.push_back((*it)[2].str());
  }
  return out;
}

// The text of every cue of a WebVTT document with its start time in ms (hours optional, as
// ffmpeg leaves them out).
std::vector<std::pair<int64_t, std::string>> cues_of(const std::string& vtt) {
  std::vector<std::pair<int64_t, std::string>> out;
  const std::regex cue(R"((?:(\d+):)?(\d\d):(\d\d)\.(\d\d\d) --> [^\n]*\n([^\n]+)\n)");
  for (auto it = std::sregex_iterator(vtt.begin(), vtt.end(), cue); it != std::sregex_iterator();
       ++it) {
    const int64_t hours = (*it)[1].matched ? std::stoll((*it)[1].str()) : 0;
    const int64_t ms =
        ((hours * 60 + std::stoll((*it)[2].str())) * 60 + std::stoll((*it)[3].str())) * 1000 +
        std::stoll((*it)[4].str());
    out.emplace_back(ms, (*it)[5].str());
  }
  return out;
}

TEST_F(SubtitlesTest, EveryHlsMasterListsTheWebVttSideCarsAsSubtitles) {
  Connection c(server_->port());
  for (const std::string format : {"m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf"}) {
    Answer m = c.get(path("manifest(format=" + format + ")"));
    ASSERT_EQ(m.status, 200) << m.describe();
    EXPECT_TRUE(ams::manifest::check_hls_playlist(m.body).is_ok()) << m.body;
    EXPECT_NE(m.body.find("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"english\","
                          "LANGUAGE=\"eng\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\""
                          "QualityLevels(0)/Manifest(english,format=" +
                          format + ")\""),
              std::string::npos)
        << m.body;
    EXPECT_NE(m.body.find("NAME=\"french_sdh\",LANGUAGE=\"fra\",DEFAULT=NO,AUTOSELECT=YES,"
                          "FORCED=NO,CHARACTERISTICS=\"public.accessibility.transcribes-spoken-"
                          "dialog,public.accessibility.describes-music-and-sound\""),
              std::string::npos)
        << m.body;
    const std::string body = m.body;
    int streams = 0, with = 0;
    const std::regex inf(R"(#EXT-X-STREAM-INF:([^\n]*))");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), inf);
         it != std::sregex_iterator(); ++it) {
      ++streams;
      if ((*it)[1].str().find("SUBTITLES=\"subs\"") != std::string::npos) ++with;
    }
    EXPECT_GT(streams, 0) << body;
    EXPECT_EQ(with, streams) << body;
  }
}

// The TTML paragraphs of a text fragment's mdat: (begin ms, end ms, text).
struct Paragraph {
  int64_t begin_ms, end_ms;
  std::string text;
  bool operator==(const Paragraph&) const = default;
};
int64_t clock_ms(const std::string& h, const std::string& m, const std::string& s,
                 const std::string& f) {
  return ((std::stoll(h) * 60 + std::stoll(m)) * 60 + std::stoll(s)) * 1000 + std::stoll(f);
}
std::vector<Paragraph> paragraphs_of(const std::string& fragment) {
  std::vector<Paragraph> out;
  const size_t mdat = fragment.find("mdat");
  if (mdat == std::string::npos) return out;
  const std::string xml = fragment.substr(mdat + 4);
  const std::regex p(
      R"re(<p begin="(\d\d):(\d\d):(\d\d)\.(\d\d\d)" end="(\d\d):(\d\d):(\d\d)\.(\d\d\d)"[^>]*>([^<]*)</p>)re");
  for (auto it = std::sregex_iterator(xml.begin(), xml.end(), p); it != std::sregex_iterator();
       ++it) {
    const std::smatch& m = *it;
    out.push_back({clock_ms(m[1], m[2], m[3], m[4]), clock_ms(m[5], m[6], m[7], m[8]), m[9]});
  }
  return out;
}

// The $Time$ values of the SegmentTimeline after `from` in an MPD (S@t, @d, @r).
std::vector<std::pair<int64_t, int64_t>> dash_times(const std::string& mpd, size_t from) {
  std::vector<std::pair<int64_t, int64_t>> out;
  const size_t end = mpd.find("</SegmentTimeline>", from);
  const std::string part = mpd.substr(from, end - from);
  const std::regex s(R"re(<S (?:t="(\d+)" )?d="(\d+)"(?: r="(\d+)")? />)re");
  int64_t t = 0;
  for (auto it = std::sregex_iterator(part.begin(), part.end(), s); it != std::sregex_iterator();
       ++it) {
    if ((*it)[1].matched) t = std::stoll((*it)[1].str());
    const int64_t d = std::stoll((*it)[2].str());
    const int64_t r = (*it)[3].matched ? std::stoll((*it)[3].str()) : 0;
    for (int64_t i = 0; i <= r; ++i, t += d) out.emplace_back(t, d);
  }
  return out;
}

// DASH (both profiles) and Smooth carry each WebVTT side-car as TTML fragments on the video's
// timeline: every fragment holds the side-car's cues that overlap it, clipped to it, and ffprobe
// reads the init segment and fragments as one TTML track with those times.
TEST_F(SubtitlesTest, DashAndSmoothCarryTheSideCarsAsTtmlFragments) {
  Connection c(server_->port());
  // The side-car's cues: "English cue n" over [2000(n-1)+500, 2000n).
  auto expected_in = [](int64_t from_ms, int64_t to_ms) {
    std::vector<Paragraph> out;
    for (int n = 1; n <= 6; ++n) {
      const int64_t b = 2000 * (n - 1) + 500, e = 2000 * n;
      if (b < to_ms && e > from_ms) {
        out.push_back(
            {std::max(b, from_ms), std::min(e, to_ms), "English cue " + std::to_string(n)});
      }
    }
    return out;
  };
  for (const std::string format : {"mpd-time-csf", "mpd-time-cmaf"}) {
    SCOPED_TRACE(format);
    Answer mpd = c.get(path("manifest(format=" + format + ")"));
    ASSERT_EQ(mpd.status, 200) << mpd.describe();
    const size_t english = mpd.body.find("<Label>english</Label>");
    ASSERT_NE(english, std::string::npos) << mpd.body;
    EXPECT_NE(mpd.body.find("contentType=\"text\" mimeType=\"application/mp4\" "
                            "codecs=\"stpp.ttml.im1t\" lang=\"en\""),
              std::string::npos)
        << mpd.body;
    EXPECT_NE(mpd.body.find("<Label>french_sdh</Label>\n         <Role "
                            "schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"caption\" />"),
              std::string::npos)
        << mpd.body;
    EXPECT_EQ(mpd.body.find("broken"), std::string::npos) << mpd.body;
    const auto video = dash_times(
        mpd.body, mpd.body.find("<SegmentTimeline>", mpd.body.find("contentType=\"video\"")));
    const auto text = dash_times(mpd.body, mpd.body.find("<SegmentTimeline>", english));
    ASSERT_EQ(text, video);
    ASSERT_EQ(text.size(), 6u);

    Answer init = c.get(path("QualityLevels(0)/Fragments(english=i,format=" + format + ")"));
    ASSERT_EQ(init.status, 200) << init.describe();
    EXPECT_EQ(init.header("content-type"), "application/mp4");
    EXPECT_NE(init.body.find("stpp"), std::string::npos);
    std::string track = init.body;
    std::vector<std::string> documents;
    for (const auto& [t, d] : text) {
      Answer f = c.get(path("QualityLevels(0)/Fragments(english=" + std::to_string(t) +
                            ",format=" + format + ")"));
      ASSERT_EQ(f.status, 200) << f.describe();
      EXPECT_EQ(f.header("content-type"), "application/mp4");
      EXPECT_EQ(paragraphs_of(f.body), expected_in(t / 10000, (t + d) / 10000)) << "at " << t;
      documents.push_back(f.body.substr(f.body.find("mdat") + 4));
      track += f.body;
    }
    EXPECT_EQ(c.get(path("QualityLevels(0)/Fragments(english=1,format=" + format + ")")).status,
              404);
    // ffprobe (its mov demuxer) takes the concatenation as one stpp track of those fragments, each
    // packet the whole document at the fragment's time (ffmpeg 5.1 has no TTML decoder for MP4:
    // it lists the track as data).
    const std::string file = dir_ + "/text-" + format + ".mp4";
    write_file(file, track);
    const std::string csv = dir_ + "/text-" + format + ".csv";
    EXPECT_EQ(run({"sh", "-c",
                   "ffprobe -v error -show_entries stream=codec_tag_string:packet=pts,size "
                   "-of csv=p=0 '" +
                       file + "' > " + csv},
                  dir_ + "/ffprobe-text.log"),
              "");
    const std::string probed = read_file(csv);
    EXPECT_NE(probed.find("stpp"), std::string::npos) << probed;
    std::vector<std::pair<int64_t, size_t>> packets;
    const std::regex row(R"re((?:^|\n)(\d+),(\d+))re");
    for (auto it = std::sregex_iterator(probed.begin(), probed.end(), row);
         it != std::sregex_iterator(); ++it) {
      packets.emplace_back(std::stoll((*it)[1].str()), std::stoul((*it)[2].str()));
    }
    ASSERT_EQ(packets.size(), text.size()) << probed;
    for (size_t i = 0; i < text.size(); ++i) {
      EXPECT_EQ(packets[i].first, text[i].first) << probed;
      EXPECT_EQ(packets[i].second, documents[i].size()) << probed;
    }
  }
  // HLS subtitles are WebVTT files: no init segment.
  EXPECT_EQ(c.get(path("QualityLevels(0)/Fragments(english=i,format=m3u8-cmaf)")).status, 404);

  // Smooth: a text StreamIndex whose chunks are the video's, each fragment a TTML document.
  Answer ismc = c.get(path("manifest"));
  ASSERT_EQ(ismc.status, 200);
  EXPECT_NE(ismc.body.find("Type=\"text\" Subtype=\"SUBT\" "
                           "Url=\"QualityLevels({bitrate})/Fragments(english={start time})\""),
            std::string::npos)
      << ismc.body;
  EXPECT_NE(ismc.body.find("Subtype=\"CAPT\""), std::string::npos);
  EXPECT_NE(ismc.body.find("FourCC=\"TTML\""), std::string::npos);
  Answer first = c.get(path("QualityLevels(0)/Fragments(english=20000000)"));
  ASSERT_EQ(first.status, 200) << first.describe();
  EXPECT_EQ(first.body.substr(4, 4), "moof");
  EXPECT_EQ(paragraphs_of(first.body), expected_in(2000, 4000));
}

TEST_F(SubtitlesTest, EachSegmentHoldsTheCuesOfTheVideoSegmentItMatches) {
  Connection c(server_->port());
  for (const std::string format : {"m3u8-aapl", "m3u8-cmaf"}) {
    Answer video = c.get(path("QualityLevels(800000)/Manifest(video,format=" + format + ")"));
    Answer text = c.get(path("QualityLevels(0)/Manifest(english,format=" + format + ")"));
    ASSERT_EQ(video.status, 200) << video.describe();
    ASSERT_EQ(text.status, 200) << text.describe();
    EXPECT_TRUE(ams::manifest::check_hls_playlist(text.body).is_ok()) << text.body;
    EXPECT_EQ(text.body.find("EXT-X-MAP"), std::string::npos) << text.body;
    std::vector<double> vd, td;
    const std::vector<std::string> vu = uris_of(video.body, &vd);
    const std::vector<std::string> tu = uris_of(text.body, &td);
    ASSERT_EQ(tu.size(), vu.size()) << text.body << video.body;
    ASSERT_GE(tu.size(), 2u);
    EXPECT_EQ(td, vd);
    // Every cue of the side-car is in the segments that it overlaps, and in no other.
    int64_t start_ms = 0;
    std::vector<std::string> seen;
    for (size_t i = 0; i < tu.size(); ++i) {
      const int64_t end_ms = start_ms + static_cast<int64_t>(td[i] * 1000 + 0.5);
      const std::string expected_time = std::to_string(start_ms * 10000);
      EXPECT_NE(tu[i].find("Fragments(english=" + expected_time + ","), std::string::npos) << tu[i];
      Answer seg = c.get(path("QualityLevels(0)/" + tu[i]));
      ASSERT_EQ(seg.status, 200) << seg.describe();
      EXPECT_EQ(seg.header("content-type"), "text/vtt");
      // Cue times are the media's timestamps: the 10 s MPEG-TS offset in TS, none in CMAF.
      const bool ts = format == "m3u8-aapl";
      EXPECT_EQ(seg.body.rfind(std::string("WEBVTT\nX-TIMESTAMP-MAP=") +
                                   (ts ? "MPEGTS:900000,LOCAL:00:00:10.000\n\n"
                                       : "MPEGTS:0,LOCAL:00:00:00.000\n\n"),
                               0),
                0u)
          << seg.body;
      for (const auto& [ms, t] : cues_of(seg.body)) {
        const int n = std::atoi(t.substr(t.rfind(' ') + 1).c_str());
        EXPECT_EQ(ms, 2000 * (n - 1) + 500 + (ts ? 10000 : 0)) << seg.body;
      }
      for (int n = 1; n <= 6; ++n) {
        const int64_t cs = 2000 * (n - 1) + 500, ce = 2000 * n;
        const bool overlaps = cs < end_ms && ce > start_ms;
        const bool last = i + 1 == tu.size();
        const bool present =
            seg.body.find("English cue " + std::to_string(n) + "\n") != std::string::npos;
        EXPECT_EQ(present, overlaps || (last && cs >= start_ms))
            << format << " segment " << i << " cue " << n << ":\n"
            << seg.body;
      }
      for (const auto& [ms, t] : cues_of(seg.body)) seen.push_back(t);
      start_ms = end_ms;
    }
    for (int n = 1; n <= 6; ++n) {
      EXPECT_NE(std::find(seen.begin(), seen.end(), "English cue " + std::to_string(n)), seen.end())
          << format << ": cue " << n << " is in no segment";
    }
  }
}

TEST_F(SubtitlesTest, AMalformedCueIsLeftOutAndLoggedTheRestIsServed) {
  Connection c(server_->port());
  Answer seg = c.get(path("QualityLevels(0)/Fragments(french_sdh=0,format=m3u8-cmaf)"));
  ASSERT_EQ(seg.status, 200) << seg.describe();
  EXPECT_NE(seg.body.find("00:00:01.000 --> 00:00:03.000 line:0\n[musique]\n"), std::string::npos)
      << seg.body;
  EXPECT_EQ(seg.body.find("mal form"), std::string::npos) << seg.body;
  EXPECT_EQ(seg.body.find("NOTE"), std::string::npos) << seg.body;
  EXPECT_NE(read_file(dir_ + "/serve.log")
                .find("french.vtt: 1 WebVTT block(s) skipped, the first: line 8: the start time "
                      "is not a WebVTT timestamp: cue skipped"),
            std::string::npos)
      << read_file(dir_ + "/serve.log");
}

TEST_F(SubtitlesTest, ASideCarThatIsNotWebVttIsLeftOutAndTheRestPlays) {
  // Not listed (a player sent to it would fail the whole presentation: ffmpeg does), its URLs
  // are a 404, and the media and the other side-cars answer.
  Connection c(server_->port());
  Answer m = c.get(path("manifest(format=m3u8-aapl)"));
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body.find("broken"), std::string::npos) << m.body;
  EXPECT_EQ(c.get(path("QualityLevels(0)/Manifest(broken,format=m3u8-aapl)")).status, 404);
  EXPECT_EQ(c.get(path("QualityLevels(0)/Fragments(broken=0,format=m3u8-aapl)")).status, 404);
  EXPECT_EQ(c.get(path("QualityLevels(0)/Fragments(english=0,format=m3u8-aapl)")).status, 200);
  EXPECT_EQ(c.get(path("QualityLevels(800000)/Fragments(video=0,format=m3u8-aapl)")).status, 200);
  // A time that starts no segment, and an I-frame playlist of text, are refused.
  EXPECT_EQ(c.get(path("QualityLevels(0)/Fragments(english=1,format=m3u8-aapl)")).status, 404);
  EXPECT_EQ(
      c.get(path("QualityLevels(0)/Manifest(english,format=m3u8-aapl,type=keyframes)")).status,
      404);
}

TEST_F(SubtitlesTest, FfmpegReadsTheWebVttRendition) {
  // ffmpeg's HLS demuxer opens the SUBTITLES rendition and its WebVTT segments; every cue of the
  // side-car comes out once, on the video's timestamps (-copyts: as the demuxer gives them): 10 s
  // on in TS, where the video starts at 10 s, as they are in CMAF. ffmpeg 5.1 ignores the
  // X-TIMESTAMP-MAP, so this holds only because the cue times are the media's.
  for (const std::string format : {"m3u8-aapl", "m3u8-cmaf"}) {
    const std::string out = dir_ + "/ffmpeg-" + format + ".vtt";
    // -extension_picky 0: Debian's ffmpeg 5.1 takes only segment URLs with a media extension.
    // -strict experimental: ffmpeg 5.1 reads HLS subtitle renditions only so.
    EXPECT_EQ(run({"ffmpeg", "-v", "error", "-y", "-strict", "experimental", "-extension_picky",
                   "0", "-copyts", "-i", url("manifest(format=" + format + ")"), "-map", "0:s:0",
                   "-c:s", "webvtt", out},
                  dir_ + "/ffmpeg-" + format + ".log"),
              "");
    // The subtitle stream starts 0.5 s after the video, as the first cue does in the side-car.
    const std::string probe = dir_ + "/ffprobe-" + format + ".csv";
    EXPECT_EQ(run({"sh", "-c",
                   "ffprobe -v error -strict experimental -extension_picky 0 -show_entries "
                   "stream=codec_type,start_time -of csv=p=0 '" +
                       url("manifest(format=" + format + ")") + "' > " + probe},
                  dir_ + "/ffprobe-" + format + ".log"),
              "");
    std::map<std::string, double> starts;
    const std::string csv = read_file(probe);
    const std::regex row(R"((video|subtitle),([0-9.]+))");
    for (auto it = std::sregex_iterator(csv.begin(), csv.end(), row); it != std::sregex_iterator();
         ++it) {
      starts.emplace((*it)[1].str(), std::stod((*it)[2].str()));
    }
    ASSERT_EQ(starts.size(), 2u) << csv;
    EXPECT_NEAR(starts["subtitle"] - starts["video"], 0.5, 0.05) << format << ":\n" << csv;
    const std::vector<std::pair<int64_t, std::string>> cues = cues_of(read_file(out));
    ASSERT_EQ(cues.size(), 6u) << read_file(out);
    for (int n = 1; n <= 6; ++n) {
      EXPECT_EQ(cues[n - 1].second, "English cue " + std::to_string(n));
      EXPECT_NEAR(static_cast<double>(cues[n - 1].first),
                  2000.0 * (n - 1) + 500 + (format == "m3u8-aapl" ? 10000 : 0), 50.0)
          << format << " cue " << n;
    }
  }
}

TEST_F(SubtitlesTest, AChangedSideCarIsServedAtOnceUnderANewEntityTag) {
  Connection c(server_->port());
  const std::string seg = path("QualityLevels(0)/Fragments(english=0,format=m3u8-cmaf)");
  Answer before = c.get(seg);
  ASSERT_EQ(before.status, 200);
  ASSERT_NE(before.body.find("English cue 1"), std::string::npos);
  // A new file moved into place, as an operator publishes one.
  write_file(asset_ + "/english.vtt.new", english_vtt("Edited"));
  ASSERT_EQ(g_rename((asset_ + "/english.vtt.new").c_str(), (asset_ + "/english.vtt").c_str()), 0);
  Answer after = c.get(seg);
  ASSERT_EQ(after.status, 200);
  EXPECT_NE(after.body.find("Edited cue 1"), std::string::npos) << after.body;
  EXPECT_NE(after.header("etag"), before.header("etag"));
  write_file(asset_ + "/english.vtt.new", english_vtt("English"));
  ASSERT_EQ(g_rename((asset_ + "/english.vtt.new").c_str(), (asset_ + "/english.vtt").c_str()), 0);
}

// Real encoder output with CEA-608 captions: GStreamer's x264enc writes the cc_data that
// cccombiner attaches (GstVideoCaptionMeta) as GA94 SEI, from a CEA-608 byte-pair stream made here
// (CC1: RCL, "HI", EOC). The asset is a folder without an .ism, with a WebVTT file beside the MP4:
// the captions are signalled in HLS and DASH and pass through the segments untouched (ffmpeg's
// decoder reads "HI" back out of them), and the WebVTT file is a subtitle track.
class CaptionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-captions-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    asset_ = dir_ + "/clip";
    ASSERT_EQ(g_mkdir(asset_.c_str(), 0755), 0);
    // CEA-608 byte pairs with odd parity, one per frame at 30 fps: RCL twice, "HI", EOC twice,
    // then null padding.
    std::string pairs = std::string("\x94\x20\x94\x20\xc8\x49\x94\x2f\x94\x2f", 10);
    for (int i = 0; i < 295; ++i) pairs += std::string("\x80\x80", 2);
    write_file(dir_ + "/cc.raw", pairs);
    const std::string log = dir_ + "/setup.log";
    ASSERT_EQ(run({"gst-launch-1.0",
                   "-q",
                   "cccombiner",
                   "name=c",
                   "!",
                   "x264enc",
                   "key-int-max=60",
                   "bitrate=300",
                   "!",
                   "h264parse",
                   "!",
                   "mp4mux",
                   "!",
                   "filesink",
                   "location=" + asset_ + "/clip.mp4",
                   "videotestsrc",
                   "num-buffers=300",
                   "!",
                   "video/x-raw,width=320,height=180,framerate=30/1",
                   "!",
                   "c.sink",
                   "filesrc",
                   "location=" + dir_ + "/cc.raw",
                   "!",
                   "rawaudioparse",
                   "format=pcm",
                   "pcm-format=s16le",
                   "sample-rate=30",
                   "num-channels=1",
                   "!",
                   "audiobuffersplit",
                   "output-buffer-duration=1/30",
                   "!",
                   "capssetter",
                   "join=false",
                   "replace=true",
                   "caps=closedcaption/x-cea-608,format=raw,framerate=30/1",
                   "!",
                   "queue",
                   "!",
                   "ccconverter",
                   "!",
                   "closedcaption/x-cea-708,format=cc_data",
                   "!",
                   "c.caption"},
                  log),
              "");
    write_file(asset_ + "/clip.en.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello\n");
    serve_asset(dir_, asset_, "clip", &server_);
  }
  static void TearDownTestSuite() {
    delete server_;
    remove_tree(dir_);
  }
  static std::string path(const std::string& rest) {
    return std::string("/") + kLocator + "/clip.ism/" + rest;
  }
  // The text ffmpeg's CEA-608 decoder reads from the video of a local file (lavfi movie's subcc).
  static std::string captions_in(const std::string& file) {
    const std::string srt = file + ".srt";
    EXPECT_EQ(run({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                   "movie=" + file + "[out0+subcc]", "-map", "0:s", srt},
                  file + ".log"),
              "");
    return read_file(srt);
  }

  static std::string dir_;
  static std::string asset_;
  static ServerProcess* server_;
};

std::string CaptionsTest::dir_;
std::string CaptionsTest::asset_;
ServerProcess* CaptionsTest::server_ = nullptr;

TEST_F(CaptionsTest, Cea608IsSignalledAndPassesThroughTheSegments) {
  Connection c(server_->port());
  for (const std::string format : {"m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf"}) {
    Answer m = c.get(path("manifest(format=" + format + ")"));
    ASSERT_EQ(m.status, 200) << m.describe();
    EXPECT_TRUE(ams::manifest::check_hls_playlist(m.body).is_ok()) << m.body;
    EXPECT_NE(m.body.find("#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\","
                          "DEFAULT=NO,AUTOSELECT=YES,INSTREAM-ID=\"CC1\"\n"),
              std::string::npos)
        << m.body;
    EXPECT_EQ(m.body.find("CC2"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find(",CLOSED-CAPTIONS=\"cc\""), std::string::npos) << m.body;
    // The WebVTT file beside the MP4 is a subtitle track, its language from its name.
    EXPECT_NE(m.body.find("TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"clip_en\",LANGUAGE=\"eng\""),
              std::string::npos)
        << m.body;
  }
  Answer mpd = c.get(path("manifest(format=mpd-time-csf)"));
  ASSERT_EQ(mpd.status, 200);
  EXPECT_NE(mpd.body.find("<Accessibility schemeIdUri=\"urn:scte:dash:cc:cea-608:2015\" "
                          "value=\"CC1=und\" />"),
            std::string::npos)
      << mpd.body;
  EXPECT_NE(mpd.body.find("<Label>clip_en</Label>"), std::string::npos);

  // The captions, untouched: in the first HLS TS segment and the first DASH fragment.
  const std::string original = captions_in(asset_ + "/clip.mp4");
  ASSERT_NE(original.find("HI"), std::string::npos) << original;
  Answer master = c.get(path("manifest(format=m3u8-aapl)"));
  const std::smatch variant = [&] {
    std::smatch m;
    std::regex_search(master.body, m,
                      std::regex(R"re(\n(QualityLevels\(\d+\)/)(Manifest\(video,[^\n]*))re"));
    return m;
  }();
  ASSERT_FALSE(variant.empty()) << master.body;
  const std::string quality = variant[1].str();
  Answer media = c.get(path(quality + variant[2].str()));
  ASSERT_EQ(media.status, 200) << media.describe();
  const size_t seg = media.body.find("Fragments(");
  ASSERT_NE(seg, std::string::npos) << media.body;
  Answer ts = c.get(path(quality + media.body.substr(seg, media.body.find('\n', seg) - seg)));
  ASSERT_EQ(ts.status, 200) << ts.describe();
  write_file(dir_ + "/seg.ts", ts.body);
  std::smatch bandwidth;
  ASSERT_TRUE(std::regex_search(
      mpd.body, bandwidth, std::regex(R"re(<Representation id="1_V_video_1" bandwidth="(\d+)")re")))
      << mpd.body;
  const std::string dash = "QualityLevels(" + bandwidth[1].str() + ")/Fragments(video=";
  Answer init = c.get(path(dash + "i,format=mpd-time-csf)"));
  Answer fragment = c.get(path(dash + "0,format=mpd-time-csf)"));
  ASSERT_EQ(init.status, 200) << init.describe();
  ASSERT_EQ(fragment.status, 200) << fragment.describe();
  write_file(dir_ + "/fragment.mp4", init.body + fragment.body);
  EXPECT_NE(captions_in(dir_ + "/fragment.mp4").find("HI"), std::string::npos);
  EXPECT_NE(captions_in(dir_ + "/seg.ts").find("HI"), std::string::npos);
}

}  // namespace
}  // namespace ams_it
