// Issue 11, item 4: HTTP that CDNs and players rely on (RFC 9110), on every kind of resource the
// endpoint serves: the master manifest of each format, HLS media and I-frame playlists, DASH and
// CMAF init segments, Smooth/DASH/CMAF fragments of video and audio, TS segments and a download.
// Ranges (a-b, a-, -n, past the end, several at once), If-Range, Last-Modified and
// If-Modified-Since on downloads, Range on gzip answers, and the Content-Type of each kind. Each
// request goes over a keep-alive raw socket that reads exactly Content-Length bytes with a
// time-out, and the next request on the same socket must work: a short body shows as a hang, not a
// pass.

#include <fcntl.h>
#include <gio/gio.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kLocator[] = "55555555-0000-4000-8000-000000000001";
// The asset files' modification time: 2024-05-06 07:08:09 UTC, far from "now", so that a date
// validator is strong (RFC 9110 8.8.2.2) and a wrong clock shows.
constexpr time_t kMtime = 1714979289;

std::string imf_fixdate(time_t t) {
  struct tm tm {};
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[64];
  std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

std::string gunzip(const std::string& data) {
  GZlibDecompressor* d = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  GInputStream* raw = g_memory_input_stream_new_from_data(data.data(), data.size(), nullptr);
  GInputStream* in = g_converter_input_stream_new(raw, G_CONVERTER(d));
  std::string out;
  char buffer[16384];
  gssize n = 0;
  while ((n = g_input_stream_read(in, buffer, sizeof(buffer), nullptr, nullptr)) > 0) {
    out.append(buffer, static_cast<size_t>(n));
  }
  g_object_unref(in);
  g_object_unref(raw);
  g_object_unref(d);
  return out;
}

// What a resource is and what it must answer.
struct Target {
  std::string label;  // "fragment mpd-time-csf audio"
  std::string path;   // full request target
  std::string content_type;
  bool compressible = false;
  bool download = false;
  std::string body;  // the 200 answer
  std::string etag;
};

std::string expected_type(const Resource& r) {
  switch (r.kind) {
    case Kind::kMaster:
    case Kind::kPlaylist:
      if (r.format == "smooth") return "application/vnd.ms-sstr+xml";
      if (r.format.rfind("m3u8", 0) == 0) return "application/vnd.apple.mpegurl";
      return "application/dash+xml";
    case Kind::kInit:
    case Kind::kFragment:
      return r.audio ? "audio/mp4" : "video/mp4";
    case Kind::kTsSegment:
    case Kind::kKeyFrame:
      return "video/mp2t";
  }
  return "";
}

// Problems found on one target, reported together.
struct Findings {
  std::mutex mutex;
  std::vector<std::string> lines;
  void add(const Target& t, const std::string& check, const std::string& problem) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(t.label + " [" + check + "]: " + problem);
  }
  void report() {
    std::sort(lines.begin(), lines.end());
    for (const std::string& l : lines) ADD_FAILURE() << l;
    std::printf("%zu findings\n", lines.size());
  }
};

// Range requests hang on today's server: wait 2 s at most between body bytes.
Timeouts range_timeouts() {
  Timeouts t;
  t.headers_ms = 10000;
  t.idle_ms = 2000;
  t.total_ms = 15000;
  return t;
}

// After a complete answer, the same socket must carry a plain GET of the target whole. (After an
// incomplete one the finding is already the hang; the next request opens a new connection.)
void check_reusable(Connection& c, const Target& t, const Answer& previous,
                    const std::string& check, Findings& f) {
  if (!previous.complete) return;
  if (!c.is_open()) {
    f.add(t, check, "the connection is not usable for a next request");
    return;
  }
  int before = c.connects();
  Answer next = c.get(t.path, {}, range_timeouts());
  if (c.connects() != before) {
    f.add(t, check, "the server closed the keep-alive connection after the answer");
  }
  if (!next.complete || next.status != 200 || next.body != t.body) {
    f.add(t, check, "the next request on the connection: " + next.describe());
  }
}

