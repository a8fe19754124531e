// Dynamic filters through the real `ams serve` (issue 14): asset and account filters made with
// the `ams asset-filter` / `ams account-filter` commands, applied by `filter=` in the URL and by a
// locator's filters, on a 30 s asset of three H.264 rungs (2 s GOPs) with English audio in the
// rungs and French audio in a file of its own. Every format's manifests are checked (the DASH
// schema, the strict HLS parser), every resource a filtered locator lists is fetched, ffmpeg
// decodes the trimmed streams, and the errors are AMS's codes.
#include <glib.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"
#include "manifest/hls_check.h"

namespace ams_it {
namespace {

constexpr char kPlain[] = "6a1c8f53-0a36-4f5e-9a55-2f3b1d8e7c01";
constexpr char kTrimmed[] = "6a1c8f53-0a36-4f5e-9a55-2f3b1d8e7c02";  // locator filters clip,low
constexpr char kGone[] = "6a1c8f53-0a36-4f5e-9a55-2f3b1d8e7c03";     // names a filter deleted

// The DASH schema beside the tree: the tests fail, not skip, without it.
std::string dash_schema_dir() {
  const char* root = g_getenv("AMS_SOURCE_ROOT");
  return std::string(root != nullptr ? root : ".") + "/../shared/schemas/dash";
}

// "" when `mpd` validates against the DASH schema, else xmllint's words.
std::string schema_problem(const std::string& mpd, const std::string& dir) {
  const std::string schema = dash_schema_dir() + "/DASH-MPD.xsd";
  if (!g_file_test(schema.c_str(), G_FILE_TEST_EXISTS))
    return "the DASH schema is absent: " + schema;
  const std::string file = dir + "/check.mpd";
  write_file(file, mpd);
  g_setenv("XML_CATALOG_FILES", (dash_schema_dir() + "/catalog.xml").c_str(), TRUE);
  return run({"xmllint", "--noout", "--nonet", "--schema", schema, file}, dir + "/xmllint.log");
}

double seconds_listed(const std::string& playlist) {
  double total = 0;
  std::regex extinf("#EXTINF:([0-9.]+),");
  for (auto it = std::sregex_iterator(playlist.begin(), playlist.end(), extinf);
       it != std::sregex_iterator(); ++it) {
    total += std::stod((*it)[1].str());
  }
  return total;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class FiltersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-filters-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string log = dir_ + "/setup.log";
    const std::string asset = dir_ + "/asset";
    db_ = dir_ + "/ams.db";
    ASSERT_EQ(run_ams({"encode", "--test-source", "30", "--ladder", "360:800,240:400,180:200",
                       "--width", "640", "--height", "360", "--audio-languages", "eng,fra", asset},
                      log),
              "");
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", asset, "--db", db_}, log), "");
    auto filter = [&](const std::vector<std::string>& args) {
      std::vector<std::string> a = args;
      a.insert(a.end(), {"--db", db_});
      return run_ams(a, log);
    };
    // 10 s to 20 s; the video below 500 kbit/s with every audio; the French audio and all
    // video; a first quality; one that keeps only text (none here).
    ASSERT_EQ(filter({"asset-filter", "create", "clip", "--asset", "demo", "--start", "10", "--end",
                      "20"}),
              "");
    ASSERT_EQ(filter({"asset-filter", "create", "low", "--asset", "demo", "--track",
                      "Type=Video;Bitrate=0-500000", "--track", "Type=Audio"}),
              "");
    ASSERT_EQ(filter({"account-filter", "create", "french", "--track", "Type=Video", "--track",
                      "Type=Audio;Language=fr"}),
              "");
    ASSERT_EQ(filter({"account-filter", "create", "fq", "--first-quality", "400000"}), "");
    ASSERT_EQ(filter({"account-filter", "create", "fq2", "--first-quality", "200000"}), "");
    ASSERT_EQ(filter({"account-filter", "create", "textonly", "--track", "Type=Text"}), "");
    ASSERT_EQ(filter({"account-filter", "create", "doomed", "--end", "5"}), "");
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_ClearStreamingOnly", "--id", kPlain, "--db", db_},
                      log),
              "");
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_ClearStreamingOnly", "--id", kTrimmed, "--filters", "clip,low",
                       "--db", db_},
                      log),
              "");
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_ClearStreamingOnly", "--id", kGone, "--filters", "doomed",
                       "--db", db_},
                      log),
              "");
    ASSERT_EQ(filter({"account-filter", "delete", "doomed"}), "");
    server_ = new ServerProcess(db_, {}, dir_ + "/serve.log");
    ASSERT_TRUE(server_->started()) << read_file(dir_ + "/serve.log");
  }
  static void TearDownTestSuite() {
    delete server_;
    remove_tree(dir_);
  }

  static std::string ism(const char* locator, const std::string& rest) {
    return std::string("/") + locator + "/testsrc.ism/" + rest;
  }
  static std::string url(const char* locator, const std::string& rest) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + ism(locator, rest);
  }

  static std::string dir_;
  static std::string db_;
  static ServerProcess* server_;
};

