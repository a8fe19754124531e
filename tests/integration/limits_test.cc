// Issue 19, item 4: timeouts and limits of `ams serve`'s client connections. Each test runs the
// real server with short timeouts or small limits, holds real sockets open against it the way
// an idle client, a slowloris, a client that stops reading or a flood from one address does,
// and checks that the server lets go of them at the deadline or refuses them (503, 414, 431
// with the AMS body) while it goes on answering everyone else.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kLocator[] = "55555555-0000-4000-8000-000000000019";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A TCP connection to 127.0.0.1:port from `source` (any 127/8 address is this host, so that one
// test can be several clients), with a receive buffer of `rcvbuf` bytes when not 0.
int connect_to(int port, const char* source = nullptr, int rcvbuf = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (source != nullptr) {
    ::inet_pton(AF_INET, source, &a.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
  }
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the server closes (EOF or reset); the seconds that took, or -1 when the connection
// is still open after `limit_s`. What was read is appended to `*data` when given.
double seconds_until_closed(int fd, double limit_s, std::string* data = nullptr) {
  const Clock::time_point start = Clock::now();
  char buffer[65536];
  while (seconds_since(start) < limit_s) {
    pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return seconds_since(start);
    if (data != nullptr) data->append(buffer, static_cast<size_t>(n));
  }
  return -1;
}

// The status line and headers of one answer read from `fd` (the body is left unread), "" when
// none came within `limit_ms`.
std::string read_head(int fd, int limit_ms = 5000) {
  std::string head;
  const Clock::time_point start = Clock::now();
  while (head.find("\r\n\r\n") == std::string::npos && seconds_since(start) * 1000 < limit_ms) {
    pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char c = 0;
    if (::recv(fd, &c, 1, 0) != 1) break;
    head += c;
  }
  return head;
}

int status_of(const std::string& head) {
  return head.size() > 12 && head.compare(0, 9, "HTTP/1.1 ") == 0 ? std::stoi(head.substr(9, 3))
                                                                  : 0;
}

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-limits-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string asset = dir_ + "/asset";
    const std::string log = dir_ + "/setup.log";
    ASSERT_EQ(run_ams({"encode", "--test-source", "4", "--ladder", "180", "--width", "320",
                       "--height", "180", asset},
                      log),
              "");
    // A download far larger than what the kernel buffers on both sides of a loopback
    // connection (a few MB), so that a client that stops reading stalls the server's writes.
    // Side-car text is served as it is, so any 16 MB of text will do.
    std::string vtt = "WEBVTT\n\n";
    for (int i = 0; vtt.size() < (16u << 20); ++i) {
      vtt += "00:00:00.000 --> 00:00:01.000\ncue " + std::to_string(i) + " of a large file\n\n";
    }
    write_file(asset + "/big.vtt", vtt);
    big_size_ = vtt.size();
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", asset, "--db", db()}, log), "");
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_DownloadAndClearStreaming", "--id", kLocator, "--db", db()},
                      log),
              "");
  }
  static void TearDownTestSuite() { remove_tree(dir_); }

  static std::string db() { return dir_ + "/ams.db"; }
  static std::string manifest() { return std::string("/") + kLocator + "/testsrc.ism/manifest"; }
  static std::string request(const std::string& target, const std::string& extra = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
  }
  // A manifest answered on a fresh connection: the server still serves.
  static int manifest_status(int port) {
    Connection c(port);
    return c.get(manifest()).status;
  }

  static std::string dir_;
  static size_t big_size_;
};

std::string LimitsTest::dir_;
size_t LimitsTest::big_size_ = 0;

// A keep-alive connection that sends no next request is closed at the idle timeout (1 s here),
// not held (the default 60 s would be held just the same, and without the feature forever).
TEST_F(LimitsTest, AnIdleKeepAliveConnectionIsClosedAtTheIdleTimeout) {
  const std::string log = dir_ + "/idle.log";
  ServerProcess server(db(), {"--idle-timeout", "1"}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  const int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, request(manifest())));
  std::string answer;
  const double closed = seconds_until_closed(fd, 6, &answer);
  ::close(fd);
  EXPECT_EQ(answer.compare(0, 15, "HTTP/1.1 200 OK"), 0) << answer.substr(0, 200);
  // The answer comes at once; the close one idle timeout later (and a tick of the watch).
  EXPECT_GE(closed, 0.8);
  EXPECT_LE(closed, 2.5) << "-1: still open after 6 s";
  EXPECT_EQ(manifest_status(server.port()), 200);
  EXPECT_TRUE(server.alive()) << server.death();
}

