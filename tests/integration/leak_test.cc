// Issue 19, item 1: the leak run. The real `ams serve` runs under valgrind's memcheck while the
// test drives a few hundred to a few thousand requests over every kind of URL an asset serves
// (each master, every media playlist, init segment, fragment and TS segment the manifests name, a
// download whole and in ranges, answers 404 and 400), then stops it with SIGTERM. valgrind checks
// for leaks at the exit: the test fails unless no block is "definitely lost" and memcheck saw no
// invalid access. Slower than the quick set affords (valgrind, about 30 s), so only in the full set
// (scripts/test.sh --full, AMS_TEST_FULL=1); docs/testing.md has the figures of a run.
//   AMS_LEAK_REQUESTS=N    requests to send (default 2000)

#include <fcntl.h>
#include <glib.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

extern char** environ;

namespace ams_it {
namespace {

constexpr char kLocator[] = "77777777-0000-4000-8000-000000000001";
constexpr char kUnknownLocator[] = "77777777-0000-4000-8000-00000000ffff";

bool full_set() {
  const char* full = g_getenv("AMS_TEST_FULL");
  return full != nullptr && std::string(full) != "" && std::string(full) != "0";
}

// posix_spawnp with stdin from /dev/null and stdout + stderr to `log`; 0 when it cannot start.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : 0;
}

// Waits up to `seconds` for `pid` to end; its exit status (128 + signal), or -1 if it still runs.
int wait_for(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    g_usleep(100000);
  }
  return -1;
}

// The lines of valgrind's log from its first "definitely lost in loss record" on: the stacks of
// the leaked allocations, for the failure message.
std::string definite_records(const std::string& log) {
  size_t at = log.find("are definitely lost in loss record");
  if (at == std::string::npos) return "";
  at = log.rfind('\n', at);
  return log.substr(at == std::string::npos ? 0 : at, 20000);
}