std::string FiltersTest::dir_;
std::string FiltersTest::db_;
ServerProcess* FiltersTest::server_ = nullptr;

TEST_F(FiltersTest, ATimeRangeTrimsEveryFormatToWholeFragments) {
  Connection c(server_->port());
  // HLS CMAF: one segment per 2 s fragment, from the one holding 10 s to the one before 20 s.
  Answer master = c.get(ism(kPlain, "manifest(format=m3u8-cmaf,filter=clip)"));
  ASSERT_EQ(master.status, 200) << master.describe();
  ASSERT_TRUE(ams::manifest::check_hls_playlist(master.body).is_ok()) << master.body;
  EXPECT_EQ(count(master.body, "filter=clip)"), count(master.body, "QualityLevels("))
      << master.body;
  Answer media =
      c.get(ism(kPlain, "QualityLevels(400000)/Manifest(video,format=m3u8-cmaf,filter=clip)"));
  ASSERT_EQ(media.status, 200) << media.describe();
  EXPECT_TRUE(ams::manifest::check_hls_playlist(media.body).is_ok()) << media.body;
  EXPECT_EQ(count(media.body, "#EXTINF:"), 5) << media.body;
  EXPECT_NEAR(seconds_listed(media.body), 10.0, 0.05) << media.body;
  EXPECT_NE(media.body.find("#EXT-X-MEDIA-SEQUENCE:5\n"), std::string::npos) << media.body;
  EXPECT_NE(media.body.find("Fragments(video=100000000,format=m3u8-cmaf,filter=clip)"),
            std::string::npos)
      << media.body;
  EXPECT_NE(media.body.find("#EXT-X-ENDLIST"), std::string::npos);
  // HLS v4 (TS, 3 fragments a segment): the same 10 s.
  Answer v4 =
      c.get(ism(kPlain, "QualityLevels(400000)/Manifest(video,format=m3u8-aapl,filter=clip)"));
  ASSERT_EQ(v4.status, 200) << v4.describe();
  EXPECT_NEAR(seconds_listed(v4.body), 10.0, 0.05) << v4.body;
  // DASH: the Period starts at the first fragment kept; valid against the schema.
  for (const char* format : {"mpd-time-csf", "mpd-time-cmaf"}) {
    Answer mpd = c.get(ism(kPlain, std::string("manifest(format=") + format + ",filter=clip)"));
    ASSERT_EQ(mpd.status, 200) << mpd.describe();
    EXPECT_EQ(schema_problem(mpd.body, dir_), "") << format;
    EXPECT_NE(mpd.body.find(R"(presentationTimeOffset="100000000")"), std::string::npos)
        << mpd.body;
    EXPECT_NE(mpd.body.find(R"(mediaPresentationDuration="PT10.)"), std::string::npos) << mpd.body;
  }
  // Smooth: the trimmed duration and chunks.
  Answer smooth = c.get(ism(kPlain, "manifest(filter=clip)"));
  ASSERT_EQ(smooth.status, 200) << smooth.describe();
  EXPECT_NE(smooth.body.find(R"(Chunks="5")"), std::string::npos) << smooth.body;
  EXPECT_NE(smooth.body.find(R"(<c t="100000000")"), std::string::npos) << smooth.body;
  // A fragment outside the filter is not served through it; without the filter it is.
  Answer outside =
      c.get(ism(kPlain, "QualityLevels(400000)/Fragments(video=0,format=m3u8-cmaf,filter=clip)"));
  EXPECT_EQ(outside.status, 404) << outside.describe();
  EXPECT_EQ(ams_error_problem(outside), "");
  EXPECT_EQ(c.get(ism(kPlain, "QualityLevels(400000)/Fragments(video=0,format=m3u8-cmaf)")).status,
            200);
  EXPECT_EQ(
      c.get(ism(kPlain,
                "QualityLevels(400000)/Fragments(video=100000000,format=m3u8-cmaf,filter=clip)"))
          .status,
      200);
}

TEST_F(FiltersTest, TrackSelectionsRemoveRenditionsAndLanguages) {
  Connection c(server_->port());
  Answer low = c.get(ism(kPlain, "manifest(format=m3u8-aapl,filter=low)"));
  ASSERT_EQ(low.status, 200) << low.describe();
  EXPECT_EQ(low.body.find("RESOLUTION=640x360"), std::string::npos) << low.body;
  EXPECT_NE(low.body.find("RESOLUTION=426x240"), std::string::npos) << low.body;
  EXPECT_EQ(count(low.body, "TYPE=AUDIO"), 2) << low.body;
  // A removed rendition's playlist and fragments answer 404 through the filter.
  EXPECT_EQ(c.get(ism(kPlain, "QualityLevels(800000)/Manifest(video,format=m3u8-aapl,filter=low)"))
                .status,
            404);
  // The French filter keeps the French audio only (fr matches the asset's fra).
  Answer french = c.get(ism(kPlain, "manifest(format=mpd-time-cmaf,filter=french)"));
  ASSERT_EQ(french.status, 200) << french.describe();
  EXPECT_EQ(count(french.body, R"(contentType="audio")"), 1) << french.body;
  EXPECT_NE(french.body.find(R"(lang="fr")"), std::string::npos) << french.body;
  EXPECT_EQ(schema_problem(french.body, dir_), "");
  // Two filters: both apply (the low video and the French audio).
  Answer both = c.get(ism(kPlain, "manifest(format=m3u8-aapl,filter=low;french)"));
  ASSERT_EQ(both.status, 200) << both.describe();
  EXPECT_EQ(count(both.body, "TYPE=AUDIO"), 1) << both.body;
  EXPECT_EQ(both.body.find("RESOLUTION=640x360"), std::string::npos) << both.body;
  // HLS v3 mutes nothing it must not: its muxed audio follows the selection.
  Answer v3 = c.get(ism(kPlain, "manifest(format=m3u8-aapl-v3,filter=french)"));
  ASSERT_EQ(v3.status, 200) << v3.describe();
  EXPECT_NE(v3.body.find("audiotrack="), std::string::npos) << v3.body;
}

TEST_F(FiltersTest, FirstQualityIsTheFirstVariant) {
  Connection c(server_->port());
  Answer master = c.get(ism(kPlain, "manifest(format=m3u8-aapl,filter=fq)"));
  ASSERT_EQ(master.status, 200) << master.describe();
  const size_t first = master.body.find("#EXT-X-STREAM-INF:");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(master.body.find("RESOLUTION=426x240", first), master.body.find("RESOLUTION=", first))
      << master.body;
  Answer mpd = c.get(ism(kPlain, "manifest(format=mpd-time-csf,filter=fq)"));
  ASSERT_EQ(mpd.status, 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      mpd.body, m, std::regex(R"x(<Representation [^>]*bandwidth="(\d+)"[^>]*width=)x")));
  EXPECT_NEAR(std::stod(m[1].str()), 400000, 150000) << mpd.body;
}