// A satisfiable single range: 206, exactly bytes [first, last], the headers RFC 9110 14.4 and
// 15.3.7 ask for, and a connection that carries on.
void check_206(Connection& c, const Target& t, const std::string& spec, uint64_t first,
               uint64_t last, const Headers& extra, Findings& f) {
  Headers h = {{"Range", spec}};
  h.insert(h.end(), extra.begin(), extra.end());
  Answer a = c.get(t.path, h, range_timeouts());
  const std::string total = std::to_string(t.body.size());
  const uint64_t length = last - first + 1;
  std::vector<std::string> wrong;
  if (!a.complete) wrong.push_back("HUNG or cut: " + a.failure);
  if (a.status != 206) wrong.push_back("status " + std::to_string(a.status) + ", not 206");
  std::string range = "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + total;
  if (a.header("content-range") != range) {
    wrong.push_back("Content-Range '" + a.header("content-range") + "', not '" + range + "'");
  }
  if (a.header("content-length") != std::to_string(length)) {
    wrong.push_back("Content-Length " + a.header("content-length") + ", not " +
                    std::to_string(length));
  }
  if (a.complete && a.body != t.body.substr(first, length)) {
    wrong.push_back(std::to_string(a.body.size()) + " body bytes that are not bytes " +
                    std::to_string(first) + "-" + std::to_string(last));
  }
  if (a.status == 206 && a.header("etag") != t.etag) {
    wrong.push_back("ETag '" + a.header("etag") + "' differs from the 200's");
  }
  if (a.status == 206 && a.header("content-type") != t.content_type) {
    wrong.push_back("Content-Type '" + a.header("content-type") + "'");
  }
  std::string check = spec;
  for (const auto& [name, value] : extra) check += ", " + name + ": " + value;
  if (!wrong.empty()) {
    std::string all;
    for (const std::string& w : wrong) all += (all.empty() ? "" : "; ") + w;
    f.add(t, check, all + "  << " + a.describe());
  }
  check_reusable(c, t, a, check, f);
}

// The whole representation, as when a Range is ignored.
void check_200_whole(Connection& c, const Target& t, const Headers& h, const std::string& check,
                     Findings& f) {
  Answer a = c.get(t.path, h, range_timeouts());
  if (!a.complete || a.status != 200 || a.body != t.body || a.has("content-range")) {
    f.add(t, check, "want 200 with the whole body and no Content-Range: " + a.describe());
  }
  check_reusable(c, t, a, check, f);
}

void check_416(Connection& c, const Target& t, const std::string& spec, Findings& f) {
  Answer a = c.get(t.path, {{"Range", spec}}, range_timeouts());
  std::string want = "bytes */" + std::to_string(t.body.size());
  if (!a.complete || a.status != 416 || a.header("content-range") != want ||
      !ams_error_problem(a).empty()) {
    f.add(t, spec,
          "want 416 with Content-Range '" + want + "' and the AMS error body: " + a.describe());
  }
  check_reusable(c, t, a, spec, f);
}

class HttpSemanticsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-http-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string asset = dir_ + "/asset";
    const std::string db = dir_ + "/ams.db";
    const std::string log = dir_ + "/setup.log";
    ASSERT_EQ(run_ams({"encode", "--test-source", "6", "--ladder", "180", "--width", "320",
                       "--height", "180", asset},
                      log),
              "");
    // A file of every kind a download may be, and one known modification time for all.
    std::string mp4;
    GDir* d = g_dir_open(asset.c_str(), 0, nullptr);
    while (const char* name = d != nullptr ? g_dir_read_name(d) : nullptr) {
      if (g_str_has_suffix(name, ".mp4")) mp4 = name;
    }
    if (d != nullptr) g_dir_close(d);
    ASSERT_FALSE(mp4.empty());
    const std::string bytes = read_file(asset + "/" + mp4);
    downloads_ = {{mp4, "video/mp4"},
                  {"copy.ismv", "video/mp4"},
                  {"copy.m4a", "audio/mp4"},
                  {"copy.isma", "audio/mp4"},
                  {"subs.vtt", "text/vtt"},
                  {"subs.ttml", "application/ttml+xml"},
                  {"subs.dfxp", "application/ttml+xml"}};
    write_file(asset + "/copy.ismv", bytes);
    write_file(asset + "/copy.m4a", bytes);
    write_file(asset + "/copy.isma", bytes);
    write_file(asset + "/subs.vtt", "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHello\n");
    const std::string ttml =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<tt xmlns=\"http://www.w3.org/ns/ttml\">"
        "<body><div><p begin=\"0.5s\" end=\"2s\">Hello</p></div></body></tt>\n";
    write_file(asset + "/subs.ttml", ttml);
    write_file(asset + "/subs.dfxp", ttml);
    for (const auto& [name, type] : downloads_) {
      struct timespec times[2] = {{kMtime, 0}, {kMtime, 0}};
      ASSERT_EQ(utimensat(AT_FDCWD, (asset + "/" + name).c_str(), times, 0), 0) << name;
    }
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", asset, "--db", db}, log), "");
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_DownloadAndClearStreaming", "--id", kLocator, "--db", db},
                      log),
              "");
    server_ = new ServerProcess(db, {}, dir_ + "/serve.log");
    ASSERT_TRUE(server_->started()) << read_file(dir_ + "/serve.log");

    // One target of each kind, format and track type, as the manifests name them.
    Connection c(server_->port());
    std::string error;
    const std::string base = std::string("/") + kLocator + "/testsrc.ism/";
    std::vector<Resource> all = crawl(c, base, &error);
    ASSERT_EQ(error, "");
    std::set<std::string> seen;
    for (const Resource& r : all) {
      std::string label = std::string(kind_name(r.kind)) + " " + r.format +
                          (r.kind == Kind::kMaster ? ""
                           : r.audio               ? " audio"
                                                   : " video");
      if (!seen.insert(label).second) continue;
      bool text = r.kind == Kind::kMaster || r.kind == Kind::kPlaylist;
      targets_.push_back({label, base + r.path, expected_type(r), text, false, r.body, r.etag});
    }
    Answer file = c.get(std::string("/") + kLocator + "/" + mp4);
    ASSERT_EQ(file.status, 200);
    ASSERT_EQ(file.body, bytes);
    targets_.push_back({"download .mp4", std::string("/") + kLocator + "/" + mp4, "video/mp4",
                        false, true, file.body, file.header("etag")});
    // Every kind must be there, or a check would pass for want of a target.
    std::vector<std::string> want = {"download .mp4", "keyframe m3u8-aapl video"};
    for (const char* f :
         {"smooth", "m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf", "mpd-time-csf", "mpd-time-cmaf"}) {
      want.push_back(std::string("master ") + f);
    }
    for (const char* av : {" audio", " video"}) {
      for (const char* f : {"m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf"}) {
        want.push_back(std::string("playlist ") + f + av);
      }
      for (const char* f : {"m3u8-cmaf", "mpd-time-csf", "mpd-time-cmaf"}) {
        want.push_back(std::string("init ") + f + av);
      }
      for (const char* f : {"smooth", "m3u8-cmaf", "mpd-time-csf", "mpd-time-cmaf"}) {
        want.push_back(std::string("fragment ") + f + av);
      }
      for (const char* f : {"m3u8-aapl", "m3u8-aapl-v3"}) {
        want.push_back(std::string("ts-segment ") + f + av);
      }
    }
    for (const std::string& label : want) {
      bool found = false;
      for (const Target& t : targets_) found = found || t.label == label;
      ASSERT_TRUE(found) << "no " << label << " among the resources the manifests name";
    }
    ASSERT_EQ(targets_.size(), want.size());
    std::printf("%zu targets:", targets_.size());
    for (const Target& t : targets_) std::printf(" [%s]", t.label.c_str());
    std::printf("\n");
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0);
    }
    delete server_;
    server_ = nullptr;
    remove_tree(dir_);
  }

  // Runs `check` on every target at once, each on its own keep-alive connection.
  template <typename F>
  static void each_target(F check) {
    std::vector<std::thread> threads;
    for (const Target& t : targets_) {
      threads.emplace_back([&check, &t] {
        Connection c(server_->port());
        check(c, t);
      });
    }
    for (std::thread& t : threads) t.join();
  }

  static std::string dir_;
  static ServerProcess* server_;
  static std::vector<Target> targets_;
  static std::vector<std::pair<std::string, std::string>> downloads_;  // name, Content-Type
};