TEST(ServerLeak, NoBlockDefinitelyLostAfterRequestsOfEveryKind) {
  if (!full_set()) {
    GTEST_SKIP() << "the valgrind leak run is in the full set: scripts/test.sh --full "
                    "(AMS_TEST_FULL=1)";
  }
  gchar* valgrind_path = g_find_program_in_path("valgrind");
  ASSERT_NE(valgrind_path, nullptr) << "valgrind is not installed (scripts/test.sh --full "
                                       "installs it)";
  const std::string valgrind = valgrind_path;
  g_free(valgrind_path);
  const char* wanted = g_getenv("AMS_LEAK_REQUESTS");
  const long requests = wanted != nullptr ? std::atol(wanted) : 2000;

  const std::string dir = make_temp_dir("ams-leak-XXXXXX");
  ASSERT_FALSE(dir.empty());
  const std::string asset = dir + "/asset", db = dir + "/ams.db", log = dir + "/setup.log";
  // Two rungs: every kind of URL twice over, and short enough fragments for valgrind's pace.
  ASSERT_EQ(run_ams({"encode", "--test-source", "6", "--ladder", "360,180", asset}, log), "");
  ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", asset, "--db", db}, log), "");
  ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                     "Predefined_DownloadAndClearStreaming", "--id", kLocator, "--db", db},
                    log),
            "");
  std::string mp4;
  GDir* d = g_dir_open(asset.c_str(), 0, nullptr);
  while (const char* name = d != nullptr ? g_dir_read_name(d) : nullptr) {
    if (g_str_has_suffix(name, ".mp4")) mp4 = name;
  }
  if (d != nullptr) g_dir_close(d);
  ASSERT_FALSE(mp4.empty());

  // definite: the only kind that fails (GLib's and GStreamer's type system and caches keep
  // blocks that are still reachable, or only reachable through an interior pointer, by design).
  // gc-friendly: GLib clears what it frees, so stale pointers do not hide a lost block.
  const std::string vg_log = dir + "/valgrind.log", serve_log = dir + "/serve.log";
  std::vector<std::string> argv = {valgrind,
                                   "--leak-check=full",
                                   "--show-leak-kinds=definite",
                                   "--errors-for-leak-kinds=definite",
                                   "--error-exitcode=99",
                                   "--num-callers=40",
                                   "--log-file=" + vg_log};
  // Blocks GLib and libsoup lose, each entry saying why (tests/sanitize/valgrind.supp), and
  // GLib's own list of its deliberate ones.
  const char* source_root = g_getenv("AMS_SOURCE_ROOT");
  argv.push_back(std::string("--suppressions=") + (source_root != nullptr ? source_root : ".") +
                 "/tests/sanitize/valgrind.supp");
  if (g_file_test("/usr/share/glib-2.0/valgrind/glib.supp", G_FILE_TEST_EXISTS)) {
    argv.push_back("--suppressions=/usr/share/glib-2.0/valgrind/glib.supp");
  }
  for (const std::string& a : {ams_binary(), std::string("serve"), std::string("--db"), db,
                               std::string("--listen"), std::string("127.0.0.1:0")}) {
    argv.push_back(a);
  }
  g_setenv("G_DEBUG", "gc-friendly", TRUE);
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = spawn_logged(argv, serve_log);
  g_unsetenv("G_DEBUG");
  ASSERT_NE(pid, 0) << "cannot start valgrind";
  int port = 0;
  std::regex serving("Serving .* on http://127\\.0\\.0\\.1:(\\d+)/");
  for (int i = 0; i < 1800 && port == 0; ++i) {  // 3 min: valgrind loads GStreamer slowly
    std::smatch m;
    std::string text = read_file(serve_log);
    if (std::regex_search(text, m, serving)) {
      port = std::stoi(m[1].str());
    } else if (wait_for(pid, 0) >= 0) {
      FAIL() << "ams serve ended before it listened:\n"
             << text << read_file(vg_log).substr(0, 4000);
    } else {
      g_usleep(100000);
    }
  }
  if (port == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL() << "ams serve under valgrind did not listen within 3 minutes";
  }

  // Every resource the asset serves, found by following its six masters (each answer counts).
  Connection c(port);
  const std::string base = std::string("/") + kLocator + "/testsrc.ism/";
  std::string crawl_error;
  std::vector<Resource> resources = crawl(c, base, &crawl_error);
  EXPECT_EQ(crawl_error, "");
  ASSERT_GT(resources.size(), 20u);
  std::map<Kind, int> kinds;
  for (const Resource& r : resources) ++kinds[r.kind];
  for (Kind k : {Kind::kMaster, Kind::kPlaylist, Kind::kInit, Kind::kFragment, Kind::kTsSegment}) {
    EXPECT_GT(kinds[k], 0) << "the crawl found no " << kind_name(k);
  }

  // What each round asks besides the resources: the download whole and in two ranges, and
  // requests the server must refuse (404: no such locator, asset file, track or fragment time;
  // 400: a bad format value, a malformed fragment time, broken parentheses).
  struct Extra {
    std::string target;
    Headers headers;
    int status;
  };
  const std::string dl = std::string("/") + kLocator + "/" + mp4;
  const std::vector<Extra> extras = {
      {dl, {}, 200},
      {dl, {{"Range", "bytes=0-999"}}, 206},
      {dl, {{"Range", "bytes=-4096"}}, 206},
      {std::string("/") + kUnknownLocator + "/testsrc.ism/manifest", {}, 404},
      {std::string("/") + kLocator + "/nothere.ism/manifest", {}, 404},
      {std::string("/") + kLocator + "/nothere.mp4", {}, 404},
      {base + "QualityLevels(1)/Fragments(video=0)", {}, 404},
      {base + "manifest(format=nope)", {}, 400},
      {base + "QualityLevels(x)/Fragments(video=abc)", {}, 400},
      {base + "manifest(format=m3u8-aapl", {}, 400},
  };

  long sent = static_cast<long>(resources.size());
  std::map<std::string, int> statuses;
  std::vector<std::string> failures;
  size_t next_resource = 0, next_extra = 0;
  while (sent < requests) {
    // Three resources for each extra; a new connection every 40 requests.
    if (sent % 40 == 0) c.close();
    std::string target;
    Headers headers;
    int expected = 200;
    if (sent % 4 == 3) {
      const Extra& e = extras[next_extra++ % extras.size()];
      target = e.target;
      headers = e.headers;
      expected = e.status;
    } else {
      target = base + resources[next_resource++ % resources.size()].path;
    }
    Timeouts slow;  // valgrind's pace
    slow.headers_ms = 60000;
    slow.idle_ms = 30000;
    slow.total_ms = 120000;
    Answer a = c.get(target, headers, slow);
    ++sent;
    ++statuses[a.complete ? std::to_string(a.status) : "incomplete"];
    if (!a.complete || a.status != expected) {
      if (failures.size() < 10) {
        failures.push_back(target + ": " + (a.complete ? a.status_line : a.failure));
      }
    } else if (expected >= 400 && !ams_error_problem(a).empty()) {
      if (failures.size() < 10) failures.push_back(target + ": " + ams_error_problem(a));
    }
  }
  c.close();
  EXPECT_TRUE(failures.empty()) << [&] {
    std::string all;
    for (const std::string& f : failures) all += f + "\n";
    return all;
  }();

  kill(pid, SIGTERM);
  int status = wait_for(pid, 600);  // valgrind's leak search takes a while
  if (status < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const std::string report = read_file(vg_log);

  // The figures for docs/testing.md: the requests, the time, valgrind's summary lines.
  std::printf("[ leak ] %ld requests (%s) in %.0f s under valgrind; exit status %d\n", sent,
              histogram(statuses).c_str(), seconds, status);
  std::regex summary(
      "==\\d+== +(definitely lost|indirectly lost|possibly lost|still "
      "reachable|suppressed|ERROR SUMMARY|All heap blocks)[^\n]*");
  for (std::sregex_iterator it(report.begin(), report.end(), summary), end; it != end; ++it) {
    std::printf("[ leak ] %s\n", it->str().c_str());
  }
  std::fflush(stdout);

  EXPECT_EQ(status, 0) << "ams serve under valgrind (99: memcheck found an error or a definite "
                          "leak)\n"
                       << read_file(serve_log).substr(0, 4000);
  std::smatch m;
  const bool all_freed = report.find("All heap blocks were freed") != std::string::npos;
  ASSERT_TRUE(all_freed ||
              std::regex_search(report, m, std::regex("definitely lost: ([0-9,]+) bytes")))
      << "no leak summary in valgrind's log:\n"
      << report.substr(0, 4000);
  EXPECT_TRUE(all_freed || m[1].str() == "0") << definite_records(report);
  std::regex errors("ERROR SUMMARY: ([0-9,]+) errors");
  ASSERT_TRUE(std::regex_search(report, m, errors));
  EXPECT_EQ(m[1].str(), "0") << report.substr(0, 20000);
  if (!HasFailure()) remove_tree(dir);
}

}  // namespace
}  // namespace ams_it