TEST_F(FiltersTest, ALocatorsFiltersApplyToEveryRequestThroughIt) {
  Connection c(server_->port());
  std::string error;
  std::vector<Resource> all = crawl(c, ism(kTrimmed, ""), &error);
  ASSERT_EQ(error, "");
  int fragments = 0;
  for (const Resource& r : all) {
    EXPECT_EQ(r.body.find("640x360"), std::string::npos) << r.path;
    EXPECT_EQ(r.path.find("QualityLevels(800"), std::string::npos) << r.path;
    if (r.kind == Kind::kFragment && r.format == "mpd-time-csf" && !r.audio) ++fragments;
  }
  // Two video renditions of five fragments each in the CSF MPD.
  EXPECT_EQ(fragments, 10);
  // The URL's filters apply on top of the locator's.
  Answer fr = c.get(ism(kTrimmed, "manifest(format=m3u8-aapl,filter=french)"));
  ASSERT_EQ(fr.status, 200) << fr.describe();
  EXPECT_EQ(count(fr.body, "TYPE=AUDIO"), 1) << fr.body;
  // Through that locator the unfiltered fragments are out of reach.
  EXPECT_EQ(
      c.get(ism(kTrimmed, "QualityLevels(400000)/Fragments(video=0,format=mpd-time-csf)")).status,
      404);
}

