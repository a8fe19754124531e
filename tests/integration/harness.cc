#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace ams_it {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(g_ascii_tolower(c));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string tail(const std::string& text, size_t n) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// posix_spawnp with stdin from /dev/null and stdout + stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : 0;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

size_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

}  // namespace

// --- Files and processes ------------------------------------------------------------------------

std::string ams_binary() {
  const char* root = g_getenv("AMS_BUILD_ROOT");
  return std::string(root != nullptr ? root : ".") + "/tools/ams";
}

std::string make_temp_dir(const char* name_template) {
  gchar* dir = g_dir_make_tmp(name_template, nullptr);
  std::string out = dir != nullptr ? dir : "";
  g_free(dir);
  return out;
}

void remove_tree(const std::string& path) {
  if (path.size() < 6) return;  // never "/" or "/tmp"
  run({"rm", "-rf", path}, "/dev/null");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string run(const std::vector<std::string>& argv, const std::string& log) {
  size_t before = file_size(log);
  pid_t pid = spawn(argv, log);
  if (pid == 0) return "cannot start " + argv[0];
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  std::string text = read_file(log);
  return argv[0] + " " + (argv.size() > 1 ? argv[1] : "") + ": " + describe_status(status) + "\n" +
         tail(text.substr(std::min(before, text.size())), 2000);
}

std::string run_ams(std::vector<std::string> args, const std::string& log) {
  args.insert(args.begin(), ams_binary());
  return run(args, log);
}

ServerProcess::ServerProcess(const std::string& db, const std::vector<std::string>& extra,
                             const std::string& log) {
  std::vector<std::string> argv = {ams_binary(), "serve", "--db", db, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  size_t before = file_size(log);
  pid_ = spawn(argv, log);
  if (pid_ == 0) return;
  // "Serving DB on http://127.0.0.1:PORT/"
  std::regex line("Serving .* on http://127\\.0\\.0\\.1:(\\d+)/");
  for (int attempt = 0; attempt < 300 && port_ == 0; ++attempt) {
    std::string text = read_file(log);
    std::smatch m;
    std::string fresh = text.substr(std::min(before, text.size()));
    if (std::regex_search(fresh, m, line)) {
      port_ = std::stoi(m[1].str());
    } else if (!alive()) {
      return;
    } else {
      g_usleep(20000);
    }
  }
}

ServerProcess::~ServerProcess() {
  stop();
}

bool ServerProcess::alive() {
  if (pid_ == 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  death_ = r == pid_ ? describe_status(status) : "lost";
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = 0;
  return false;
}

int ServerProcess::stop() {
  if (pid_ == 0) return exit_status_;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int attempt = 0; attempt < 500; ++attempt) {  // 10 s, then SIGKILL
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_status_;
    }
    g_usleep(20000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = 0;
  exit_status_ = 128 + SIGKILL;
  return exit_status_;
}

// --- HTTP ---------------------------------------------------------------------------------------

std::string Answer::header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

bool Answer::has(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return true;
  }
  return false;
}

std::string Answer::describe() const {
  std::string out = status_line.empty() ? "(no status line)" : status_line;
  for (const auto& [name, value] : headers) {
    if (name == "date" || name == "server" || name == "access-control-expose-headers") continue;
    out += " | " + name + ": " + value;
  }
  out += " | body " + std::to_string(body.size()) + " bytes";
  if (!complete) out += " | INCOMPLETE: " + failure;
  return out;
}

Connection::~Connection() {
  close();
}

void Connection::set_port(int port) {
  if (port != port_) close();
  port_ = port;
}

void Connection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  used_ = false;
}

bool Connection::open(std::string* failure) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *failure = std::string("cannot connect: ") + strerror(errno);
    close();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ++connects_;
  used_ = false;
  return true;
}

Answer Connection::request(const std::string& method, const std::string& target,
                           const Headers& headers, const Timeouts& timeouts) {
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  bool reused = fd_ >= 0 && used_;
  Answer a = exchange(method, request, timeouts);
  // The server may close an idle keep-alive connection just as a request goes out: like every
  // client, try once more on a new connection when not a byte came back.
  if (!a.complete && reused && a.status_line.empty() && starts_with(a.failure, "closed")) {
    close();
    a = exchange(method, request, timeouts);
  }
  return a;
}

Answer Connection::post(const std::string& target, const std::string& body, const Headers& headers,
                        const Timeouts& timeouts) {
  std::string request = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return exchange("POST", request, timeouts);
}

