// HTTPS (issue 18, "Configure"): `ams serve --tls-listen` with a certificate made here by the
// `openssl` command, checked by clients that verify it: libsoup with the certificate as its only
// trust anchor, and ffmpeg playing HLS and DASH with -tls_verify. Every resource the asset serves
// over HTTP is fetched over HTTPS too and must be the same bytes; a client that does not trust
// the certificate must fail; bad certificate files stop the server at start with a message; a
// SIGHUP takes a certificate renewed in place.
#include <gio/gio.h>
#include <gtest/gtest.h>
#include <libsoup/soup.h>
#include <signal.h>

#include <regex>
#include <string>
#include <vector>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kLocator[] = "5bd3b6f1-8e3c-4e7e-9d59-0c6f4b7a2e11";

// A self-signed P-256 certificate for 127.0.0.1 in `dir`/NAME.crt, its key in NAME.key; "" or
// what went wrong.
std::string make_certificate(const std::string& dir, const std::string& name,
                             const std::string& log) {
  return run(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".crt", "-subj",
       "/CN=gst-ams test " + name, "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2"},
      log);
}

// The port of the "Serving DB on https://127.0.0.1:PORT/" line in `log`, 0 when there is none.
int https_port(const std::string& log) {
  std::smatch m;
  std::string text = read_file(log);
  std::regex line("Serving .* on https://127\\.0\\.0\\.1:(\\d+)/");
  return std::regex_search(text, m, line) ? std::stoi(m[1].str()) : 0;
}

struct Fetched {
  guint status = 0;
  std::string body;
  std::string error;        // the client's error ("" when an answer came)
  std::string certificate;  // the PEM of the certificate the server presented
};

// GET `url` with a libsoup client whose only trust anchor is the certificate in `ca_file`; the
// certificate is checked for 127.0.0.1 as libsoup checks any server's.
Fetched fetch_verified(const std::string& url, const std::string& ca_file) {
  Fetched out;
  GError* error = nullptr;
  GTlsDatabase* trust = g_tls_file_database_new(ca_file.c_str(), &error);
  if (trust == nullptr) {
    out.error = error->message;
    g_error_free(error);
    return out;
  }
  SoupSession* session =
      soup_session_new_with_options("tls-database", trust, "timeout", 20, nullptr);
  soup_session_remove_feature_by_type(session, SOUP_TYPE_CONTENT_DECODER);
  SoupMessage* msg = soup_message_new("GET", url.c_str());
  GBytes* body = soup_session_send_and_read(session, msg, nullptr, &error);
  if (body == nullptr) {
    out.error = error->message;
    g_error_free(error);
  } else {
    gsize size = 0;
    const char* data = static_cast<const char*>(g_bytes_get_data(body, &size));
    out.body.assign(data != nullptr ? data : "", size);
    g_bytes_unref(body);
    out.status = soup_message_get_status(msg);
    GTlsCertificate* peer = soup_message_get_tls_peer_certificate(msg);
    if (peer != nullptr) {
      gchar* pem = nullptr;
      g_object_get(peer, "certificate-pem", &pem, nullptr);
      out.certificate = pem != nullptr ? pem : "";
      g_free(pem);
    }
  }
  g_object_unref(msg);
  g_object_unref(session);
  g_object_unref(trust);
  return out;
}

// The certificate in a PEM file, as GLib writes it back (what fetch_verified reports).
std::string certificate_pem(const std::string& file) {
  GTlsCertificate* c = g_tls_certificate_new_from_file(file.c_str(), nullptr);
  if (c == nullptr) return "";
  gchar* pem = nullptr;
  g_object_get(c, "certificate-pem", &pem, nullptr);
  std::string out = pem != nullptr ? pem : "";
  g_free(pem);
  g_object_unref(c);
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-tls-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string log = dir_ + "/setup.log";
    ASSERT_EQ(make_certificate(dir_, "a", log), "");
    ASSERT_EQ(make_certificate(dir_, "b", log), "");
    const std::string asset = dir_ + "/asset";
    db_ = dir_ + "/ams.db";
    ASSERT_EQ(run_ams({"encode", "--test-source", "4", "--ladder", "180", "--width", "320",
                       "--height", "180", asset},
                      log),
              "");
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", asset, "--db", db_}, log), "");
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_DownloadAndClearStreaming", "--id", kLocator, "--db", db_},
                      log),
              "");
  }
  static void TearDownTestSuite() { remove_tree(dir_); }

  static std::string file(const std::string& name) { return dir_ + "/" + name; }

  static std::string dir_;
  static std::string db_;
};