std::string HttpSemanticsTest::dir_;
ServerProcess* HttpSemanticsTest::server_ = nullptr;
std::vector<Target> HttpSemanticsTest::targets_;
std::vector<std::pair<std::string, std::string>> HttpSemanticsTest::downloads_;

TEST_F(HttpSemanticsTest, SingleRangesAnswer206WithExactlyThoseBytes) {
  Findings f;
  each_target([&](Connection& c, const Target& t) {
    const uint64_t n = t.body.size();
    ASSERT_GT(n, 40u) << t.label;
    check_206(c, t, "bytes=1-" + std::to_string(n / 2), 1, n / 2, {}, f);
    check_206(c, t, "bytes=" + std::to_string(n / 3) + "-", n / 3, n - 1, {}, f);
    check_206(c, t, "bytes=-" + std::to_string(n / 4), n - n / 4, n - 1, {}, f);
    check_206(c, t, "bytes=0-0", 0, 0, {}, f);
    // A last position past the end is the end (RFC 9110 14.1.2).
    check_206(c, t, "bytes=" + std::to_string(n - 10) + "-" + std::to_string(n + 1000), n - 10,
              n - 1, {}, f);
  });
  f.report();
}

TEST_F(HttpSemanticsTest, RangesPastTheEndAnswer416) {
  Findings f;
  each_target([&](Connection& c, const Target& t) {
    const uint64_t n = t.body.size();
    check_416(c, t, "bytes=" + std::to_string(n) + "-", f);
    check_416(c, t, "bytes=" + std::to_string(n + 100) + "-" + std::to_string(n + 200), f);
  });
  f.report();
}

// RFC 9110 14.2: a server may ignore a multi-range request (200, whole body) or refuse it (416).
TEST_F(HttpSemanticsTest, MultiRangeAnswers200WholeOr416) {
  Findings f;
  each_target([&](Connection& c, const Target& t) {
    Answer a = c.get(t.path, {{"Range", "bytes=0-1,5-9"}}, range_timeouts());
    bool whole = a.complete && a.status == 200 && a.body == t.body && !a.has("content-range");
    bool refused = a.complete && a.status == 416 &&
                   a.header("content-range") == "bytes */" + std::to_string(t.body.size());
    if (!whole && !refused) f.add(t, "bytes=0-1,5-9", "want 200 whole or 416: " + a.describe());
    check_reusable(c, t, a, "bytes=0-1,5-9", f);
  });
  f.report();
}

TEST_F(HttpSemanticsTest, IfRangeWithTheEtagRangesAndOtherwiseSendsItAll) {
  Findings f;
  each_target([&](Connection& c, const Target& t) {
    const uint64_t n = t.body.size();
    const std::string range = "bytes=2-" + std::to_string(n / 2);
    ASSERT_FALSE(t.etag.empty()) << t.label;
    check_206(c, t, range, 2, n / 2, {{"If-Range", t.etag}}, f);
    check_200_whole(c, t, {{"Range", range}, {"If-Range", "\"another-etag\""}},
                    "If-Range: another ETag", f);
    // If-Range compares strongly: a weak tag never matches (RFC 9110 13.1.5).
    check_200_whole(c, t, {{"Range", range}, {"If-Range", "W/" + t.etag}},
                    "If-Range: W/ + the ETag", f);
    check_200_whole(c, t, {{"Range", range}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}},
                    "If-Range: an old date", f);
  });
  f.report();
}

