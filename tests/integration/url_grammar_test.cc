// Issue 11, item 4: the URL grammar walked with invalid and unusual combinations. From the URLs a
// good asset serves, the test builds every sub-resource (master, media playlist, fragment,
// KeyFrames) x every format value x each argument (type=keyframes, audiotrack=, filter=,
// encryption=, audio-only=, unknown and doubled keys), odd times, tracks and bitrates, then breaks
// the syntax (parentheses, percent-encoding, "..", suffixes, case, locators). Each URL is sent as
// is on a raw socket. Any 5xx fails, except 501 for what the server says plainly it does not do yet
// (encrypted delivery); filters the store does not hold answer 404 MPE_EGRESS_FILTER_NOT_FOUND; any
// 4xx without the AMS error body fails; so does an answer that does not arrive, a 200 whose body is
// not what its Content-Type says, and a server that dies.

#include <glib.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kClear[] = "44444444-0000-4000-8000-000000000001";
constexpr char kStreamOnly[] = "44444444-0000-4000-8000-000000000002";
constexpr char kDownloadOnly[] = "44444444-0000-4000-8000-000000000003";
constexpr char kEncrypted[] = "44444444-0000-4000-8000-000000000004";
constexpr char kUnknown[] = "44444444-0000-4000-8000-00000000ffff";
constexpr int kThreads = 4;

// 501 answers that name a feature the server does not offer yet: a decision, not a failure.
const std::set<std::string> kDeclaredUnsupported = {"MPE_ENC_ENCRYPTION_NOT_SUPPORTED"};

std::string replace_first(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::string replace_every(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

std::string percent_encode_all(const std::string& s) {
  std::string out;
  char hex[4];
  for (unsigned char c : s) {
    std::snprintf(hex, sizeof(hex), "%%%02X", c);
    out += c == '/' ? std::string("/") : std::string(hex);
  }
  return out;
}

// What the asset offers, read from its crawl.
struct Facts {
  std::vector<std::string> video_bitrates;
  std::string audio_name, audio_bitrate;
  std::vector<std::string> video_times, audio_times;  // Smooth fragment starts
  std::string video_end;                              // start + duration of the last fragment
  std::vector<std::string> samples;                   // one valid URL of each kind
};

Facts facts_of(const std::vector<Resource>& crawl) {
  Facts f;
  std::regex smooth("QualityLevels\\((\\d+)\\)/Fragments\\(([^=]+)=(\\d+)\\)");
  std::set<std::string> vb, vt, at;
  for (const Resource& r : crawl) {
    std::smatch m;
    if (r.format == "smooth" && std::regex_match(r.path, m, smooth)) {
      if (r.audio) {
        f.audio_name = m[2].str();
        f.audio_bitrate = m[1].str();
        at.insert(m[3].str());
      } else {
        vb.insert(m[1].str());
        vt.insert(m[3].str());
      }
    }
  }
  f.video_bitrates.assign(vb.begin(), vb.end());
  auto numeric = [](std::set<std::string> s) {
    std::vector<std::string> v(s.begin(), s.end());
    std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
      return std::stoll(a) < std::stoll(b);
    });
    return v;
  };
  f.video_times = numeric(vt);
  f.audio_times = numeric(at);
  if (f.video_times.size() >= 2) {
    int64_t last = std::stoll(f.video_times.back());
    int64_t step = last - std::stoll(f.video_times[f.video_times.size() - 2]);
    f.video_end = std::to_string(last + step);
  }
  // One URL of each kind and format, as the manifests name them.
  std::set<std::string> kinds;
  for (const Resource& r : crawl) {
    if (kinds.insert(std::string(kind_name(r.kind)) + r.format + (r.audio ? "a" : "v")).second) {
      f.samples.push_back(r.path);
    }
  }
  return f;
}