// A slowloris sends one header byte every 200 ms: bytes keep arriving, yet the connection is cut
// at the header deadline (1 s from the accept), and so is one that sends nothing at all.
TEST_F(LimitsTest, ASlowlorisIsCutAtTheHeaderDeadlineThoughBytesKeepComing) {
  const std::string log = dir_ + "/slowloris.log";
  ServerProcess server(db(), {"--header-timeout", "1"}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  const int silent = connect_to(server.port());
  const int slow = connect_to(server.port());
  ASSERT_GE(silent, 0);
  ASSERT_GE(slow, 0);
  const Clock::time_point start = Clock::now();
  const std::string text = request(manifest(), "X-Padding: " + std::string(200, 'a') + "\r\n");
  size_t sent = 0;
  double cut = -1;
  while (sent < text.size() && seconds_since(start) < 6) {
    if (!send_all(slow, text.substr(sent, 1))) break;
    ++sent;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    pollfd p = {slow, POLLIN, 0};
    char c = 0;
    if (::poll(&p, 1, 0) > 0 && ::recv(slow, &c, 1, MSG_DONTWAIT) <= 0) {
      cut = seconds_since(start);
      break;
    }
  }
  ::close(slow);
  EXPECT_GE(sent, 4u) << "bytes kept arriving until the cut";
  EXPECT_GT(cut, 0.8);
  EXPECT_LT(cut, 2.5) << "-1: not cut after " << sent << " bytes in 6 s";
  const double silent_closed = seconds_until_closed(silent, 0.1 + 3 - seconds_since(start));
  ::close(silent);
  EXPECT_GE(silent_closed, 0) << "a connection that sends nothing is held past the deadline";
  EXPECT_EQ(manifest_status(server.port()), 200);
  EXPECT_TRUE(server.alive()) << server.death();
}

// A client that asks for a large download and stops reading is cut at the send deadline (1 s
// without progress): it gets less than the body; meanwhile and after, others are served.
TEST_F(LimitsTest, AClientThatStopsReadingIsCutAtTheSendDeadline) {
  const std::string log = dir_ + "/send.log";
  ServerProcess server(db(), {"--send-timeout", "1"}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  const int fd = connect_to(server.port(), nullptr, 4096);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, request(std::string("/") + kLocator + "/big.vtt")));
  // Not reading; the server's writes stall once the buffers are full.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(manifest_status(server.port()), 200) << "another client is served meanwhile";
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::string got;
  const double closed = seconds_until_closed(fd, 10, &got);
  ::close(fd);
  EXPECT_GE(closed, 0) << "still open";
  EXPECT_LT(got.size(), big_size_) << "the whole body went out: the client was not cut";
  EXPECT_EQ(manifest_status(server.port()), 200);
  EXPECT_TRUE(server.alive()) << server.death();
}