// The first presentation time, in seconds, of the track in `init` + `fragment`, by ffprobe.
double first_pts(const std::string& init, const std::string& fragment, const std::string& dir,
                 const std::string& name) {
  const std::string file = dir + "/" + name + ".mp4";
  write_file(file, init + fragment);
  const std::string log = dir + "/" + name + ".pts";
  EXPECT_EQ(
      run({"ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0", file},
          log),
      "");
  double first = 1e9;
  std::istringstream lines(read_file(log));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && (std::isdigit(static_cast<unsigned char>(line[0])) || line[0] == '-'))
      first = std::min(first, std::stod(line));
  }
  return first;
}

TEST_F(FiltersTest, TheAudioCoversTheStartOfATrimmedPresentation) {
  // The encoder starts each audio fragment at the first frame at or after its video boundary, so
  // the audio fragment at 10 s starts up to a frame late; the filtered presentation's first audio
  // fragment takes the frame before, so that no track starts after the video (10 s): not the
  // English audio in the rungs' files, nor the French audio in a file of its own.
  Connection c(server_->port());
  Answer master = c.get(ism(kPlain, "manifest(format=m3u8-cmaf,filter=clip)"));
  ASSERT_EQ(master.status, 200) << master.describe();
  std::smatch m;
  std::vector<std::string> audio;
  const std::regex uri(R"re(TYPE=AUDIO.*URI="QualityLevels\((\d+)\)/Manifest\(([^,]+),)re");
  for (auto it = std::sregex_iterator(master.body.begin(), master.body.end(), uri);
       it != std::sregex_iterator(); ++it) {
    audio.push_back((*it)[1].str() + "/" + (*it)[2].str());
  }
  ASSERT_EQ(audio.size(), 2u) << master.body;
  for (const std::string& a : audio) {
    const std::string bitrate = a.substr(0, a.find('/')), name = a.substr(a.find('/') + 1);
    const std::string level = "QualityLevels(" + bitrate + ")/";
    Answer playlist =
        c.get(ism(kPlain, level + "Manifest(" + name + ",format=m3u8-cmaf,filter=clip)"));
    ASSERT_EQ(playlist.status, 200) << playlist.describe();
    ASSERT_TRUE(std::regex_search(playlist.body, m,
                                  std::regex(R"re(\n(Fragments\([^=]+=(\d+),[^)]*\)))re")))
        << playlist.body;
    const int64_t listed = std::stoll(m[2].str());
    Answer init =
        c.get(ism(kPlain, level + "Fragments(" + name + "=i,format=m3u8-cmaf,filter=clip)"));
    Answer first = c.get(ism(kPlain, level + m[1].str()));
    ASSERT_EQ(init.status, 200) << init.describe();
    ASSERT_EQ(first.status, 200) << first.describe();
    const double pts = first_pts(init.body, first.body, dir_, "lead-" + name);
    EXPECT_LE(pts, 10.0) << name << ": " << playlist.body;
    EXPECT_GT(pts, 10.0 - 0.05) << name << ": one frame of lead, not a fragment";
    EXPECT_NEAR(pts, listed / 1e7, 1e-4) << name << ": the URL's time is the first sample's";
  }
}

TEST_F(FiltersTest, DashAudioStartsAtThePeriodStartOfATrimmedPresentation) {
  // DASH cuts at the Period start with presentationTimeOffset, so the audio takes no lead-in: each
  // SegmentTimeline starts at or after its offset (GStreamer 1.22 dashdemux2 asks for a wrapped
  // $Time$ on a seek when it does not) and within a frame of it, and the first segment's media
  // starts where the timeline says.
  Connection c(server_->port());
  for (const std::string format : {"mpd-time-csf", "mpd-time-cmaf"}) {
    Answer mpd = c.get(ism(kPlain, "manifest(format=" + format + ",filter=clip)"));
    ASSERT_EQ(mpd.status, 200) << mpd.describe();
    const std::regex set(
        R"re(<AdaptationSet [^>]*contentType="audio"[\s\S]*?presentationTimeOffset="(\d+)"[^>]*media="([^"]+)"[^>]*initialization="([^"]+)"[\s\S]*?<S t="(\d+)"[\s\S]*?bandwidth="(\d+)")re");
    int sets = 0;
    for (auto it = std::sregex_iterator(mpd.body.begin(), mpd.body.end(), set);
         it != std::sregex_iterator(); ++it, ++sets) {
      const int64_t pto = std::stoll((*it)[1].str()), t = std::stoll((*it)[4].str());
      EXPECT_GE(t, pto) << format << ": " << mpd.body;
      EXPECT_LT(t - pto, 10000000 / 48000 * 1024 + 1) << format << ": more than a frame late";
      auto expand = [&](std::string tpl) {
        tpl = std::regex_replace(tpl, std::regex(R"(\$Bandwidth\$)"), (*it)[5].str());
        return std::regex_replace(tpl, std::regex(R"(\$Time\$)"), (*it)[4].str());
      };
      Answer init = c.get(ism(kPlain, expand((*it)[3].str())));
      Answer first = c.get(ism(kPlain, expand((*it)[2].str())));
      ASSERT_EQ(init.status, 200) << init.describe();
      ASSERT_EQ(first.status, 200) << first.describe();
      const double pts = first_pts(init.body, first.body, dir_, "dash-" + format);
      EXPECT_NEAR(pts, t / 1e7, 1e-4) << format << ": the S@t is the first sample's";
    }
    EXPECT_EQ(sets, 2) << format << ": English and French audio: " << mpd.body;
  }
}

TEST_F(FiltersTest, FfmpegDecodesTheTrimmedStreams) {
  // 10 s of 30 fps video in each protocol, and audio of the same length.
  for (const std::string format : {"m3u8-aapl", "m3u8-cmaf", "mpd-time-csf"}) {
    std::vector<std::string> argv = {"ffprobe",
                                     "-v",
                                     "error",
                                     "-count_frames",
                                     "-select_streams",
                                     "v:0",
                                     "-show_entries",
                                     "stream=nb_read_frames",
                                     "-of",
                                     "csv=p=0"};
    if (format[0] == 'm' && format[1] == '3') argv.insert(argv.end(), {"-extension_picky", "0"});
    argv.push_back(url(kTrimmed, "manifest(format=" + format + ")"));
    const std::string out_log = dir_ + "/ffprobe-" + format + ".log";
    ASSERT_EQ(run(argv, out_log), "") << format;
    const std::string text = read_file(out_log);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(text, m, std::regex(R"((\d+)\s*$)"))) << text;
    EXPECT_EQ(std::stoi(m[1].str()), 300) << format << ": " << text;
  }
}

