// What the robustness and HTTP tests (broken_assets_test, url_grammar_test, http_semantics_test)
// share: the real `ams serve` as a child process, an HTTP/1.1 client on raw sockets that never
// waits forever and tells a complete answer from a hung or dropped one, and a crawler that lists
// every resource an asset serves by following its manifests. Nothing here is linked into
// server_test.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ams_it {

// --- Files and processes ------------------------------------------------------------------------

std::string ams_binary();  // $AMS_BUILD_ROOT/tools/ams
std::string make_temp_dir(const char* name_template);
void remove_tree(const std::string& path);
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& data);

// Runs `argv` (argv[0] looked up in PATH) with its output to `log` (appended); returns "" when it
// exits 0, else what happened and the log's tail.
std::string run(const std::vector<std::string>& argv, const std::string& log);
std::string run_ams(std::vector<std::string> args, const std::string& log);

// One `ams serve --listen 127.0.0.1:0` process, its stdout and stderr appended to `log`.
class ServerProcess {
 public:
  ServerProcess(const std::string& db, const std::vector<std::string>& extra,
                const std::string& log);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool started() const { return port_ != 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Whether the process still runs (reaps it when it has ended). Not thread-safe: call it from
  // one thread.
  bool alive();
  // "killed by signal 8 (Floating point exception)" or "exited with status 1"; "" while alive.
  const std::string& death() const { return death_; }
  // SIGTERM and wait; the exit status (128 + signal when killed).
  int stop();

 private:
  pid_t pid_ = 0;
  int port_ = 0;
  std::string death_;
  int exit_status_ = -1;
};

// --- HTTP ---------------------------------------------------------------------------------------

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Answer {
  bool complete = false;  // a whole response (status line, headers, body) arrived
  std::string failure;    // when not complete: what happened ("timed out ...", "closed ...")
  int status = 0;
  std::string status_line;
  Headers headers;  // names in lower case, in order
  std::string body;
  bool connection_closes = false;  // the server said it closes (or closed) the connection
  double ms = 0;

  std::string header(const std::string& lower_name) const;  // first value, "" when absent
  bool has(const std::string& lower_name) const;
  std::string describe() const;  // status line, headers and the first bytes of the body
};

struct Timeouts {
  int headers_ms = 10000;  // from sending the request to the end of the headers
  int idle_ms = 3000;      // between two reads of the body
  int total_ms = 20000;
};

// One keep-alive connection to 127.0.0.1:port. request() sends the target exactly as given (no
// normalisation, no percent-encoding) and reads exactly one answer. A connection the server closed
// is opened again before the next request; one that failed mid-answer is dropped.
class Connection {
 public:
  explicit Connection(int port) : port_(port) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Answer request(const std::string& method, const std::string& target, const Headers& headers = {},
                 const Timeouts& timeouts = {});
  // With a request body (Content-Length added).
  Answer post(const std::string& target, const std::string& body, const Headers& headers = {},
              const Timeouts& timeouts = {});
  Answer get(const std::string& target, const Headers& headers = {},
             const Timeouts& timeouts = {}) {
    return request("GET", target, headers, timeouts);
  }
  // Whether the socket of the last answer is still open (the next request reuses it).
  bool is_open() const { return fd_ >= 0; }
  // How many TCP connections this object opened so far.
  int connects() const { return connects_; }
  void set_port(int port);
  void close();

 private:
  bool open(std::string* failure);
  Answer exchange(const std::string& method, const std::string& request, const Timeouts& t);

  int port_;
  int fd_ = -1;
  int connects_ = 0;
  bool used_ = false;  // at least one answer read on the current socket
};

// "" when `a` is a complete AMS error answer: Content-Type application/xml and
// <serverError><status>N</status>...<hresult>MPE_...</hresult> with N the HTTP status; else what
// is missing.
std::string ams_error_problem(const Answer& a);
std::string hresult_of(const Answer& a);  // the MPE_ name in the body, "" if none

// "" when a 200 answer's body is what its Content-Type says: a Smooth, HLS or DASH manifest, MP4
// boxes that exactly fill the body, or whole 188-byte TS packets; and Content-Length is its size.
std::string body_problem(const Answer& a);

// --- Assets -------------------------------------------------------------------------------------

enum class Kind { kMaster, kPlaylist, kInit, kFragment, kTsSegment, kKeyFrame };
const char* kind_name(Kind kind);

struct Resource {
  std::string path;  // relative to "/{locator}/{name}.ism/"
  Kind kind = Kind::kMaster;
  std::string format;  // the format the URL was found under ("smooth", "m3u8-aapl", ...)
  bool audio = false;  // a fragment/segment/playlist of an audio track (HLS v3 video: muxed)
  int status = 0;      // as answered when crawled (-1: no complete answer)
  std::string body;
  std::string etag;
  std::string content_type;
};

// The six master manifests: Smooth, HLS v4, v3, CMAF, DASH CSF, DASH CMAF.
std::vector<std::string> master_paths();

// Fetches the masters under `base` ("/{locator}/{name}.ism/") and follows them to every media
// playlist, init segment, fragment and TS segment they name (HLS URIs, DASH SegmentTemplate +
// SegmentTimeline, Smooth StreamIndex Url + c). Every one must answer 200 with a well-formed body;
// otherwise `error` says which did not. Those are listed too (with their status), but a manifest
// or playlist that failed is not followed.
std::vector<Resource> crawl(Connection& c, const std::string& base, std::string* error);

// "200:12 404:30 500:2" style line of a histogram.
std::string histogram(const std::map<std::string, int>& counts);

}  // namespace ams_it
