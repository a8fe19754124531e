// AES-128 envelope encryption (issue 13, the first scheme): HLS v3 and v4 through a locator under
// Predefined_ClearKey, the key from `ams locator content-keys --with-secrets`, checked by tools
// that are not ours: `openssl enc -d -aes-128-cbc` turns every encrypted segment back into the
// bytes the clear locator of the same asset serves, and ffmpeg plays the encrypted streams with
// the key it fetches from the key delivery URL the playlists name. Key delivery gives envelope
// keys only, and nothing to a request without the scheme its policy asks for.
#include <glib.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kClear[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e01";
constexpr char kEnvelope[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e02";
constexpr char kDrm[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e03";

struct Key {
  std::string id;
  std::string value;  // 16 bytes
  std::string type;
};

// The keys `ams locator content-keys ID --with-secrets` prints.
std::vector<Key> keys_of(const std::string& db, const char* locator, const std::string& dir) {
  const std::string out = dir + "/keys-" + locator + ".json";
  EXPECT_EQ(run_ams({"locator", "content-keys", locator, "--with-secrets", "--db", db}, out), "");
  const std::string text = read_file(out);
  std::vector<Key> keys;
  std::regex entry(
      R"x("id"\s*:\s*"([0-9a-f-]{36})"[^}]*?"type"\s*:\s*"(\w+)"[^}]*?"value"\s*:\s*"([A-Za-z0-9+/=]+)")x");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry);
       it != std::sregex_iterator(); ++it) {
    gsize n = 0;
    guchar* raw = g_base64_decode((*it)[3].str().c_str(), &n);
    keys.push_back({(*it)[1].str(), std::string(reinterpret_cast<char*>(raw), n), (*it)[2].str()});
    g_free(raw);
  }
  return keys;
}

std::string hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

class ProtectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-protection-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string log = dir_ + "/setup.log";
    db_ = dir_ + "/ams.db";
    ASSERT_EQ(run_ams({"encode", "--test-source", "8", "--ladder", "240:400,180:200", "--width",
                       "426", "--height", "240", dir_ + "/asset"},
                      log),
              "");
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", dir_ + "/asset", "--db", db_}, log),
              "");
    const std::pair<const char*, const char*> locators[] = {
        {kClear, "Predefined_ClearStreamingOnly"},
        {kEnvelope, "Predefined_ClearKey"},
        {kDrm, "Predefined_MultiDrmStreaming"}};
    for (const auto& [id, policy] : locators) {
      ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy", policy, "--id", id,
                         "--db", db_},
                        log),
                "");
    }
    std::vector<Key> keys = keys_of(db_, kEnvelope, dir_);
    ASSERT_EQ(keys.size(), 1u);
    key_ = keys[0];
    ASSERT_EQ(key_.type, "EnvelopeEncryption");
    ASSERT_EQ(key_.value.size(), 16u);
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
  static Key key_;
  static ServerProcess* server_;
};

std::string ProtectionTest::dir_;
std::string ProtectionTest::db_;
Key ProtectionTest::key_;
ServerProcess* ProtectionTest::server_ = nullptr;

TEST_F(ProtectionTest, EverySegmentDecryptsWithOpensslToTheClearBytes) {
  Connection c(server_->port());
  for (const char* format : {"m3u8-aapl", "m3u8-aapl-v3"}) {
    SCOPED_TRACE(format);
    Answer master =
        c.get(ism(kEnvelope, std::string("manifest(format=") + format + ",encryption=cbc)"));
    ASSERT_EQ(master.status, 200) << master.describe();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(master.body, m,
                                  std::regex(R"((QualityLevels\(\d+\)/Manifest\(video,[^)]*\)))")));
    const std::string playlist_path = m[1].str();
    EXPECT_NE(playlist_path.find(",encryption=cbc)"), std::string::npos) << playlist_path;
    Answer playlist = c.get(ism(kEnvelope, playlist_path));
    ASSERT_EQ(playlist.status, 200) << playlist.describe();
    const std::string tag = "#EXT-X-KEY:METHOD=AES-128,URI=\"/keydelivery/?kid=" + key_.id +
                            "\",IV=0x" + std::regex_replace(key_.id, std::regex("-"), "");
    EXPECT_NE(playlist.body.find(tag + "\n"), std::string::npos) << playlist.body;
    const std::string folder = playlist_path.substr(0, playlist_path.find('/') + 1);
    std::regex segment(R"((Fragments\([^)]*\)))");
    int segments = 0;
    for (auto it = std::sregex_iterator(playlist.body.begin(), playlist.body.end(), segment);
         it != std::sregex_iterator(); ++it) {
      const std::string seg = (*it)[1].str();
      ASSERT_NE(seg.find(",encryption=cbc)"), std::string::npos) << seg;
      Answer sealed = c.get(ism(kEnvelope, folder + seg));
      ASSERT_EQ(sealed.status, 200) << sealed.describe();
      EXPECT_EQ(sealed.body.size() % 16, 0u);
      EXPECT_EQ(sealed.header("content-length"), std::to_string(sealed.body.size()));
      Answer head = c.request("HEAD", ism(kEnvelope, folder + seg));
      EXPECT_EQ(head.header("content-length"), std::to_string(sealed.body.size()));
      // The same segment of the clear locator: the URL without its encryption.
      const std::string clear_path =
          folder + std::regex_replace(seg, std::regex(",encryption=cbc"), "");
      Answer clear = c.get(ism(kClear, clear_path));
      ASSERT_EQ(clear.status, 200) << clear.describe();
      EXPECT_NE(sealed.body.substr(0, 188), clear.body.substr(0, 188));
      const std::string in = dir_ + "/sealed.ts", out = dir_ + "/opened.ts";
      write_file(in, sealed.body);
      ASSERT_EQ(run({"openssl", "enc", "-d", "-aes-128-cbc", "-K", hex(key_.value), "-iv",
                     std::regex_replace(key_.id, std::regex("-"), ""), "-in", in, "-out", out},
                    dir_ + "/openssl.log"),
                "");
      EXPECT_TRUE(read_file(out) == clear.body) << seg << ": openssl's plaintext differs";
      ++segments;
    }
    EXPECT_GE(segments, 2);
  }
  // The I-frame playlist and its key frames are encrypted too.
  Answer iframes = c.get(
      ism(kEnvelope,
          "QualityLevels(400000)/Manifest(video,format=m3u8-aapl,type=keyframes,encryption=cbc)"));
  ASSERT_EQ(iframes.status, 200) << iframes.describe();
  EXPECT_NE(iframes.body.find("#EXT-X-KEY:METHOD=AES-128"), std::string::npos) << iframes.body;
  Answer key_frame = c.get(
      ism(kEnvelope, "QualityLevels(400000)/KeyFrames(video=0,format=m3u8-aapl,encryption=cbc)"));
  ASSERT_EQ(key_frame.status, 200) << key_frame.describe();
  EXPECT_EQ(key_frame.body.size() % 16, 0u);
}