TEST_F(HttpSemanticsTest, DownloadsSendLastModifiedAndHonourIfModifiedSince) {
  Findings f;
  const std::string at = imf_fixdate(kMtime);
  for (const auto& [name, type] : downloads_) {
    Target t{"download " + name, std::string("/") + kLocator + "/" + name, type};
    Connection c(server_->port());
    Answer a = c.get(t.path);
    if (!a.complete || a.status != 200) {
      f.add(t, "GET", a.describe());
      continue;
    }
    t.body = a.body;
    if (a.header("last-modified") != at) {
      f.add(t, "Last-Modified", "'" + a.header("last-modified") + "', want '" + at + "'");
    }
    Answer head = c.request("HEAD", t.path);
    if (head.header("last-modified") != at) {
      f.add(t, "HEAD Last-Modified", "'" + head.header("last-modified") + "'");
    }
    const std::pair<std::string, int> cases[] = {
        {at, 304},
        {imf_fixdate(kMtime + 86400), 304},
        {imf_fixdate(kMtime - 86400), 200},
        {"not a date", 200},
    };
    for (const auto& [since, status] : cases) {
      Answer r = c.get(t.path, {{"If-Modified-Since", since}});
      bool ok = r.complete && r.status == status &&
                (status == 304 ? r.body.empty() && !r.header("etag").empty() : r.body == t.body);
      if (!ok) {
        f.add(t, "If-Modified-Since: " + since,
              "want " + std::to_string(status) + ": " + r.describe());
      }
    }
    // If-None-Match wins over If-Modified-Since (RFC 9110 13.1.3).
    Answer both = c.get(t.path, {{"If-None-Match", "\"another-etag\""}, {"If-Modified-Since", at}});
    if (!both.complete || both.status != 200 || both.body != t.body) {
      f.add(t, "If-None-Match: other + If-Modified-Since: at", "want 200: " + both.describe());
    }
  }
  f.report();
}

// A Range with Accept-Encoding: gzip either ranges over the gzip bytes (206), or sends the gzip
// answer whole (200), or ranges over the identity bytes (206, no Content-Encoding); RFC 9110
// allows each, but one server must do one of them, and do it right.
TEST_F(HttpSemanticsTest, RangeOnACompressedManifestIsConsistentAndCorrect) {
  Findings f;
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>> modes;  // mode -> labels
  each_target([&](Connection& c, const Target& t) {
    if (!t.compressible) return;
    const Headers gzip = {{"Accept-Encoding", "gzip"}};
    Answer packed = c.get(t.path, gzip, range_timeouts());
    if (!packed.complete || packed.status != 200 || packed.header("content-encoding") != "gzip" ||
        gunzip(packed.body) != t.body) {
      f.add(t, "Accept-Encoding: gzip", "want 200 gzip of the body: " + packed.describe());
      return;
    }
    const std::string& g = packed.body;
    const uint64_t n = g.size();
    const uint64_t first = 3;
    const uint64_t last = n / 2;
    Answer a =
        c.get(t.path, {{"Accept-Encoding", "gzip"}, {"Range", "bytes=3-" + std::to_string(last)}},
              range_timeouts());
    std::string mode = "wrong";
    bool gz = a.header("content-encoding") == "gzip";
    if (a.complete && gz && a.status == 206 &&
        a.header("content-range") == "bytes 3-" + std::to_string(last) + "/" + std::to_string(n) &&
        a.body == g.substr(first, last - first + 1) && a.header("etag") == packed.header("etag")) {
      mode = "206 over the gzip bytes";
    } else if (a.complete && gz && a.status == 200 && a.body == g) {
      mode = "200 gzip whole";
    } else if (a.complete && !gz && a.status == 206 &&
               a.header("content-range") ==
                   "bytes 3-" + std::to_string(last) + "/" + std::to_string(t.body.size()) &&
               a.body == t.body.substr(first, last - first + 1)) {
      mode = "206 over the identity bytes";
    }
    if (mode == "wrong") {
      f.add(t, "Accept-Encoding: gzip + Range: bytes=3-" + std::to_string(last),
            "neither a correct 206 nor the whole gzip: " + a.describe() + " (gzip is " +
                std::to_string(n) + " bytes)");
    }
    if (a.complete && a.header("vary").find("Accept-Encoding") == std::string::npos) {
      f.add(t, "Vary", "no Vary: Accept-Encoding on the ranged answer");
    }
    check_reusable(c, t, a, "gzip + Range", f);
    std::lock_guard<std::mutex> lock(mutex);
    modes[mode].push_back(t.label);
  });
  std::string summary;
  for (const auto& [mode, labels] : modes) {
    summary += "\n  " + mode + ": " + std::to_string(labels.size()) + " (" + labels.front() + ")";
  }
  std::printf("gzip + Range:%s\n", summary.c_str());
  EXPECT_EQ(modes.size(), 1u) << "one server, one way of answering:" << summary;
  f.report();
}