Answer Connection::exchange(const std::string& method, const std::string& request,
                            const Timeouts& t) {
  Answer a;
  auto start = Clock::now();
  auto fail = [&](const std::string& why) {
    a.failure = why + " after " + std::to_string(static_cast<int>(ms_since(start))) + " ms";
    a.ms = ms_since(start);
    close();
    return a;
  };
  std::string why;
  if (fd_ < 0 && !open(&why)) return fail(why);
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return fail(std::string("closed while sending: ") + strerror(errno));
    sent += static_cast<size_t>(n);
  }
  std::string buffer;
  // Reads more into `buffer`: 1 read, 0 closed, -1 timed out (waited `wait_ms`), -2 error.
  auto read_more = [&](int wait_ms) -> int {
    if (wait_ms <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, wait_ms);
    if (r == 0) return -1;
    if (r < 0) return -2;
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0) return errno == ECONNRESET ? 0 : -2;
    buffer.append(chunk, static_cast<size_t>(n));
    return n == 0 ? 0 : 1;
  };
  auto remaining = [&](int limit_ms) {
    return std::min(limit_ms, t.total_ms) - static_cast<int>(ms_since(start));
  };
  size_t header_end = std::string::npos;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    int r = read_more(remaining(t.headers_ms));
    if (r == 1) continue;
    std::string got = std::to_string(buffer.size()) + " bytes of headers";
    if (r == 0) return fail(buffer.empty() ? "closed before any byte" : "closed after " + got);
    if (r == -1) return fail("timed out waiting for the headers (" + got + ")");
    return fail("read error");
  }
  used_ = true;
  std::istringstream head(buffer.substr(0, header_end));
  std::getline(head, a.status_line);
  a.status_line = trim(a.status_line);
  std::smatch m;
  if (!std::regex_match(a.status_line, m, std::regex("HTTP/1\\.([01]) (\\d{3})( .*)?"))) {
    return fail("malformed status line");
  }
  bool http10 = m[1].str() == "0";
  a.status = std::stoi(m[2].str());
  for (std::string line; std::getline(head, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    a.headers.emplace_back(lower(trim(line.substr(0, colon))), trim(line.substr(colon + 1)));
  }
  std::string connection = lower(a.header("connection"));
  a.connection_closes = connection.find("close") != std::string::npos ||
                        (http10 && connection.find("keep-alive") == std::string::npos);
  buffer.erase(0, header_end + 4);

  bool no_body = method == "HEAD" || a.status == 204 || a.status == 304 || a.status < 200;
  auto read_body_until = [&](size_t size) -> std::string {  // "" or why it stopped
    while (buffer.size() < size) {
      int r = read_more(std::min(t.idle_ms, remaining(t.total_ms)));
      if (r == 1) continue;
      std::string got = std::to_string(buffer.size()) + " of " + std::to_string(size) +
                        " body bytes (Content-Length " + a.header("content-length") + ")";
      return r == 0 ? "closed after " + got : "timed out after " + got;
    }
    return "";
  };
  if (no_body) {
    // nothing
  } else if (lower(a.header("transfer-encoding")).find("chunked") != std::string::npos) {
    std::string body;
    for (;;) {
      size_t eol = buffer.find("\r\n");
      while (eol == std::string::npos) {
        int r = read_more(std::min(t.idle_ms, remaining(t.total_ms)));
        if (r != 1) {
          a.body = body;
          return fail("chunked body stopped after " + std::to_string(body.size()) + " bytes");
        }
        eol = buffer.find("\r\n");
      }
      size_t chunk = std::strtoul(buffer.substr(0, eol).c_str(), nullptr, 16);
      if (std::string stop = read_body_until(eol + 2 + chunk + 2); !stop.empty()) {
        a.body = body;
        return fail("chunked body: " + stop);
      }
      body += buffer.substr(eol + 2, chunk);
      buffer.erase(0, eol + 2 + chunk + 2);
      if (chunk == 0) break;
    }
    a.body = body;
  } else if (a.has("content-length")) {
    size_t length = std::strtoull(a.header("content-length").c_str(), nullptr, 10);
    std::string stop = read_body_until(length);
    a.body = buffer.substr(0, length);
    if (!stop.empty()) return fail(stop);
    buffer.erase(0, length);
  } else {
    for (;;) {  // no length: the body ends when the server closes
      int r = read_more(std::min(t.idle_ms, remaining(t.total_ms)));
      if (r == 0) break;
      if (r != 1) {
        a.body = buffer;
        return fail("body without length did not end");
      }
    }
    a.body = buffer;
    buffer.clear();
    a.connection_closes = true;
  }
  a.complete = true;
  a.ms = ms_since(start);
  if (!buffer.empty()) {
    // More bytes than the answer announced: the connection cannot carry another request.
    a.failure = std::to_string(buffer.size()) + " bytes after the end of the answer";
    a.complete = false;
    close();
  } else if (a.connection_closes) {
    close();
  }
  return a;
}