TEST_F(ProtectionTest, FfmpegPlaysTheEncryptedStreamsWithTheDeliveredKey) {
  for (const char* format : {"m3u8-aapl", "m3u8-aapl-v3"}) {
    auto frames = [&](const char* locator, const std::string& args) {
      const std::string log = dir_ + "/ffprobe-" + locator + format + ".log";
      EXPECT_EQ(
          run({"ffprobe", "-v", "error", "-extension_picky", "0", "-count_frames",
               "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
               url(locator, "manifest(format=" + std::string(format) + args + ")")},
              log),
          "")
          << format;
      std::smatch m;
      const std::string text = read_file(log);
      return std::regex_search(text, m, std::regex(R"((\d+)\s*$)")) ? std::stoi(m[1].str()) : -1;
    };
    const int clear = frames(kClear, "");
    EXPECT_EQ(clear, 240) << format;  // 8 s at 30 fps
    EXPECT_EQ(frames(kEnvelope, ",encryption=cbc"), clear) << format;
  }
}

TEST_F(ProtectionTest, KeyDeliveryGivesEnvelopeKeysOnly) {
  Connection c(server_->port());
  Answer key = c.get("/keydelivery/?kid=" + key_.id);
  ASSERT_EQ(key.status, 200) << key.describe();
  EXPECT_TRUE(key.body == key_.value);
  EXPECT_EQ(key.header("content-type"), "application/octet-stream");
  EXPECT_EQ(key.header("cache-control"), "private, no-store");
  // AMS's v2 spelling, KID=, is the same parameter.
  std::string upper = key_.id;
  for (char& ch : upper) ch = static_cast<char>(g_ascii_toupper(ch));
  EXPECT_TRUE(c.get("/keydelivery/?KID=" + upper).body == key_.value);
  // CENC and CBCS keys go to licence servers, never in the clear: the same 404 as no key.
  std::vector<Key> drm = keys_of(db_, kDrm, dir_);
  ASSERT_FALSE(drm.empty());
  for (const Key& k : drm) {
    Answer a = c.get("/keydelivery/?kid=" + k.id);
    EXPECT_EQ(a.status, 404) << k.type;
    EXPECT_EQ(ams_error_problem(a), "");
    EXPECT_EQ(a.body.find(hex(k.value)), std::string::npos);
  }
  EXPECT_EQ(c.get("/keydelivery/?kid=00000000-0000-4000-8000-000000000000").status, 404);
  EXPECT_EQ(c.get("/keydelivery/?kid=nope").status, 400);
  EXPECT_EQ(c.get("/keydelivery/").status, 400);
}

TEST_F(ProtectionTest, NothingClearLeavesAnEncryptedLocator) {
  Connection c(server_->port());
  struct Case {
    std::string path;
    int status;
    std::string hresult;
  };
  const std::vector<Case> cases = {
      {ism(kEnvelope, "manifest(format=m3u8-aapl)"), 403, "MPE_ENC_ENCRYPTION_REQUIRED"},
      {ism(kEnvelope, "QualityLevels(400000)/Fragments(video=0,format=m3u8-aapl)"), 403,
       "MPE_ENC_ENCRYPTION_REQUIRED"},
      {ism(kEnvelope, "manifest(format=m3u8-aapl,encryption=cenc)"), 403,
       "MPE_ENC_ENCRYPTION_NOT_SET_IN_DELIVERY_POLICY"},
      {ism(kClear, "manifest(format=m3u8-aapl,encryption=cbc)"), 403,
       "MPE_ENC_ENCRYPTION_NOT_SET_IN_DELIVERY_POLICY"},
      {ism(kEnvelope, "manifest(format=mpd-time-csf,encryption=cbc)"), 501,
       "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
      {ism(kEnvelope, "manifest(format=m3u8-cmaf,encryption=cbc)"), 501,
       "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
      {ism(kDrm, "manifest(format=mpd-time-csf,encryption=cenc)"), 501,
       "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
  };
  for (const Case& k : cases) {
    Answer a = c.get(k.path);
    EXPECT_EQ(a.status, k.status) << k.path << "\n" << a.describe();
    EXPECT_EQ(hresult_of(a), k.hresult) << k.path;
    EXPECT_EQ(ams_error_problem(a), "") << k.path;
  }
}

}  // namespace
}  // namespace ams_it
