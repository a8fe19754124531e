#include "url/request.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "manifest/url_template.h"

namespace ams::url {
namespace {

namespace fs = std::filesystem;

}  // namespace

// gtest prints a Request as its path, with the fields that print() drops.
void PrintTo(const Request& r, std::ostream* out) {
  *out << print(r) << " (kind " << static_cast<int>(r.kind) << ")";
}

namespace {

constexpr char kLocator[] = "3e4570a3-977a-432e-87bf-57bf505e400e";
const std::string kBase = std::string("/") + kLocator + "/ignite.ism/";

Request parsed(const std::string& path) {
  Result<Request> r = parse(path);
  EXPECT_TRUE(r.is_ok()) << path << ": " << r.status().to_string();
  return r.is_ok() ? r.value() : Request{};
}

StatusCode code_of(const std::string& path) {
  return parse(path).status().code();
}

// Every URL shape AMS prints, as written in the reference and its fixtures (child URLs made
// absolute). print() must give back exactly what AMS wrote.
const char* const kAmsUrls[] = {
    "manifest",
    "manifest(format=fmp4-v20)",
    "manifest(format=fmp4)",
    "manifest(format=m3u8-aapl)",
    "manifest(format=m3u8-aapl-v4)",
    "manifest(format=m3u8-aapl-v3)",
    "manifest(format=m3u8-aapl-v3,audiotrack=trackID)",
    "manifest(format=m3u8-cmaf)",
    "manifest(format=mpd-time-csf)",
    "manifest(format=mpd-time-cmaf)",
    "manifest(filter=MyMobileDevice;MyStartTime)",
    "manifest(format=m3u8-aapl,filter=myAccountFilter)",
    "manifest(filter=myAssetFilter)",
    "manifest(format=m3u8-aapl,audio-only=false)",
    "manifest(encryption=cbc)",
    "manifest(encryption=cenc)",
    "manifest(encryption=piff)",
    "manifest(format=m3u8-aapl,encryption=cbc)",
    "manifest(format=m3u8-aapl,encryption=cbcs-aapl)",
    "manifest(format=m3u8-cmaf,encryption=cbcs-aapl)",
    "manifest(format=mpd-time-cmaf,encryption=cbcs)",
    "manifest(format=mpd-time-csf,encryption=cenc)",
    "manifest(format=mpd-time-cmaf,encryption=cbc)",
    "manifest(format=m3u8-cmaf).m3u8",
    "manifest(format=m3u8-aapl).m3u8",
    "QualityLevels(381048)/Manifest(video,format=m3u8-aapl)",
    "QualityLevels(128041)/Manifest(aac_eng_2_128041_2_1,format=m3u8-aapl)",
    "QualityLevels(381048)/Manifest(video,format=m3u8-aapl,type=keyframes)",
    "QualityLevels(200000)/Manifest(video,format=m3u8-aapl-v3,audiotrack=audio_und)",
    "QualityLevels(128000)/Manifest(audio_und,format=m3u8-aapl-v3)",
    "QualityLevels(63999)/Manifest(aac_UND_1_63,format=m3u8-aapl)",
    "QualityLevels(3200000)/Manifest(video,format=m3u8-aapl-v3,audiotrack=audio_und,filter=f1)",
    "QualityLevels(381048)/Manifest(video,format=m3u8-cmaf).m3u8",
    "QualityLevels(381048)/Fragments(video=60000000,format=m3u8-aapl)",
    "QualityLevels(381048)/Fragments(video=0,format=m3u8-aapl)",
    "QualityLevels(200000)/Fragments(video=93067200,format=m3u8-aapl-v3,audiotrack=audio_und)",
    "QualityLevels(5820064)/Fragments(video=0,format=m3u8-aapl-v3,audiotrack=aac_UND_2_128)",
    "QualityLevels(381048)/KeyFrames(video_track=15447164594627600,format=m3u8-aapl)",
    "QualityLevels(381048)/Fragments(video=60000000,format=mpd-time-csf)",
    "QualityLevels(381048)/Fragments(video=i,format=mpd-time-csf)",
    "QualityLevels(128041)/Fragments(aac_eng_2_128041_2_1=i,format=mpd-time-csf)",
    "QualityLevels(381048)/Fragments(video=i,format=m3u8-cmaf)",
    "QualityLevels(128041)/Fragments(aac_eng_2_128041_2_1=0)",
    "QualityLevels(3579827)/Fragments(video=60000000)",
};

TEST(UrlParse, EveryAmsUrlParsesAndPrintsBackVerbatim) {
  for (const char* tail : kAmsUrls) {
    std::string path = kBase + tail;
    Request r = parsed(path);
    EXPECT_EQ(r.locator_id, kLocator) << path;
    EXPECT_EQ(r.manifest, "ignite") << path;
    EXPECT_EQ(print(r), path);
  }
}

TEST(UrlParse, ManifestSelectorFields) {
  Request r = parsed(kBase +
                     "manifest(format=m3u8-aapl-v3,audiotrack=audio_und,filter=a;b;c,"
                     "audio-only=false,encryption=cbc)");
  EXPECT_EQ(r.kind, Kind::kManifest);
  EXPECT_EQ(r.format, "m3u8-aapl-v3");
  EXPECT_EQ(r.audio_track, "audio_und");
  EXPECT_EQ(r.filters, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(r.audio_only);
  EXPECT_EQ(r.encryption, "cbc");
  EXPECT_FALSE(r.bitrate.has_value());

  Request smooth = parsed(kBase + "manifest");
  EXPECT_EQ(smooth.kind, Kind::kManifest);
  EXPECT_EQ(smooth.format, "");
  EXPECT_TRUE(smooth.audio_only);
  EXPECT_TRUE(smooth.filters.empty());
}

TEST(UrlParse, ChildResourceFields) {
  Request playlist = parsed(kBase +
                            "QualityLevels(381048)/Manifest(video,format=m3u8-aapl,"
                            "type=keyframes)");
  EXPECT_EQ(playlist.kind, Kind::kMediaPlaylist);
  EXPECT_EQ(playlist.bitrate, 381048u);
  EXPECT_EQ(playlist.track, "video");
  EXPECT_TRUE(playlist.keyframes);

  Request fragment = parsed(kBase +
                            "QualityLevels(4294967295)/Fragments(video=9223372036854775807,"
                            "format=mpd-time-csf)");
  EXPECT_EQ(fragment.kind, Kind::kFragment);
  EXPECT_EQ(fragment.bitrate, 4294967295u);
  EXPECT_EQ(fragment.time, INT64_MAX);
  EXPECT_FALSE(fragment.init);

  Request init = parsed(kBase +
                        "QualityLevels(128041)/Fragments(aac_eng_2_128041_2_1=i,"
                        "format=m3u8-cmaf)");
  EXPECT_TRUE(init.init);
  EXPECT_FALSE(init.time.has_value());
  EXPECT_EQ(init.track, "aac_eng_2_128041_2_1");

  Request key = parsed(kBase + "QualityLevels(1)/KeyFrames(video=20000000,format=m3u8-aapl)");
  EXPECT_EQ(key.kind, Kind::kKeyFrame);
  EXPECT_EQ(key.time, 20000000);
}

TEST(UrlParse, KeywordsAndArgumentNamesIgnoreCase) {
  std::string canonical = kBase + "manifest(format=m3u8-aapl-v3,audiotrack=a1)";
  for (const char* selector : {"manifest(format=m3u8-aapl-v3,audiotrack=a1)",
                               "Manifest(format=m3u8-aapl-v3,audioTrack=a1)",
                               "MANIFEST(FORMAT=m3u8-aapl-v3,AudioTrack=a1)"}) {
    Request r = parsed(kBase + selector);
    EXPECT_EQ(r.audio_track, "a1") << selector;
    EXPECT_EQ(print(r), canonical) << selector;
  }
  Request r = parsed(kBase + "qualitylevels(1)/fragments(video=0,format=M3U8-AAPL)");
  EXPECT_EQ(r.kind, Kind::kFragment);
  EXPECT_EQ(r.format, "M3U8-AAPL");  // as written; the server maps it with format_from_name
  EXPECT_EQ(print(r), kBase + "QualityLevels(1)/Fragments(video=0,format=M3U8-AAPL)");
  EXPECT_EQ(parsed(kBase + "manifest(encryption=CBCS-AAPL)").encryption, "cbcs-aapl");
}

TEST(UrlParse, SuffixAfterTheSelector) {
  EXPECT_EQ(parsed(kBase + "manifest(format=m3u8-cmaf).m3u8").suffix, ".m3u8");
  EXPECT_EQ(parsed(kBase + "manifest(format=mpd-time-csf).mpd").suffix, ".mpd");
  EXPECT_EQ(parsed(kBase + "manifest(format=mpd-time-csf).MPD").suffix, ".mpd");
  Request playlist = parsed(kBase + "QualityLevels(1)/Manifest(video,format=m3u8-cmaf).m3u8");
  EXPECT_EQ(playlist.kind, Kind::kMediaPlaylist);
  EXPECT_EQ(playlist.suffix, ".m3u8");
  // A suffix that contradicts the format is a client error, not a silent switch of format.
  EXPECT_EQ(code_of(kBase + "manifest(format=m3u8-aapl).mpd"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(kBase + "manifest.m3u8"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(kBase + "manifest(format=m3u8-aapl).m3u8x"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code_of(kBase + "QualityLevels(1)/Fragments(video=0,format=m3u8-aapl).m3u8"),
            StatusCode::kInvalidArgument);
}

TEST(UrlParse, LocatorIdIsNormalisedToLowerCase) {
  Request r = parsed("/3E4570A3-977A-432E-87BF-57BF505E400E/video1.mp4");
  EXPECT_EQ(r.kind, Kind::kDownload);
  EXPECT_EQ(r.locator_id, kLocator);
  EXPECT_EQ(r.file, "video1.mp4");
  EXPECT_EQ(normalize_guid("3e4570a3-977a-432e-87bf-57bf505e400"), std::nullopt);
  EXPECT_EQ(normalize_guid("3e4570a3x977a-432e-87bf-57bf505e400e"), std::nullopt);
  EXPECT_EQ(normalize_guid("ge4570a3-977a-432e-87bf-57bf505e400e"), std::nullopt);
}

TEST(UrlParse, DownloadsAndCrossSitePolicies) {
  Request r = parsed(std::string("/") + kLocator + "/my%20video%E2%82%AC.mp4");
  EXPECT_EQ(r.file, "my video\xE2\x82\xAC.mp4");
  EXPECT_EQ(print(r), std::string("/") + kLocator + "/my%20video%E2%82%AC.mp4");
  EXPECT_EQ(parsed(std::string("/") + kLocator + "/textTrack.vtt").file, "textTrack.vtt");
  EXPECT_EQ(parsed("/crossdomain.xml").kind, Kind::kCrossDomain);
  EXPECT_EQ(parsed("/clientaccesspolicy.xml").kind, Kind::kClientAccessPolicy);
  EXPECT_EQ(print(parsed("/ClientAccessPolicy.xml")), "/clientaccesspolicy.xml");
  // The query string is not part of the path.
  EXPECT_EQ(parsed(kBase + "manifest(format=m3u8-aapl)?foo=bar").format, "m3u8-aapl");
}

TEST(UrlParse, PercentEncodedSelectorsDecodeFirst) {
  Request r = parsed(kBase + "manifest%28format%3Dm3u8-aapl%2Caudio-only%3Dfalse%29");
  EXPECT_EQ(r.format, "m3u8-aapl");
  EXPECT_FALSE(r.audio_only);
  EXPECT_EQ(parsed(std::string("/") + kLocator + "/my%20asset.ism/manifest").manifest, "my asset");
}

TEST(UrlParse, TraversalAndMalformedPathsAre400) {
  const std::string loc = std::string("/") + kLocator;
  const std::string cases[] = {
      loc + "/..",
      loc + "/.",
      loc + "/%2e%2e",
      loc + "/%2E%2E",
      loc + "/.%2e",
      loc + "/%2e.",
      loc + "/%2e",
      "/..",
      "/%2e%2e/etc/passwd",
      loc + "/../etc/passwd",
      loc + "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      loc + "/..%2fsecret.mp4",
      loc + "/a%2fb.mp4",
      loc + "/a%2Fb.mp4",
      loc + "/a\\b.mp4",
      loc + "/..\\..\\windows\\win.ini",
      loc + "/a%5cb.mp4",
      loc + "/..%5c..%5cwin.ini",
      loc + "/a%00.mp4",
      loc + "/a%0a.mp4",
      std::string("/") + kLocator + "/a" + std::string(1, '\0') + ".mp4",
      loc + "//video1.mp4",
      "//etc/passwd",
      loc + "/video1.mp4/",
      loc + "/ignite.ism//manifest",
      loc + "/ignite.ism/%2e%2e/manifest",
      loc + "/ignite.ism/QualityLevels(1)/..",
      "relative/path.mp4",
      "",
      "video1.mp4",
      loc + "/a%2.mp4",
      loc + "/a%zz.mp4",
      loc + "/a%",
      "/" + std::string(kMaxPathLength, 'a'),
  };
  for (const std::string& path : cases) {
    EXPECT_EQ(code_of(path), StatusCode::kInvalidArgument) << path;
  }
  // Exactly at the limit is still read (and here is merely unknown).
  std::string at_limit = loc + "/" + std::string(kMaxPathLength - loc.size() - 1, 'a');
  ASSERT_EQ(at_limit.size(), kMaxPathLength);
  EXPECT_EQ(parsed(at_limit).kind, Kind::kDownload);
}

TEST(UrlParse, UnknownShapesAre404) {
  const std::string loc = std::string("/") + kLocator;
  for (const std::string& path : {
           std::string("/"),
           std::string("/favicon.ico"),
           std::string("/not-a-locator/video1.mp4"),
           std::string("/3e4570a3977a432e87bf57bf505e400e/video1.mp4"),
           loc,
           loc + "/ignite.ism",
           loc + "/ignite.ISM",
           loc + "/ignite.ism/foo",
           loc + "/ignite.ism/manifests(format=m3u8-aapl)",
           loc + "/ignite/manifest",
           loc + "/.ism/manifest",
           loc + "/ignite.ism/QualityLevels(1)/Other(video)",
           loc + "/ignite.ism/Levels(1)/Fragments(video=0)",
           loc + "/a/b/c/d",
           loc + "/ignite.ism/QualityLevels(1)/Fragments(video=0)/x",
       }) {
    EXPECT_EQ(code_of(path), StatusCode::kNotFound) << path;
  }
}

TEST(UrlParse, NumbersThatDoNotFitAre400) {
  for (const char* tail : {
           "QualityLevels(4294967296)/Fragments(video=0)",
           "QualityLevels(99999999999999999999)/Fragments(video=0)",
           "QualityLevels(-1)/Fragments(video=0)",
           "QualityLevels(+1)/Fragments(video=0)",
           "QualityLevels()/Fragments(video=0)",
           "QualityLevels(1,2)/Fragments(video=0)",
           "QualityLevels(0x10)/Fragments(video=0)",
           "QualityLevels(1)/Fragments(video=9223372036854775808)",
           "QualityLevels(1)/Fragments(video=-1)",
           "QualityLevels(1)/Fragments(video=1e6)",
           "QualityLevels(1)/Fragments(video=)",
           "QualityLevels(1)/KeyFrames(video=i,format=m3u8-aapl)",
       }) {
    EXPECT_EQ(code_of(kBase + tail), StatusCode::kInvalidArgument) << tail;
  }
}

TEST(UrlParse, UnknownOrMisplacedArgumentsAre400) {
  for (const char* tail : {
           "manifest(foo=bar)",
           "manifest(format=mp3)",
           "manifest(format=m3u8-aapl-isoff,segmentLength=6)",
           "manifest(startTime=0)",
           "manifest(format=m3u8-aapl,format=m3u8-aapl)",
           "manifest(filter=a;b;c;d)",
           "manifest(filter=a;;b)",
           "manifest(type=keyframes)",
           "manifest(audio-only=maybe)",
           "manifest(encryption=rot13)",
           "manifest(format)",
           "manifest(format=)",
           "manifest(=m3u8-aapl)",
           "manifest(,)",
           "manifest(format=m3u8-aapl,)",
           "manifest(format=m3u8-aapl",
           "manifest)",
           "manifest((format=m3u8-aapl))",
           "manifest(format=m3u8-aapl)x",
           "manifest(format=m3u8-aapl)(x)",
           "QualityLevels(1)/Manifest(video)",
           "QualityLevels(1)/Manifest(video,format=mpd-time-csf)",
           "QualityLevels(1)/Manifest(,format=m3u8-aapl)",
           "QualityLevels(1)/Manifest()",
           "QualityLevels(1)/Manifest(video,format=m3u8-aapl,audio-only=false)",
           "QualityLevels(1)/Manifest(video,format=m3u8-aapl,type=full)",
           "QualityLevels(1)/Fragments(video=0,type=keyframes)",
           "QualityLevels(1)/Fragments(video)",
           "QualityLevels(1)/Fragments()",
           "QualityLevels(1)/Fragments(=0)",
           "QualityLevels(1)/KeyFrames(video=0)",
           "QualityLevels(1)/KeyFrames(video=0,format=mpd-time-csf)",
       }) {
    EXPECT_EQ(code_of(kBase + tail), StatusCode::kInvalidArgument) << tail;
  }
}

// The URLs the manifest writers put into playlists resolve, against the master or media
// playlist URL, to requests this parser accepts.
TEST(UrlParse, UrlsTheManifestWritersPrint) {
  namespace t = ams::manifest::url;
  Request p = parsed(kBase + t::hls_playlist(381048, "video", "m3u8-aapl-v3", "audio_und", false));
  EXPECT_EQ(p.kind, Kind::kMediaPlaylist);
  EXPECT_EQ(p.audio_track, "audio_und");
  EXPECT_TRUE(parsed(kBase + t::hls_playlist(381048, "video", "m3u8-aapl", {}, true)).keyframes);
  std::string level = kBase + "QualityLevels(381048)/";
  EXPECT_EQ(parsed(level + t::hls_segment("video", 60000000, "m3u8-cmaf")).time, 60000000);
  EXPECT_TRUE(parsed(level + t::hls_init("video", "m3u8-cmaf")).init);
  EXPECT_EQ(parsed(level + t::hls_keyframe("video", 20000000, "m3u8-aapl")).kind, Kind::kKeyFrame);
  auto fill_all = [](std::string s) {
    for (auto [from, to] : {std::pair<std::string, std::string>{"$Bandwidth$", "381048"},
                            {"$Time$", "60000000"},
                            {"{bitrate}", "381048"},
                            {"{start time}", "0"}}) {
      if (size_t at = s.find(from); at != std::string::npos) s.replace(at, from.size(), to);
    }
    return s;
  };
  EXPECT_EQ(parsed(kBase + fill_all(t::dash_media_template("video", "mpd-time-cmaf"))).time,
            60000000);
  EXPECT_TRUE(parsed(kBase + fill_all(t::dash_init_template("video", "mpd-time-csf"))).init);
  EXPECT_EQ(parsed(kBase + fill_all(t::smooth_fragment_template("aac_eng_2_128041_2_1"))).track,
            "aac_eng_2_128041_2_1");
}

// Scans the AMS fixtures beside the repository for every URL they hold.
TEST(UrlParse, EveryUrlInTheAmsFixtures) {
  const char* root = std::getenv("AMS_SOURCE_ROOT");
  fs::path dir =
      fs::path(root != nullptr ? root : ".") / ".." / "shared" / "reference" / "examples";
  if (!fs::is_directory(dir)) GTEST_FAIL() << dir << " is absent";
  const std::regex relative(
      R"re((QualityLevels\([^)/]*\)/)?(Manifest|manifest|Fragments|KeyFrames)\([^)]*\)(\.m3u8)?)re");
  const std::regex absolute(R"re("(/[0-9a-f-]{36}/[^"]+)")re");
  int count = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    for (std::sregex_iterator it(s.begin(), s.end(), absolute), end; it != end; ++it) {
      parsed((*it)[1].str());
      ++count;
    }
    for (std::sregex_iterator it(s.begin(), s.end(), relative), end; it != end; ++it) {
      std::string url = it->str();
      bool inside_absolute = it->position() > 0 && s[it->position() - 1] == '/';
      if (inside_absolute && !(*it)[1].matched) continue;  // counted with the absolute paths
      for (auto [from, to] : {std::pair<std::string, std::string>{"$Bandwidth$", "381048"},
                              {"$Time$", "0"},
                              {"{bitrate}", "381048"},
                              {"{start time}", "0"}}) {
        if (size_t at = url.find(from); at != std::string::npos) url.replace(at, from.size(), to);
      }
      bool child = url.starts_with("Fragments") || url.starts_with("KeyFrames");
      parsed(kBase + (child ? "QualityLevels(1)/" : "") + url);
      ++count;
    }
  }
  EXPECT_GT(count, 50);
}

// parse(print(r)) == r over generated requests, names with characters that must be escaped.
TEST(UrlPrint, RoundTripsGeneratedRequests) {
  std::mt19937 rng(20240611);
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(*(options.begin() + rng() % options.size()));
  };
  for (int i = 0; i < 3000; ++i) {
    Request r;
    r.kind = static_cast<Kind>(rng() % 7);
    if (r.kind == Kind::kCrossDomain || r.kind == Kind::kClientAccessPolicy) {
      EXPECT_EQ(parsed(print(r)), r);
      continue;
    }
    r.locator_id = kLocator;
    if (r.kind == Kind::kDownload) {
      r.file = pick({"video1.mp4", "a b.mp4", "100%.mp4", "x(1),y=2;z.mp4", "caf\xC3\xA9.vtt",
                     "q?#.mp4", "manifest", "..mp4"});
      EXPECT_EQ(parsed(print(r)), r) << print(r);
      continue;
    }
    r.manifest = pick({"ignite", "my asset", "a%b", "x(1)", "..", "caf\xC3\xA9"});
    bool hls_only = r.kind == Kind::kMediaPlaylist || r.kind == Kind::kKeyFrame;
    r.format = hls_only ? pick({"m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf", "M3U8-AAPL-V4"})
                        : pick({"", "fmp4", "fmp4-v20", "m3u8-aapl", "mpd-time-csf"});
    if (rng() % 2 && r.kind != Kind::kKeyFrame)
      r.audio_track = pick({"audio_und", "a b", "\xC3\xA9"});
    if (rng() % 2) r.filters = {"f1", "my filter"};
    if (rng() % 3 == 0) r.encryption = pick({"cbc", "cenc", "cbcs", "cbcs-aapl", "piff"});
    if (r.kind == Kind::kManifest) {
      r.audio_only = rng() % 2;
      if (r.format == "mpd-time-csf" && rng() % 2) r.suffix = ".mpd";
      if (r.format == "m3u8-aapl" && rng() % 2) r.suffix = ".m3u8";
    } else {
      r.bitrate = static_cast<uint32_t>(rng());
      r.track = pick({"video", "aac_eng_2_128041_2_1", "v 1"});
    }
    if (r.kind == Kind::kMediaPlaylist) {
      r.keyframes = rng() % 2;
      if (rng() % 2) r.suffix = ".m3u8";
    }
    if (r.kind == Kind::kFragment && rng() % 4 == 0) {
      r.init = true;
    } else if (r.kind == Kind::kFragment || r.kind == Kind::kKeyFrame) {
      uint64_t wide = (static_cast<uint64_t>(rng()) << 32) | rng();
      r.time = static_cast<int64_t>(wide >> (1 + rng() % 63));
    }
    std::string path = print(r);
    EXPECT_EQ(parsed(path), r) << path;
    EXPECT_EQ(print(parsed(path)), path);
  }
}

}  // namespace
}  // namespace ams::url

namespace ams::url {
namespace {

// Found by url_fuzzer: a download name of raw bytes >= 0x80 under the limit, whose canonical
// (percent-encoded) form is three times longer and did not parse back.
TEST(UrlParse, RejectsPathsWhoseCanonicalFormIsTooLong) {
  std::string path = "/1f2c04a4-ac3b-5f5e-8a6b-2b0e1f3a2d7c/" + std::string(1500, '\x9b');
  auto r = parse(path);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto shorter = parse("/1f2c04a4-ac3b-5f5e-8a6b-2b0e1f3a2d7c/" + std::string(1000, '\x9b'));
  ASSERT_TRUE(shorter.is_ok()) << shorter.status().to_string();
  EXPECT_EQ(parse(print(*shorter))->file, shorter->file);
}

}  // namespace
}  // namespace ams::url