std::string TlsTest::dir_;
std::string TlsTest::db_;

TEST_F(TlsTest, EveryResourceOverHttpsIsTheBytesHttpServes) {
  const std::string log = file("both.log");
  ServerProcess server(db_,
                       {"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("a.crt"),
                        "--tls-key", file("a.key"), "--threads", "2"},
                       log);
  ASSERT_TRUE(server.started()) << read_file(log);
  const int port = https_port(log);
  ASSERT_NE(port, 0) << read_file(log);
  const std::string https = "https://127.0.0.1:" + std::to_string(port);

  Connection plain(server.port());
  std::string error;
  const std::string base = std::string("/") + kLocator + "/testsrc.ism/";
  std::vector<Resource> all = crawl(plain, base, &error);
  ASSERT_EQ(error, "");
  std::map<std::string, int> kinds;
  for (const Resource& r : all) {
    Fetched f = fetch_verified(https + base + r.path, file("a.crt"));
    ASSERT_EQ(f.error, "") << r.path;
    EXPECT_EQ(f.status, 200u) << r.path;
    EXPECT_TRUE(f.body == r.body) << r.path << ": " << f.body.size() << " bytes over HTTPS, "
                                  << r.body.size() << " over HTTP";
    EXPECT_EQ(f.certificate, certificate_pem(file("a.crt")));
    ++kinds[kind_name(r.kind)];
  }
  // Every kind of answer went over TLS: masters, playlists, init segments, fragments, TS
  // segments and key frames.
  EXPECT_EQ(kinds.size(), 6u) << histogram(kinds);
  Answer mp4 = plain.get(std::string("/") + kLocator + "/testsrc_320x180_AACAudio_508.mp4");
  ASSERT_EQ(mp4.status, 200) << mp4.describe();
  Fetched download =
      fetch_verified(https + "/" + kLocator + "/testsrc_320x180_AACAudio_508.mp4", file("a.crt"));
  EXPECT_TRUE(download.body == mp4.body);

  // A client that trusts another certificate refuses the server's.
  Fetched untrusted = fetch_verified(https + "/healthz", file("b.crt"));
  EXPECT_EQ(untrusted.status, 0u);
  EXPECT_NE(untrusted.error, "");
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(TlsTest, FfmpegPlaysHlsAndDashOverVerifiedHttps) {
  const std::string log = file("ffmpeg.log");
  ServerProcess server(db_,
                       {"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("a.crt"),
                        "--tls-key", file("a.key")},
                       log);
  ASSERT_TRUE(server.started()) << read_file(log);
  const std::string base = "https://127.0.0.1:" + std::to_string(https_port(log)) + "/" + kLocator +
                           "/testsrc.ism/manifest";
  // -extension_picky 0: AMS's segment URLs have no file extension (docs/corpus.md).
  for (const std::string format : {"m3u8-aapl", "m3u8-cmaf", "mpd-time-csf"}) {
    std::vector<std::string> argv = {"ffmpeg",      "-nostdin", "-v",       "error",
                                     "-tls_verify", "1",        "-ca_file", file("a.crt")};
    if (format[0] == 'm' && format[1] == '3') argv.insert(argv.end(), {"-extension_picky", "0"});
    argv.insert(argv.end(), {"-i", base + "(format=" + format + ")", "-f", "null", "-"});
    const std::string run_log = file("ffmpeg-" + format + ".log");
    EXPECT_EQ(run(argv, run_log), "") << format;
    EXPECT_EQ(read_file(run_log), "") << format << ": ffmpeg said something";
    // The same run against a certificate it does not trust fails.
    argv[7] = file("b.crt");
    EXPECT_NE(run(argv, "/dev/null"), "") << format << " played with an untrusted certificate";
  }
}

TEST_F(TlsTest, HttpsAloneWithListenNone) {
  const std::string log = file("alone.log");
  // ServerProcess waits for an http:// line that never comes; the log has the https one.
  ServerProcess server(db_,
                       {"--listen", "none", "--tls-listen", "127.0.0.1:0", "--tls-certificate",
                        file("a.crt"), "--tls-key", file("a.key")},
                       log);
  EXPECT_FALSE(server.started());
  ASSERT_TRUE(server.alive()) << read_file(log);
  const int port = https_port(log);
  ASSERT_NE(port, 0) << read_file(log);
  EXPECT_EQ(read_file(log).find("on http://"), std::string::npos) << read_file(log);
  Fetched f =
      fetch_verified("https://127.0.0.1:" + std::to_string(port) + "/healthz", file("a.crt"));
  EXPECT_EQ(f.status, 200u) << f.error;
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(TlsTest, BadCertificateFilesStopTheServerAtStartWithAMessage) {
  write_file(file("both.pem"), read_file(file("a.crt")) + read_file(file("a.key")));
  write_file(file("truncated.crt"), read_file(file("a.crt")).substr(0, 300));
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--tls-listen", "127.0.0.1:0"}, "--tls-listen needs --tls-certificate"},
      {{"--tls-certificate", file("a.crt"), "--tls-key", file("a.key")},
       "--tls-certificate and --tls-key need --tls-listen"},
      {{"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("a.crt")},
       "no private key in " + file("a.crt") + " (--tls-key names its file)"},
      {{"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("a.crt"), "--tls-key",
        file("b.key")},
       "the private key in " + file("b.key") + " is not the one of the certificate " +
           file("a.crt")},
      {{"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("truncated.crt"), "--tls-key",
        file("a.key")},
       "the TLS certificate " + file("truncated.crt") + ": "},
      {{"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("a.key")},
       "the TLS certificate " + file("a.key") + ": "},
      {{"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("missing.crt")},
       file("missing.crt") + ": "},
      {{"--tls-listen", "127.0.0.1:99999", "--tls-certificate", file("both.pem")},
       "bad port in --tls-listen 127.0.0.1:99999"},
      {{"--listen", "none"}, "nothing to listen on"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string log = file("bad-" + std::to_string(n++) + ".log");
    std::vector<std::string> argv = {ams_binary(), "serve", "--db", db_, "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const std::string failure = run(argv, log);
    EXPECT_NE(failure.find("exited with status 1"), std::string::npos) << c.message << failure;
    EXPECT_NE(read_file(log).find(c.message), std::string::npos) << read_file(log);
  }
  // One file with the certificate and then its key is enough.
  const std::string log = file("one-file.log");
  ServerProcess server(db_, {"--tls-listen", "127.0.0.1:0", "--tls-certificate", file("both.pem")},
                       log);
  ASSERT_TRUE(server.started()) << read_file(log);
  Fetched f = fetch_verified("https://127.0.0.1:" + std::to_string(https_port(log)) + "/healthz",
                             file("a.crt"));
  EXPECT_EQ(f.status, 200u) << f.error;
}

TEST_F(TlsTest, SighupTakesACertificateRenewedInPlace) {
  // The certificate at one path, as certbot renews it: the file changes, the path stays.
  const std::string live = file("live.pem");
  write_file(live, read_file(file("a.crt")) + read_file(file("a.key")));
  const std::string log = file("renew.log");
  ServerProcess server(db_, {"--tls-listen", "127.0.0.1:0", "--tls-certificate", live}, log);
  ASSERT_TRUE(server.started()) << read_file(log);
  const std::string url = "https://127.0.0.1:" + std::to_string(https_port(log)) + "/healthz";
  ASSERT_EQ(fetch_verified(url, file("a.crt")).status, 200u);

  auto hup_and_wait = [&](const std::string& line) {
    kill(server.pid(), SIGHUP);
    for (int i = 0; i < 250 && read_file(log).find(line) == std::string::npos; ++i) g_usleep(20000);
    return read_file(log).find(line) != std::string::npos;
  };
  // A damaged file changes nothing: the old certificate stays.
  write_file(live, read_file(file("b.crt")).substr(0, 200));
  ASSERT_TRUE(hup_and_wait("the configuration stays as it was")) << read_file(log);
  EXPECT_EQ(fetch_verified(url, file("a.crt")).status, 200u);

  write_file(live, read_file(file("b.crt")) + read_file(file("b.key")));
  ASSERT_TRUE(hup_and_wait("SIGHUP: tls-certificate: " + live + " -> " + live +
                           " (its content changed): applied"))
      << read_file(log);
  // New connections get the new certificate; a client that trusts only the old one is refused.
  Fetched renewed = fetch_verified(url, file("b.crt"));
  EXPECT_EQ(renewed.status, 200u) << renewed.error;
  EXPECT_EQ(renewed.certificate, certificate_pem(file("b.crt")));
  EXPECT_EQ(fetch_verified(url, file("a.crt")).status, 0u);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace ams_it