std::string hresult_of(const Answer& a) {
  std::smatch m;
  if (std::regex_search(a.body, m, std::regex("<hresult>(MPE_[A-Z0-9_]+)</hresult>"))) {
    return m[1].str();
  }
  return "";
}

std::string ams_error_problem(const Answer& a) {
  if (!a.complete) return "no complete answer: " + a.failure;
  std::string type = a.header("content-type");
  if (!starts_with(type, "application/xml")) return "Content-Type '" + type + "', not XML";
  if (a.body.find("<serverError>") == std::string::npos) return "no <serverError> in the body";
  std::smatch m;
  if (!std::regex_search(a.body, m, std::regex("<status>(\\d+)</status>")) ||
      std::stoi(m[1].str()) != a.status) {
    return "the body's <status> is not " + std::to_string(a.status);
  }
  if (hresult_of(a).empty()) return "no <hresult>MPE_...</hresult>";
  return "";
}

std::string body_problem(const Answer& a) {
  if (!a.complete) return "incomplete: " + a.failure;
  if (a.header("content-length") != std::to_string(a.body.size())) {
    return "Content-Length '" + a.header("content-length") + "' for " +
           std::to_string(a.body.size()) + " bytes";
  }
  std::string type = lower(a.header("content-type"));
  type = trim(type.substr(0, type.find(';')));
  const std::string& b = a.body;
  auto xml_with = [&](const char* root) -> std::string {
    if (!starts_with(b, "<?xml")) return "not XML";
    if (b.find(std::string("<") + root) == std::string::npos ||
        b.find(std::string("</") + root + ">") == std::string::npos) {
      return std::string("no <") + root + "> ... </" + root + ">";
    }
    return "";
  };
  if (type == "application/vnd.ms-sstr+xml") return xml_with("SmoothStreamingMedia");
  if (type == "application/dash+xml") return xml_with("MPD");
  if (type == "application/vnd.apple.mpegurl") {
    return starts_with(b, "#EXTM3U\n") || starts_with(b, "#EXTM3U\r\n") ? "" : "no #EXTM3U";
  }
  if (type == "video/mp4" || type == "audio/mp4") {
    if (b.size() < 8) return "shorter than a box header";
    std::string first = b.substr(4, 4);
    if (first != "ftyp" && first != "styp" && first != "moof") return "first box '" + first + "'";
    size_t at = 0;
    while (at < b.size()) {
      if (b.size() - at < 8) return "a partial box header at " + std::to_string(at);
      uint64_t size = 0;
      for (int i = 0; i < 4; ++i) size = size << 8 | static_cast<uint8_t>(b[at + i]);
      uint64_t header = 8;
      if (size == 1) {
        if (b.size() - at < 16) return "a partial large box header";
        size = 0;
        for (int i = 8; i < 16; ++i) size = size << 8 | static_cast<uint8_t>(b[at + i]);
        header = 16;
      } else if (size == 0) {
        size = b.size() - at;
      }
      if (size < header || size > b.size() - at) {
        return "box '" + b.substr(at + 4, 4) + "' at " + std::to_string(at) + " claims " +
               std::to_string(size) + " bytes of " + std::to_string(b.size() - at);
      }
      at += size;
    }
    return "";
  }
  if (type == "video/mp2t") {
    if (b.empty() || b.size() % 188 != 0) return std::to_string(b.size()) + " bytes: not packets";
    for (size_t at = 0; at < b.size(); at += 188) {
      if (b[at] != 0x47) return "no sync byte at " + std::to_string(at);
    }
    return "";
  }
  if (type == "text/xml" || type == "application/json" || type == "text/html" ||
      type == "text/vtt" || type == "application/ttml+xml") {
    return "";
  }
  return "unexpected Content-Type '" + type + "'";
}