TEST_F(HttpSemanticsTest, EachKindHasItsContentType) {
  Findings f;
  for (const Target& t : targets_) {
    Connection c(server_->port());
    Answer a = c.get(t.path);
    if (a.header("content-type") != t.content_type) {
      f.add(t, "Content-Type", "'" + a.header("content-type") + "', want '" + t.content_type + "'");
    }
  }
  for (const auto& [name, type] : downloads_) {
    Target t{"download " + name, std::string("/") + kLocator + "/" + name, type};
    Connection c(server_->port());
    Answer a = c.get(t.path);
    if (!a.complete || a.status != 200 || a.header("content-type") != type) {
      f.add(t, "Content-Type", "want 200 " + type + ": " + a.describe());
    }
  }
  f.report();
}

// A Content-Length that is not a plain decimal number (RFC 9110 8.6: 1*DIGIT) is a bad request:
// 400, and nothing on the server's stderr. libsoup 3.2 reads "-5" as 2^64 - 5 and hands the body
// reader a negative length, which GObject refuses with a warning before any handler runs.
TEST_F(HttpSemanticsTest, AMalformedContentLengthIs400WithoutAWarning) {
  const std::string log = dir_ + "/content-length.log";
  ServerProcess server(dir_ + "/ams.db", {}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  ASSERT_FALSE(targets_.empty());
  const std::string target = targets_[0].path;
  // libsoup refuses a value with anything after its digits itself (a bare 400, before any
  // handler: no AMS body can be added, as for %00); the others reach the server's check.
  const std::vector<std::pair<std::string, bool>> values = {{"-5", true},
                                                            {"-1", true},
                                                            {"+5", true},
                                                            {"9223372036854775808", true},
                                                            {"18446744073709551615", true},
                                                            {"99999999999999999999", true},
                                                            {"5 5", false},
                                                            {"0x10", false}};
  for (const auto& [value, ams_body] : values) {
    SCOPED_TRACE(value);
    for (const std::string method : {"GET", "HEAD", "POST"}) {
      SCOPED_TRACE(method);
      Connection c(server.port());
      Timeouts t;
      t.headers_ms = 5000;
      t.total_ms = 5000;
      Answer a = c.request(method, target, {{"Content-Length", value}}, t);
      EXPECT_TRUE(a.complete) << a.failure;
      EXPECT_EQ(a.status, 400) << a.describe();
      if (ams_body && method != "HEAD") {
        EXPECT_EQ(ams_error_problem(a), "") << a.describe();
      }
    }
  }
  // The server is fine, and a well-formed request on a new connection is answered.
  Connection c(server.port());
  EXPECT_EQ(c.get(target, {{"Content-Length", "0"}}).status, 200);
  EXPECT_TRUE(server.alive()) << server.death();
  EXPECT_EQ(server.stop(), 0);
  const std::string output = read_file(log);
  EXPECT_EQ(output.find("WARNING"), std::string::npos) << output;
  EXPECT_EQ(output.find("CRITICAL"), std::string::npos) << output;
}

}  // namespace
}  // namespace ams_it