TEST_F(FiltersTest, ErrorsAreAmsCodes) {
  Connection c(server_->port());
  struct Case {
    std::string path;
    int status;
    std::string hresult;
  };
  const std::vector<Case> cases = {
      {ism(kPlain, "manifest(filter=nosuch)"), 404, "MPE_EGRESS_FILTER_NOT_FOUND"},
      {ism(kPlain, "manifest(format=m3u8-aapl,filter=textonly)"), 415,
       "MPE_FILTER_REMOVED_ALL_STREAMS"},
      {ism(kPlain, "manifest(format=m3u8-aapl,filter=fq;fq2)"), 415,
       "MPE_FILTER_COMPOSITION_MULTIPLE_FIRST_QUALITY_OPERATOR_NOT_ALLOWED"},
      {ism(kPlain, "manifest(format=m3u8-aapl,filter=a;b;c;d)"), 400, "MPE_BAD_REQUEST"},
      // A locator whose filter was deleted answers 404 until one of that name exists again.
      {ism(kGone, "manifest(format=mpd-time-csf)"), 404, "MPE_EGRESS_FILTER_NOT_FOUND"},
  };
  for (const Case& k : cases) {
    Answer a = c.get(k.path);
    EXPECT_EQ(a.status, k.status) << k.path << "\n" << a.describe();
    EXPECT_EQ(hresult_of(a), k.hresult) << k.path;
    EXPECT_EQ(ams_error_problem(a), "") << k.path;
  }
}

TEST_F(FiltersTest, AChangedFilterIsSeenByTheNextRequest) {
  Connection c(server_->port());
  const std::string path =
      ism(kPlain, "QualityLevels(200000)/Manifest(video,format=m3u8-cmaf,filter=clip)");
  Answer before = c.get(path);
  ASSERT_EQ(before.status, 200);
  ASSERT_EQ(c.get(path).body, before.body);  // from the answer cache
  ASSERT_EQ(run_ams({"asset-filter", "create", "clip", "--asset", "demo", "--start", "0", "--end",
                     "4", "--db", db_},
                    dir_ + "/setup.log"),
            "");
  Answer after = c.get(path);
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(count(after.body, "#EXTINF:"), 2) << after.body;
  EXPECT_NE(after.header("etag"), before.header("etag"));
  // Back as it was, for the other tests.
  ASSERT_EQ(run_ams({"asset-filter", "create", "clip", "--asset", "demo", "--start", "10", "--end",
                     "20", "--db", db_},
                    dir_ + "/setup.log"),
            "");
  EXPECT_EQ(c.get(path).body, before.body);
}

}  // namespace
}  // namespace ams_it