// The URLs of the walk, each a full request target.
std::vector<std::string> build_walk(const Facts& f) {
  std::vector<std::string> out;
  const std::string base = std::string("/") + kClear + "/testsrc.ism/";
  const std::string v = f.video_bitrates.front();
  const std::string v2 = f.video_bitrates.back();
  const std::string& a = f.audio_bitrate;
  const std::string& an = f.audio_name;
  const std::vector<std::string> formats_valid = {"",          "fmp4",         "fmp4-v20",
                                                  "m3u8-aapl", "m3u8-aapl-v4", "m3u8-aapl-v3",
                                                  "m3u8-cmaf", "mpd-time-csf", "mpd-time-cmaf"};
  const std::vector<std::string> formats_odd = {
      "=",    "=flv",          "=M3U8-AAPL",   "=Mpd-Time-Csf", "=m3u8",
      "=mpd", "=m3u8-aapl%20", "=%6D3u8-aapl", "=m3u8-aapl-v5", "=ism"};
  // The "format..." part: "" (absent), "format=X", or an odd one ("format=" included).
  std::vector<std::string> formats;
  for (const std::string& x : formats_valid) formats.push_back(x.empty() ? "" : "format=" + x);
  for (const std::string& x : formats_odd) formats.push_back("format" + x);
  formats.push_back("format=");
  const std::vector<std::string> args = {"",
                                         "type=keyframes",
                                         "type=KEYFRAMES",
                                         "type=",
                                         "type=video",
                                         "audiotrack=" + an,
                                         "audiotrack=nope",
                                         "audiotrack=",
                                         "audiotrack=video",
                                         "audiotrack=" + an + ",audiotrack=" + an,
                                         "audio-only=false",
                                         "audio-only=true",
                                         "audio-only=no",
                                         "filter=f1",
                                         "filter=",
                                         "filter=a;b;c;d",
                                         "filter=a;;b",
                                         "encryption=cbc",
                                         "encryption=cenc",
                                         "encryption=cbcs-aapl",
                                         "encryption=piff",
                                         "encryption=none",
                                         "encryption=",
                                         "foo=bar",
                                         "format=m3u8-aapl",
                                         "=",
                                         ",",
                                         "novalue"};
  auto join = [](std::vector<std::string> parts) {
    std::string s;
    for (const std::string& p : parts) {
      if (!p.empty()) s += (s.empty() ? "" : ",") + p;
    }
    return s;
  };
  // Masters: every format x every argument x each suffix.
  for (const std::string& fmt : formats) {
    for (const std::string& arg : args) {
      std::string sel = join({fmt, arg});
      for (const char* suffix : {"", ".m3u8", ".mpd", ".ismc", "/"}) {
        out.push_back(base + "manifest" + (sel.empty() ? "" : "(" + sel + ")") + suffix);
      }
    }
  }
  // Media playlists: track/bitrate pairs x formats, and the real pairs x formats x arguments.
  const std::vector<std::pair<std::string, std::string>> odd_pairs = {
      {v, "video"},
      {v2, "video"},
      {a, an},
      {a, "video"},
      {v, an},
      {"1", "video"},
      {"0", "video"},
      {"4294967295", "video"},
      {"4294967296", "video"},
      {"99999999999999999999", "video"},
      {"-1", "video"},
      {"abc", "video"},
      {"", "video"},
      {v, "nope"},
      {v, ""},
      {v, "VIDEO"},
      {v, "video%2F.."},
      {"%20" + v, "video"},
      {v + ".0", "video"}};
  for (const auto& [bitrate, track] : odd_pairs) {
    for (const std::string& fmt : formats) {
      out.push_back(base + "QualityLevels(" + bitrate + ")/Manifest(" + join({track, fmt}) + ")");
    }
  }
  for (const auto& [bitrate, track] : {std::pair{v, std::string("video")}, std::pair{a, an}}) {
    for (const std::string& fmt : formats) {
      for (const std::string& arg : args) {
        for (const char* suffix : {"", ".m3u8"}) {
          out.push_back(base + "QualityLevels(" + bitrate + ")/Manifest(" +
                        join({track, fmt, arg}) + ")" + suffix);
        }
      }
    }
  }
  // Fragments and KeyFrames: times that are and are not fragment starts, or not numbers at all.
  std::vector<std::string> times = {"i",
                                    "I",
                                    "-1",
                                    "-0",
                                    "+0",
                                    "1",
                                    "abc",
                                    "",
                                    "1e3",
                                    "0x10",
                                    "%200",
                                    "00",
                                    "0.0",
                                    "%30",
                                    "9223372036854775807",
                                    "9223372036854775808",
                                    "-9223372036854775808",
                                    "99999999999999999999",
                                    "i,i"};
  for (const std::string& t : f.video_times) times.push_back(t);
  times.push_back(std::to_string(std::stoll(f.video_times[1]) + 1));
  times.push_back(f.video_end);
  for (const std::string& t : f.audio_times) times.push_back(t);
  std::vector<std::string> fragment_formats(formats.begin(), formats.begin() + 9);
  for (const char* odd : {"format=flv", "format=M3U8-AAPL", "format="}) {
    fragment_formats.push_back(odd);
  }
  const std::vector<std::string> fragment_args = {
      "",          "audiotrack=" + an, "audiotrack=nope", "audiotrack=", "type=keyframes",
      "filter=f1", "encryption=cenc",  "foo=bar"};
  for (const char* resource : {"Fragments", "KeyFrames"}) {
    for (const auto& [bitrate, track] : {std::pair{v, std::string("video")}, std::pair{a, an}}) {
      for (const std::string& t : times) {
        for (const std::string& fmt : fragment_formats) {
          for (const std::string& arg : fragment_args) {
            out.push_back(base + "QualityLevels(" + bitrate + ")/" + resource + "(" + track + "=" +
                          t + (fmt.empty() ? "" : "," + fmt) + (arg.empty() ? "" : "," + arg) +
                          ")");
          }
        }
      }
    }
    for (const auto& [bitrate, track] : odd_pairs) {
      for (const std::string& fmt : fragment_formats) {
        for (const std::string& t : {f.video_times[0], std::string("i")}) {
          out.push_back(base + "QualityLevels(" + bitrate + ")/" + resource + "(" + track + "=" +
                        t + (fmt.empty() ? "" : "," + fmt) + ")");
        }
      }
    }
  }
  // Syntax broken in every way on one URL of each kind.
  std::vector<std::string> samples;
  for (const std::string& s : f.samples) samples.push_back(base + s);
  samples.push_back(base + "manifest");
  const std::vector<std::pair<std::string, std::string>> case_swaps = {
      {"QualityLevels", "qualitylevels"},
      {"QualityLevels", "QUALITYLEVELS"},
      {"Fragments", "fragments"},
      {"Fragments", "FRAGMENTS"},
      {"KeyFrames", "keyframes"},
      {"Manifest", "manifest"},
      {"Manifest", "MANIFEST"},
      {"manifest", "MANIFEST"},
      {"format=", "FORMAT="},
      {"format=", "Format="},
      {"testsrc.ism", "testsrc.ISM"},
      {"testsrc.ism", "TESTSRC.ism"},
      {"testsrc.ism", "testsrc"},
      {"testsrc.ism", "nothing.ism"},
      {"testsrc.ism", ".ism"},
      {"testsrc.ism", "testsrc.ism.ism"},
      {"testsrc.ism/", "testsrc.ism//"},
      {"testsrc.ism/", "testsrc.ism\\"},
      {"testsrc.ism/", "testsrc.ism/./"},
      {"testsrc.ism/", "testsrc.ism/../testsrc.ism/"},
      {"testsrc.ism/", "x/../testsrc.ism/"},
      {"testsrc.ism/", "testsrc.ism/%2e%2e/testsrc.ism/"},
      {"(", "%28"},
      {")", "%29"},
      {"=", "%3D"},
      {",", "%2C"},
      {"(", "(("},
      {")", "))"},
      {"(", ""},
      {")/", ")\\"},
      {"-", "%2D"},
      {"video", "vid%00eo"},
      {"video", "vid%FFeo"},
      {"video", "vid%C3%A9o"},
      {"video", "video%20"},
      {"video", "video+"},
      {"video", std::string(3000, 'v')},
      {"=", "=="},
      {",", ",,"},
      {"QualityLevels(", "QualityLevels()/QualityLevels("},
      {kClear, "44444444-0000-4000-8000-00000000000A"},
      {kClear, "{44444444-0000-4000-8000-000000000001}"},
      {kClear, "444444440000400080000000000000001"},
      {kClear, kUnknown},
      {kClear, "api"},
      {kClear, std::string(kClear) + "/" + kClear}};
  for (const std::string& s : samples) {
    for (const auto& [from, to] : case_swaps) {
      if (s.find(from) != std::string::npos) {
        out.push_back(replace_first(s, from, to));
        out.push_back(replace_every(s, from, to));
      }
    }
    for (const std::string& tail :
         {std::string(")"), std::string("("), std::string("/"), std::string(".m3u8"),
          std::string(".mpd"), std::string(".M3U8"), std::string("?a=b"),
          std::string("?format=mpd-time-csf"), std::string(";x"), std::string("#frag"),
          std::string("%00"), std::string("/manifest"), std::string("/..")}) {
      out.push_back(s + tail);
    }
    if (s.back() == ')') {
      out.push_back(s.substr(0, s.size() - 1));         // missing ")"
      out.push_back(s.substr(0, s.size() - 1) + ",)");  // trailing comma
      std::string many = s.substr(0, s.size() - 1);
      for (int i = 0; i < 100; ++i) many += ",k" + std::to_string(i) + "=v";
      out.push_back(many + ")");
    }
    out.push_back(std::string("/") + kClear + "/" +
                  percent_encode_all(s.substr(std::string("/").size() + std::strlen(kClear) + 1)));
  }
  // Downloads, other locators, other paths.
  for (const char* p :
       {"testsrc.ism", "testsrc.ismc", "x.mp4", "..mp4", ".hidden.mp4", "", "%2e%2e", "a/b.mp4",
        "testsrc.ism/", "testsrc.ism/x", "testsrc.ism/QualityLevels(1)",
        "testsrc.ism/QualityLevels(1)/", "testsrc.ism/QualityLevels(1)/x(y)", "manifest"}) {
    for (const char* loc : {kClear, kStreamOnly, kDownloadOnly, kEncrypted, kUnknown}) {
      out.push_back(std::string("/") + loc + "/" + p);
    }
  }
  for (const char* p : {"/", "//", "/api", "/api/status/x", "/crossdomain.xml/x",
                        "/clientaccesspolicy.xml?x", "/%2e%2e/", "/x"}) {
    out.push_back(p);
  }
  for (const char* loc : {kStreamOnly, kDownloadOnly, kEncrypted, kUnknown}) {
    for (const std::string& s : samples) out.push_back(replace_first(s, kClear, loc));
    for (const char* enc : {"cbc", "cenc", "cbcs-aapl", "piff", "bogus", ""}) {
      out.push_back(std::string("/") + loc +
                    "/testsrc.ism/manifest(format=m3u8-aapl,encryption=" + enc + ")");
      out.push_back(std::string("/") + loc + "/testsrc.ism/QualityLevels(" + v +
                    ")/Fragments(video=0,format=mpd-time-csf,encryption=" + enc + ")");
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct Outcome {
  std::string key;      // histogram key: "200", "404 MPE_TRACK_NOT_FOUND", "timeout", ...
  std::string problem;  // "" when the answer is acceptable
  std::string answer;
};

// libsoup 3.2 refuses a request target that decodes to a NUL byte itself (400, no body) before
// any handler runs, so the server cannot add its body there (docs/server.md, Errors). Only that
// exact answer, to only such a path, is accepted without the AMS body.
bool libsoup_nul_refusal(const std::string& path, const Answer& a) {
  return path.find("%00") != std::string::npos && a.status == 400 && a.body.empty();
}

Outcome judge(const std::string& path, const Answer& a) {
  Outcome o;
  o.answer = a.describe();
  if (!a.complete) {
    o.key = a.failure.find("timed out") != std::string::npos ? "timeout" : "incomplete";
    o.problem = "no complete answer: " + a.failure;
    return o;
  }
  o.key = std::to_string(a.status);
  if (a.status >= 400) o.key += " " + hresult_of(a);
  if (a.status == 200) {
    o.problem = body_problem(a);
    if (!o.problem.empty()) o.problem = "200 with a bad body: " + o.problem;
  } else if (a.status >= 500) {
    std::string h = hresult_of(a);
    if (a.status != 501 || kDeclaredUnsupported.count(h) == 0)
      o.problem = "5xx";
    else
      o.problem = ams_error_problem(a);
  } else if (a.status >= 400 && !libsoup_nul_refusal(path, a)) {
    o.problem = ams_error_problem(a);
    if (!o.problem.empty()) o.problem = "4xx without the AMS error body: " + o.problem;
  }
  return o;
}

class UrlGrammarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("ams-grammar-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/ams.db";
    log_ = dir_ + "/serve.log";
    std::string setup = dir_ + "/setup.log";
    ASSERT_EQ(run_ams({"encode", "--test-source", "6", "--ladder", "360,180", "--width", "640",
                       "--height", "360", dir_ + "/asset"},
                      setup),
              "");
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", dir_ + "/asset", "--db", db_}, setup),
              "");
    for (const auto& [id, policy] : {std::pair{kClear, "Predefined_DownloadAndClearStreaming"},
                                     std::pair{kStreamOnly, "Predefined_ClearStreamingOnly"},
                                     std::pair{kDownloadOnly, "Predefined_DownloadOnly"},
                                     std::pair{kEncrypted, "Predefined_ClearKey"}}) {
      ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy", policy, "--id", id,
                         "--db", db_},
                        setup),
                "");
    }
  }
  void TearDown() override {
    if (HasFailure())
      std::printf("kept %s (walk.tsv: every URL and its answer)\n", dir_.c_str());
    else
      remove_tree(dir_);
  }
  std::string dir_, db_, log_;
};