// --- Assets -------------------------------------------------------------------------------------

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kMaster:
      return "master";
    case Kind::kPlaylist:
      return "playlist";
    case Kind::kInit:
      return "init";
    case Kind::kFragment:
      return "fragment";
    case Kind::kTsSegment:
      return "ts-segment";
    case Kind::kKeyFrame:
      return "keyframe";
  }
  return "?";
}

std::vector<std::string> master_paths() {
  return {"manifest",
          "manifest(format=m3u8-aapl)",
          "manifest(format=m3u8-aapl-v3)",
          "manifest(format=m3u8-cmaf)",
          "manifest(format=mpd-time-csf)",
          "manifest(format=mpd-time-cmaf)"};
}

namespace {

std::string attr(const std::string& attrs, const std::string& name) {
  std::smatch m;
  if (std::regex_search(attrs, m, std::regex("(^|\\s)" + name + "=\"([^\"]*)\""))) {
    return m[2].str();
  }
  return "";
}

std::string unescape_xml(std::string s) {
  for (size_t at = 0; (at = s.find("&amp;", at)) != std::string::npos; ++at) s.erase(at + 1, 4);
  return s;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// The track name of "...Fragments(NAME=..." / "...Manifest(NAME,..." / "KeyFrames(NAME=...".
std::string track_in(const std::string& path) {
  for (const char* open : {"Fragments(", "KeyFrames(", "Manifest("}) {
    size_t at = path.find(open);
    if (at == std::string::npos) continue;
    at += std::strlen(open);
    size_t end = path.find_first_of("=,)", at);
    return path.substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return "";
}

// URI= attributes and URI lines of a playlist, in order.
std::vector<std::string> playlist_uris(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::regex uri("URI=\"([^\"]+)\"");
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    std::smatch m;
    if (std::regex_search(line, m, uri)) out.push_back(m[1].str());
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

}  // namespace

std::vector<Resource> crawl(Connection& c, const std::string& base, std::string* error) {
  std::vector<Resource> out;
  std::set<std::string> seen;
  std::map<std::string, bool> audio_track;  // from the Smooth manifest
  auto fetch = [&](const std::string& path, Kind kind, const std::string& format,
                   bool audio) -> bool {
    if (!seen.insert(path).second) return false;
    Answer a = c.get(base + path);
    std::string problem =
        a.complete && a.status != 200 ? "status " + std::to_string(a.status) : body_problem(a);
    int status = a.complete ? a.status : -1;
    if (!problem.empty()) {
      *error += path + ": " + problem + "\n";
      out.push_back({path, kind, format, audio, status, "", "", ""});
      return false;
    }
    out.push_back(
        {path, kind, format, audio, status, a.body, a.header("etag"), a.header("content-type")});
    return true;
  };
  auto is_audio = [&](const std::string& path) {
    auto it = audio_track.find(track_in(path));
    return it != audio_track.end() && it->second;
  };
  std::vector<std::string> masters = master_paths();
  // Smooth: each StreamIndex's Url template over its QualityLevels and c elements.
  if (fetch(masters[0], Kind::kMaster, "smooth", false)) {
    std::string text = out.back().body;
    std::regex stream("<StreamIndex([^>]*)>([\\s\\S]*?)</StreamIndex>");
    std::vector<std::pair<std::string, bool>> fragments;
    for (std::sregex_iterator it(text.begin(), text.end(), stream), end; it != end; ++it) {
      std::string attrs = (*it)[1].str();
      std::string body = (*it)[2].str();
      std::string type = attr(attrs, "Type");
      std::string url = unescape_xml(attr(attrs, "Url"));
      if (type != "video" && type != "audio") continue;
      audio_track[track_in(url)] = type == "audio";
      std::vector<std::string> bitrates;
      std::regex level("<QualityLevel([^>]*)/?>");
      for (std::sregex_iterator l(body.begin(), body.end(), level), e; l != e; ++l) {
        bitrates.push_back(attr((*l)[1].str(), "Bitrate"));
      }
      std::vector<int64_t> times;
      int64_t next = 0;
      std::regex chunk("<c([^>]*)/>");
      for (std::sregex_iterator ch(body.begin(), body.end(), chunk), e; ch != e; ++ch) {
        std::string a = (*ch)[1].str();
        std::string t = attr(a, "t");
        std::string r = attr(a, "r");
        int64_t d = std::stoll(attr(a, "d").empty() ? "0" : attr(a, "d"));
        if (!t.empty()) next = std::stoll(t);
        for (int64_t k = 0; k < (r.empty() ? 1 : std::stoll(r)); ++k) {
          times.push_back(next);
          next += d;
        }
      }
      if (std::to_string(times.size()) != attr(attrs, "Chunks")) {
        *error += "Smooth " + type + ": " + std::to_string(times.size()) +
                  " c times, Chunks=" + attr(attrs, "Chunks") + "\n";
      }
      for (const std::string& b : bitrates) {
        for (int64_t time : times) {
          fragments.emplace_back(
              replace_all(replace_all(url, "{bitrate}", b), "{start time}", std::to_string(time)),
              type == "audio");
        }
      }
    }
    for (const auto& [path, audio] : fragments) fetch(path, Kind::kFragment, "smooth", audio);
  }
  // HLS: master -> media playlists -> segments (and EXT-X-MAP inits).
  for (size_t i = 1; i <= 3; ++i) {
    std::string format = masters[i].substr(16, masters[i].size() - 17);
    if (!fetch(masters[i], Kind::kMaster, format, false)) continue;
    bool ts = format != "m3u8-cmaf";
    for (const std::string& playlist : playlist_uris(out.back().body)) {
      if (!fetch(playlist, Kind::kPlaylist, format, is_audio(playlist))) continue;
      std::string dir = playlist.substr(0, playlist.rfind('/') + 1);
      for (const std::string& uri : playlist_uris(out.back().body)) {
        std::string path = dir + uri;
        Kind kind = path.find("KeyFrames(") != std::string::npos ? Kind::kKeyFrame
                    : ts                                         ? Kind::kTsSegment
                    : path.find("=i,") != std::string::npos || path.find("=i)") != std::string::npos
                        ? Kind::kInit
                        : Kind::kFragment;
        fetch(path, kind, format, is_audio(path));
      }
    }
  }
  // DASH: every AdaptationSet's SegmentTemplate over its Representations and SegmentTimeline.
  for (size_t i = 4; i <= 5; ++i) {
    std::string format = masters[i].substr(16, masters[i].size() - 17);
    if (!fetch(masters[i], Kind::kMaster, format, false)) continue;
    std::string text = out.back().body;
    std::regex set("<AdaptationSet([^>]*)>([\\s\\S]*?)</AdaptationSet>");
    std::vector<std::pair<std::string, Kind>> found;
    for (std::sregex_iterator it(text.begin(), text.end(), set), end; it != end; ++it) {
      std::string body = (*it)[2].str();
      std::smatch m;
      if (!std::regex_search(body, m, std::regex("<SegmentTemplate([^>]*)>"))) {
        *error += format + ": an AdaptationSet without SegmentTemplate\n";
        continue;
      }
      std::string media = unescape_xml(attr(m[1].str(), "media"));
      std::string init = unescape_xml(attr(m[1].str(), "initialization"));
      std::vector<int64_t> times;
      int64_t next = 0;
      std::regex s("<S([^>]*)/>");
      for (std::sregex_iterator e(body.begin(), body.end(), s), stop; e != stop; ++e) {
        std::string a = (*e)[1].str();
        if (!attr(a, "t").empty()) next = std::stoll(attr(a, "t"));
        int64_t d = std::stoll(attr(a, "d").empty() ? "0" : attr(a, "d"));
        int64_t r = attr(a, "r").empty() ? 0 : std::stoll(attr(a, "r"));
        for (int64_t k = 0; k <= r; ++k) {
          times.push_back(next);
          next += d;
        }
      }
      std::regex rep("<Representation([^>]*)>");
      for (std::sregex_iterator r(body.begin(), body.end(), rep), stop; r != stop; ++r) {
        std::string b = attr((*r)[1].str(), "bandwidth");
        std::string id = attr((*r)[1].str(), "id");
        auto fill = [&](std::string t) {
          return replace_all(replace_all(t, "$Bandwidth$", b), "$RepresentationID$", id);
        };
        found.emplace_back(fill(init), Kind::kInit);
        for (int64_t time : times) {
          found.emplace_back(replace_all(fill(media), "$Time$", std::to_string(time)),
                             Kind::kFragment);
        }
      }
    }
    for (const auto& [path, kind] : found) fetch(path, kind, format, is_audio(path));
  }
  return out;
}

std::string histogram(const std::map<std::string, int>& counts) {
  std::string out;
  for (const auto& [key, n] : counts)
    out += (out.empty() ? "" : " ") + key + ":" + std::to_string(n);
  return out.empty() ? "(none)" : out;
}

}  // namespace ams_it