// The fourth connection from one address is answered 503 (AMS body, Connection: close) while the
// three it already holds are served; once one of them closes, a new one is served again.
TEST_F(LimitsTest, ConnectionsPerClientAreCapped) {
  const std::string log = dir_ + "/per-client.log";
  ServerProcess server(db(), {"--max-connections-per-client", "3"}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_to(server.port()));
  for (int fd : held) ASSERT_GE(fd, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // accepted, in this order
  {
    Connection c(server.port());
    Answer a = c.get(manifest());
    EXPECT_EQ(a.status, 503) << a.describe();
    EXPECT_EQ(ams_error_problem(a), "") << a.describe();
    EXPECT_EQ(hresult_of(a), "MPE_SERVER_BUSY");
    EXPECT_TRUE(a.connection_closes) << a.describe();
    EXPECT_EQ(a.header("retry-after"), "1");
  }
  // Another client address is not affected.
  const int other = connect_to(server.port(), "127.0.0.2");
  ASSERT_GE(other, 0);
  ASSERT_TRUE(send_all(other, request(manifest())));
  EXPECT_EQ(status_of(read_head(other)), 200);
  ::close(other);
  for (int fd : held) {
    ASSERT_TRUE(send_all(fd, request(manifest())));
    EXPECT_EQ(status_of(read_head(fd)), 200);
  }
  ::close(held[0]);
  // The server sees the close within a tick of its watch.
  int status = 0;
  for (int attempt = 0; attempt < 20 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = manifest_status(server.port());
  }
  EXPECT_EQ(status, 200);
  ::close(held[1]);
  ::close(held[2]);
  EXPECT_TRUE(server.alive()) << server.death();
}

// The server's total: three clients fill it, a fourth is refused, and served again once one of
// the three has gone.
TEST_F(LimitsTest, ConnectionsInTotalAreCapped) {
  const std::string log = dir_ + "/total.log";
  ServerProcess server(db(), {"--max-connections", "3", "--threads", "2"}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  std::vector<int> held;
  for (const char* source : {"127.0.0.1", "127.0.0.2", "127.0.0.3"}) {
    held.push_back(connect_to(server.port(), source));
  }
  for (int fd : held) ASSERT_GE(fd, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int fourth = connect_to(server.port(), "127.0.0.4");
  ASSERT_GE(fourth, 0);
  ASSERT_TRUE(send_all(fourth, request(manifest())));
  EXPECT_EQ(status_of(read_head(fourth)), 503);
  ::close(fourth);
  for (int fd : held) {
    ASSERT_TRUE(send_all(fd, request(manifest())));
    EXPECT_EQ(status_of(read_head(fd)), 200);
  }
  ::close(held[0]);
  int status = 0;
  for (int attempt = 0; attempt < 20 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const int fd = connect_to(server.port(), "127.0.0.4");
    if (fd >= 0 && send_all(fd, request(manifest()))) status = status_of(read_head(fd));
    if (fd >= 0) ::close(fd);
  }
  EXPECT_EQ(status, 200);
  ::close(held[1]);
  ::close(held[2]);
  EXPECT_TRUE(server.alive()) << server.death();
}

// With the default limits (8 KiB request line, 32 KiB of header fields): 40 KB of headers answer
// 431 and a 10 KB request line (its query) 414, both with the AMS body, where the request used
// to be served (libsoup's own limit is 64 KiB for both, past which it drops the connection).
TEST_F(LimitsTest, OversizedHeadersAnswer431AndALongRequestLine414) {
  const std::string log = dir_ + "/sizes.log";
  ServerProcess server(db(), {}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  {
    Connection c(server.port());
    Headers many;
    for (int i = 0; i < 400; ++i) many.push_back({"X-Field-" + std::to_string(i), "v"});
    many.push_back({"X-Large", std::string(36000, 'h')});
    Answer a = c.get(manifest(), many);
    EXPECT_EQ(a.status, 431) << a.describe();
    EXPECT_EQ(a.status_line, "HTTP/1.1 431 Request Header Fields Too Large");
    EXPECT_EQ(ams_error_problem(a), "") << a.describe();
    EXPECT_EQ(hresult_of(a), "MPE_REQUEST_HEADERS_TOO_LARGE");
  }
  {
    Connection c(server.port());
    Answer a = c.get(manifest() + "?x=" + std::string(10000, 'q'));
    EXPECT_EQ(a.status, 414) << a.describe();
    EXPECT_EQ(ams_error_problem(a), "") << a.describe();
  }
  {
    // Just under both limits: served.
    Connection c(server.port());
    Answer a =
        c.get(manifest() + "?x=" + std::string(7000, 'q'), {{"X-Large", std::string(30000, 'h')}});
    EXPECT_EQ(a.status, 200) << a.describe();
  }
  EXPECT_EQ(manifest_status(server.port()), 200);
  EXPECT_TRUE(server.alive()) << server.death();
}

}  // namespace
}  // namespace ams_it