TEST_F(UrlGrammarTest, NoUrlGetsA500OrAnAnswerWithoutTheAmsBody) {
  auto server = std::make_unique<ServerProcess>(db_, std::vector<std::string>{}, log_);
  ASSERT_TRUE(server->started()) << read_file(log_);
  std::vector<Resource> crawled;
  {
    Connection c(server->port());
    std::string error;
    crawled = crawl(c, std::string("/") + kClear + "/testsrc.ism/", &error);
    ASSERT_EQ(error, "");
  }
  Facts facts = facts_of(crawled);
  ASSERT_EQ(facts.video_bitrates.size(), 2u);
  ASSERT_FALSE(facts.audio_name.empty());
  ASSERT_GE(facts.video_times.size(), 3u);
  const std::vector<std::string> walk = build_walk(facts);
  std::printf("%zu URLs from %zu crawled resources\n", walk.size(), crawled.size());

  std::mutex mutex;
  std::map<std::string, int> counts;
  std::map<std::string, std::vector<std::string>> problems;  // problem class -> examples
  std::vector<std::string> suspects;                         // in flight when the server died
  std::string record;                                        // every URL and its answer
  std::atomic<size_t> next{0};
  std::atomic<int> port{server->port()};
  std::atomic<int> generation{0};
  int restarts = 0;
  Timeouts timeouts;
  timeouts.headers_ms = 10000;
  timeouts.idle_ms = 3000;
  timeouts.total_ms = 10000;
  auto worker = [&] {
    Connection c(port);
    for (size_t i; (i = next++) < walk.size();) {
      int gen = generation;
      c.set_port(port);
      Answer a = c.get(walk[i], {}, timeouts);
      std::lock_guard<std::mutex> lock(mutex);
      if (!a.complete && gen == generation) {
        bool dead = false;
        for (int wait = 0; wait < 50 && !dead; ++wait) {
          dead = !server->alive();
          if (!dead) g_usleep(20000);
        }
        if (dead && restarts < 10) {
          suspects.push_back(walk[i] + " (server " + server->death() + ")");
          server = std::make_unique<ServerProcess>(db_, std::vector<std::string>{}, log_);
          ++restarts;
          port = server->port();
          ++generation;
          ++counts["crash"];
          continue;
        }
      } else if (!a.complete) {
        suspects.push_back(walk[i] + " (cut by the crash of another request)");
        ++counts["crash"];
        continue;
      }
      Outcome o = judge(walk[i], a);
      ++counts[o.key];
      record += o.key + "\t" + walk[i] + "\t" + o.problem + "\n";
      if (!o.problem.empty()) {
        std::vector<std::string>& examples = problems[o.key + ": " + o.problem.substr(0, 60)];
        if (examples.size() < 6)
          examples.push_back(walk[i] + "\n        " + o.answer);
        else if (examples.size() == 6)
          examples.push_back("...");
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();

  // Each URL in flight at a crash, alone on a fresh server: the ones that kill it.
  std::vector<std::string> killers;
  for (const std::string& s : suspects) {
    std::string target = s.substr(0, s.find(" ("));
    auto fresh = std::make_unique<ServerProcess>(db_, std::vector<std::string>{}, log_);
    Connection c(fresh->port());
    Answer a = c.get(target, {}, timeouts);
    g_usleep(100000);
    if (!fresh->alive()) killers.push_back(target + ": " + fresh->death());
  }
  write_file(dir_ + "/walk.tsv", record);
  int total = 0;
  for (const auto& [key, n] : counts) total += n;
  std::printf("%d URLs tried; statuses: %s\n", total, histogram(counts).c_str());
  for (const std::string& k : killers) ADD_FAILURE() << "CRASH " << k;
  for (const std::string& s : suspects) std::printf("in flight at a crash: %s\n", s.c_str());
  for (const auto& [what, examples] : problems) {
    std::string text;
    for (const std::string& e : examples) text += "\n    " + e;
    ADD_FAILURE() << what << text;
  }
  EXPECT_EQ(total, static_cast<int>(walk.size()));
  EXPECT_TRUE(server->alive()) << server->death();
  Connection c(server->port());
  EXPECT_EQ(c.get("/api/status").status, 200);
  EXPECT_EQ(server->stop(), 0);
}

}  // namespace
}  // namespace ams_it
