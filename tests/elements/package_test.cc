// ams package: every URL each manifest and playlist names exists as a file, and the folder served
// by python3 -m http.server plays to the end in GStreamer's adaptive demuxers and in ffprobe.
#include <gio/gio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gstptr.h"
#include "manifest/manifest.h"
#include "model/builder.h"
#include "test_asset.h"

namespace ams::test {
namespace {

using gst::GstPtr;

const char* const kMasters[] = {"manifest",
                                "manifest(format=fmp4-v20)",
                                "manifest(format=m3u8-aapl)",
                                "manifest(format=m3u8-aapl-v3)",
                                "manifest(format=m3u8-cmaf)",
                                "manifest(format=mpd-time-csf)",
                                "manifest(format=mpd-time-cmaf)"};

std::vector<std::smatch> all_matches(const std::string& text, const std::regex& re) {
  std::vector<std::smatch> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back(*it);
  }
  return out;
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The times a client derives from a Smooth <c> list (2.2: r = count) or a DASH SegmentTimeline
// (r = repeats).
std::vector<int64_t> timeline(const std::string& xml, const std::string& element, bool dash) {
  std::vector<int64_t> times;
  int64_t next = 0;
  static const std::regex attr(R"re(\b(t|d|r)="(-?\d+)")re");
  for (const std::smatch& m : all_matches(xml, std::regex("<" + element + "\\b[^>]*>"))) {
    int64_t t = -1, d = 0, r = dash ? 0 : 1;
    const std::string tag = m.str();
    for (const std::smatch& a : all_matches(tag, attr)) {
      const int64_t v = std::stoll(a.str(2));
      if (a.str(1) == "t") t = v;
      if (a.str(1) == "d") d = v;
      if (a.str(1) == "r") r = v;
    }
    if (t >= 0) next = t;
    for (int64_t i = 0; i < (dash ? r + 1 : r); ++i, next += d) times.push_back(next);
  }
  return times;
}

// Every URL a Smooth manifest or an MPD names, expanded from its templates.
std::vector<std::string> xml_urls(const std::string& xml, bool dash) {
  std::vector<std::string> urls;
  const char* set_tag = dash ? "<AdaptationSet" : "<StreamIndex";
  size_t at = xml.find(set_tag);
  while (at != std::string::npos) {
    const size_t end = xml.find(set_tag, at + 1);
    const std::string set = xml.substr(at, end == std::string::npos ? end : end - at);
    at = end;
    std::smatch m;
    std::regex_search(set, m, std::regex(dash ? R"re(media="([^"]+)")re" : R"re(Url="([^"]+)")re"));
    const std::string media = m.str(1);
    std::string init;
    if (std::regex_search(set, m, std::regex(R"re(initialization="([^"]+)")re"))) init = m.str(1);
    const std::string bw = dash ? "$Bandwidth$" : "{bitrate}";
    const std::string tm = dash ? "$Time$" : "{start time}";
    for (const std::smatch& b : all_matches(
             set, std::regex(dash ? R"re(bandwidth="(\d+)")re" : R"re(Bitrate="(\d+)")re"))) {
      if (!init.empty()) urls.push_back(replace(init, bw, b.str(1)));
      for (int64_t t : timeline(set, dash ? "S" : "c", dash)) {
        urls.push_back(replace(replace(media, bw, b.str(1)), tm, std::to_string(t)));
      }
    }
  }
  return urls;
}

// The URIs of an HLS playlist (URI lines and URI="..." attributes), relative to it.
std::vector<std::string> hls_uris(const std::string& text) {
  std::vector<std::string> uris;
  for (const std::smatch& m : all_matches(text, std::regex(R"re(URI="([^"]+)")re"))) {
    uris.push_back(m.str(1));
  }
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at && text[at] != '#') uris.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return uris;
}

class PackageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    why_ = new std::string();
    root_ = new std::string();
    // An asset of its own, 14 s: three TS segments per HLS v3/v4 playlist. On the shared 6 s asset
    // each TS playlist is one segment, and GStreamer 1.22's hlsdemux2 then often reached the end
    // of the HLS v3 variant before it exposed its pad ("Can't push EOS on non-exposed pad", then
    // "Couldn't download fragments, too many failures" 10 ms after the start: 4 runs in 6 beside
    // two busy loops, both full CI runs of 2026-12-02), whatever the server's bytes.
    asset_ = new std::string(make_temp_dir());
    std::string encoded;
    if (run_command({build_root() + "/tools/ams", "encode", "--test-source", "14", "--ladder",
                     "360,180", "--width", "640", "--height", "360", *asset_ + "/asset"},
                    &encoded, 300) != 0) {
      *why_ = "ams encode failed: " + encoded;
      return;
    }
    const std::string ism = *asset_ + "/asset/testsrc.ism";
    for (const char* name : {"amscmafmux", "amstsmux"}) {
      GstPtr<GstElementFactory> factory(gst_element_factory_find(name));
      if (!factory) {
        *why_ = std::string(name) + " is not in the plugin (GST_PLUGIN_PATH)";
        return;
      }
    }
    auto built = model::build_presentation(ism);
    if (!built.is_ok()) {
      *why_ = built.status().to_string();
      return;
    }
    for (const model::Sample& s : (*built)->tracks_of(model::TrackType::kVideo)[0]->samples()) {
      (void)s;
      ++video_frames_;
    }
    *root_ = make_temp_dir();
    std::string output;
    if (run_command({build_root() + "/tools/ams", "package", ism, "--format", "all", "--output",
                     *root_ + "/testsrc.ism"},
                    &output, 300) != 0) {
      *why_ = "ams package failed: " + output;
      remove_tree(*root_);
      root_->clear();
    }
  }
  static void TearDownTestSuite() {
    stop_server();
    if (root_) remove_tree(*root_);
    if (asset_) remove_tree(*asset_);
  }
  // The setup installs everything these tests need, so a missing muxer or a failed package is a
  // failure, never a skip.
  void SetUp() override {
    if (root_->empty()) GTEST_FAIL() << *why_;
  }

  static std::string dir() { return *root_ + "/testsrc.ism"; }

  // Python's http.server over the package's parent folder, on a free loopback port, with a
  // listen backlog of 128 rather than `python3 -m http.server`'s 5, so that a burst of
  // connections under the load of the whole suite is not dropped.
  static std::string server_url() {
    if (server_pid_ > 0) return "http://127.0.0.1:" + std::to_string(port_) + "/testsrc.ism/";
    // Port 0: python picks a free port and says which ("Serving HTTP on 127.0.0.1 port N"), once
    // it listens. Choosing one here and handing it over raced with the tests that run beside
    // this one: another server could take it in between and answer our requests.
    const char* script =
        "import functools, http.server as h, sys\n"
        "h.ThreadingHTTPServer.request_queue_size = 128\n"
        "handler = functools.partial(h.SimpleHTTPRequestHandler, directory=sys.argv[1])\n"
        "server = h.ThreadingHTTPServer(('127.0.0.1', 0), handler)\n"
        "print('Serving HTTP on 127.0.0.1 port %d' % server.server_address[1], flush=True)\n"
        "server.serve_forever()\n";
    const gchar* argv[] = {"python3", "-u", "-c", script, root_->c_str(), nullptr};
    gint out = -1;
    if (!g_spawn_async_with_pipes(
            nullptr, const_cast<gchar**>(argv), nullptr,
            static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL), nullptr,
            nullptr, &server_pid_, nullptr, &out, nullptr, nullptr)) {
      return "";
    }
    std::string line;
    char c = 0;
    while (read(out, &c, 1) == 1 && c != '\n') line += c;
    close(out);  // python writes a line per request to stderr, not here
    const size_t at = line.find(" port ");
    if (at == std::string::npos) {
      stop_server();
      return "";
    }
    port_ = static_cast<guint16>(std::stoi(line.substr(at + 6)));
    return server_url();
  }
  static void stop_server() {
    if (server_pid_ <= 0) return;
    kill(server_pid_, SIGTERM);
    g_spawn_close_pid(server_pid_);
    server_pid_ = 0;
  }

  static std::string* why_;
  static std::string* root_;
  static std::string* asset_;  // the asset this suite encodes and packages
  static size_t video_frames_;
  static GPid server_pid_;
  static guint16 port_;
};
std::string* PackageTest::why_ = nullptr;
std::string* PackageTest::root_ = nullptr;
std::string* PackageTest::asset_ = nullptr;
size_t PackageTest::video_frames_ = 0;
GPid PackageTest::server_pid_ = 0;
guint16 PackageTest::port_ = 0;

void expect_file(const std::string& path) {
  EXPECT_TRUE(file_exists(path)) << path;
  EXPECT_FALSE(read_file(path).empty()) << path;
}

TEST_F(PackageTest, EveryReferencedUrlIsAFile) {
  for (const char* master : kMasters) {
    SCOPED_TRACE(master);
    const std::string text = read_file(dir() + "/" + master);
    ASSERT_FALSE(text.empty());
    if (text.rfind("#EXTM3U", 0) == 0) {
      const std::vector<std::string> playlists = hls_uris(text);
      EXPECT_GE(playlists.size(), 2u);
      for (const std::string& playlist : playlists) {
        const std::string path = dir() + "/" + playlist;
        expect_file(path);
        const std::string folder = path.substr(0, path.rfind('/') + 1);
        const std::vector<std::string> segments = hls_uris(read_file(path));
        EXPECT_GE(segments.size(), 1u) << playlist;
        for (const std::string& segment : segments) expect_file(folder + segment);
      }
    } else {
      const std::vector<std::string> urls = xml_urls(text, text.find("<MPD") != std::string::npos);
      EXPECT_GE(urls.size(), 18u);  // 6 tracks x 3 fragments
      for (const std::string& url : urls) expect_file(dir() + "/" + url);
    }
  }
}

// Frames decoded by playbin3 from `uri`, after EOS without error.
size_t play(const std::string& uri, std::string& error) {
  GstPtr<GstElement> playbin =
      GstPtr<GstElement>::sink(gst_element_factory_make("playbin3", nullptr));
  GstElement* video = gst_element_factory_make("fakesink", nullptr);
  GstElement* audio = gst_element_factory_make("fakesink", nullptr);
  g_object_set(video, "sync", FALSE, "signal-handoffs", TRUE, nullptr);
  g_object_set(audio, "sync", FALSE, nullptr);
  size_t frames = 0;
  g_signal_connect(video, "handoff",
                   G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad*, gpointer count) {
                     ++*static_cast<size_t*>(count);
                   }),
                   &frames);
  g_object_set(playbin.get(), "uri", uri.c_str(), "video-sink", video, "audio-sink", audio,
               nullptr);
  PipelineRun run = run_pipeline(playbin.get(), 120 * GST_SECOND);
  error = run.eos ? run.error : (run.error.empty() ? "no EOS" : run.error);
  return frames;
}

TEST_F(PackageTest, PlaysInGStreamerAdaptiveDemuxers) {
  const std::string base = server_url();
  ASSERT_FALSE(base.empty()) << "cannot start python3 -m http.server";
  for (const char* master : kMasters) {
    SCOPED_TRACE(master);
    std::string error;
    const size_t frames = play(base + master, error);
    EXPECT_EQ(error, "");
    EXPECT_EQ(frames, video_frames_);
  }
}

TEST_F(PackageTest, FfprobeReadsEveryHlsAndDashVariant) {
  std::string version;
  if (run_command({"ffprobe", "-version"}, &version, 10) != 0) GTEST_FAIL() << "no ffprobe";
  const std::string base = server_url();
  for (const char* master : kMasters) {
    if (std::string(master).find("m3u8") == std::string::npos &&
        std::string(master).find("mpd") == std::string::npos) {
      continue;  // ffmpeg has no Smooth demuxer
    }
    SCOPED_TRACE(master);
    std::string out;
    // ffmpeg (5.1.4 and later) refuses extension-less TS segment URLs, AMS's own included,
    // unless told not to be picky.
    std::vector<std::string> argv = {"ffprobe", "-v", "error"};
    if (std::string(master).find("m3u8") != std::string::npos) {
      argv.insert(argv.end(), {"-extension_picky", "0"});
    }
    argv.insert(argv.end(), {"-count_frames", "-select_streams", "v:0", "-show_entries",
                             "stream=nb_read_frames", "-of", "csv=p=0", base + master});
    EXPECT_EQ(run_command(argv, &out, 120), 0);
    EXPECT_EQ(std::atoi(out.c_str()), static_cast<int>(video_frames_)) << out;
  }
}

}  // namespace
}  // namespace ams::test
