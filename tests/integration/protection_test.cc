// Content protection through `ams serve`, the keys from `ams locator content-keys --with-secrets`,
// checked by tools that are not ours.
// - AES-128 envelope (HLS v3 and v4, Predefined_ClearKey): `openssl enc -d -aes-128-cbc` turns
//   every encrypted segment back into the bytes the clear locator of the same asset serves, and
//   ffmpeg plays the encrypted streams with the key it fetches from the key delivery URL.
// - CENC (DASH CSF and CMAF, Predefined_MultiDrmCencStreaming), on the `ams encode` asset and on
//   an ffmpeg one (x264 with B-frames at 29.97 fps, AAC with its priming edit list, in files of
//   their own): every representation's init segment and fragments, decrypted by ffmpeg
//   (-decryption_key) and by Shaka Packager (--enable_raw_key_decryption), give back exactly the
//   samples of the clear locator; the MPD validates and signals the key; the ClearKey licence
//   answers the key.
// Key delivery gives envelope keys only, ClearKey common encryption keys only, and nothing goes
// out to a request without the scheme its policy asks for.
#include <glib.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kClear[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e01";
constexpr char kEnvelope[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e02";
constexpr char kDrm[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e03";
constexpr char kCenc[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e04";
// The ffmpeg asset: a clear and a CENC locator.
constexpr char kFfClear[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e05";
constexpr char kFfCenc[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e06";
constexpr char kFfDrm[] = "7b2d9e44-1c3a-4f6b-8e2d-5a9c0b1d2e07";

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
    // Another encoder's output: ffmpeg's x264 (B-frames, 29.97 fps) and AAC (an edit list skips
    // its priming), video and audio in files of their own, a folder without an .ism.
    const std::string ff = dir_ + "/ffasset";
    ASSERT_EQ(g_mkdir_with_parents(ff.c_str(), 0755), 0);
    ASSERT_EQ(run({"ffmpeg",
                   "-v",
                   "error",
                   "-f",
                   "lavfi",
                   "-i",
                   "testsrc2=size=320x180:rate=30000/1001",
                   "-f",
                   "lavfi",
                   "-i",
                   "sine=frequency=440:sample_rate=44100",
                   "-t",
                   "6",
                   "-map",
                   "0:v",
                   "-c:v",
                   "libx264",
                   "-g",
                   "60",
                   "-keyint_min",
                   "60",
                   "-sc_threshold",
                   "0",
                   "-bf",
                   "2",
                   "-pix_fmt",
                   "yuv420p",
                   ff + "/clip_video.mp4",
                   "-map",
                   "1:a",
                   "-t",
                   "6",
                   "-c:a",
                   "aac",
                   "-b:a",
                   "96k",
                   ff + "/clip_audio.mp4"},
                  log),
              "");
    ASSERT_EQ(run_ams({"asset", "create", "ffdemo", "--path", ff, "--db", db_}, log), "");
    const std::tuple<const char*, const char*, const char*> locators[] = {
        {kClear, "demo", "Predefined_ClearStreamingOnly"},
        {kEnvelope, "demo", "Predefined_ClearKey"},
        {kDrm, "demo", "Predefined_MultiDrmStreaming"},
        {kCenc, "demo", "Predefined_MultiDrmCencStreaming"},
        {kFfClear, "ffdemo", "Predefined_ClearStreamingOnly"},
        {kFfCenc, "ffdemo", "Predefined_MultiDrmCencStreaming"},
        {kFfDrm, "ffdemo", "Predefined_MultiDrmStreaming"}};
    for (const auto& [id, asset, policy] : locators) {
      ASSERT_EQ(run_ams({"locator", "create", "--asset", asset, "--policy", policy, "--id", id,
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
  for (const char* format : {"m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf"}) {
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
      if (seg.find("=i,") != std::string::npos) {
        // HLS CMAF's init segment: named before the EXT-X-KEY, so the key does not apply to it
        // (RFC 8216 4.3.2.4): the clear locator's bytes exactly, and nothing after the key.
        EXPECT_LT(playlist.body.find("#EXT-X-MAP:"), playlist.body.find("#EXT-X-KEY:"));
        Answer clear_init =
            c.get(ism(kClear, folder + std::regex_replace(seg, std::regex(",encryption=cbc"), "")));
        EXPECT_TRUE(sealed.body == clear_init.body) << seg;
        continue;
      }
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
  for (const char* format : {"m3u8-aapl", "m3u8-aapl-v3", "m3u8-cmaf"}) {
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
      {ism(kDrm, "manifest(format=m3u8-aapl,encryption=cbcs-aapl)"), 501,
       "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
      {ism(kCenc, "manifest(format=mpd-time-csf)"), 403, "MPE_ENC_ENCRYPTION_REQUIRED"},
      {ism(kCenc, "QualityLevels(400000)/Fragments(video=0,format=mpd-time-csf)"), 403,
       "MPE_ENC_ENCRYPTION_REQUIRED"},
      {ism(kCenc, "QualityLevels(400000)/Fragments(video=i,format=mpd-time-csf)"), 403,
       "MPE_ENC_ENCRYPTION_REQUIRED"},
      {ism(kCenc, "manifest(format=mpd-time-csf,encryption=cbc)"), 403,
       "MPE_ENC_ENCRYPTION_NOT_SET_IN_DELIVERY_POLICY"},
      {ism(kCenc, "manifest(encryption=cenc)"), 501, "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
      {ism(kCenc, "manifest(format=mpd-time-cmaf,encryption=cbcs)"), 403,
       "MPE_ENC_ENCRYPTION_NOT_SET_IN_DELIVERY_POLICY"},
      {ism(kDrm, "manifest(format=mpd-time-csf,encryption=cbcs)"), 501,
       "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
      {ism(kDrm, "manifest(format=m3u8-aapl,encryption=cbcs)"), 501,
       "MPE_ENC_ENCRYPTION_NOT_SUPPORTED"},
      {ism(kEnvelope, "manifest(format=m3u8-aapl,encryption=bogus)"), 400, "MPE_BAD_REQUEST"},
  };
  for (const Case& k : cases) {
    Answer a = c.get(k.path);
    EXPECT_EQ(a.status, k.status) << k.path << "\n" << a.describe();
    EXPECT_EQ(hresult_of(a), k.hresult) << k.path;
    EXPECT_EQ(ams_error_problem(a), "") << k.path;
  }
}

// --- CENC -------------------------------------------------------------------------------------

// "" when `mpd` validates against the DASH schema beside the tree (absent: a failure, not a skip).
std::string schema_problem(const std::string& mpd, const std::string& dir) {
  const char* root = g_getenv("AMS_SOURCE_ROOT");
  const std::string schemas = std::string(root != nullptr ? root : ".") + "/../shared/schemas/dash";
  if (!g_file_test((schemas + "/DASH-MPD.xsd").c_str(), G_FILE_TEST_EXISTS)) {
    return "the DASH schema is absent: " + schemas;
  }
  write_file(dir + "/check.mpd", mpd);
  g_setenv("XML_CATALOG_FILES", (schemas + "/catalog.xml").c_str(), TRUE);
  return run(
      {"xmllint", "--noout", "--nonet", "--schema", schemas + "/DASH-MPD.xsd", dir + "/check.mpd"},
      dir + "/xmllint.log");
}

// One Representation of an MPD: its init segment and fragments, host-relative.
struct Representation {
  std::string init;
  std::vector<std::string> media;
  bool audio = false;
};

std::string xml_attr(const std::string& attrs, const std::string& name) {
  std::smatch m;
  return std::regex_search(attrs, m, std::regex("\\b" + name + "=\"([^\"]*)\"")) ? m[1].str() : "";
}

// Every Representation of an MPD as gst-ams writes it: one SegmentTemplate ($Bandwidth$, $Time$)
// and SegmentTimeline per AdaptationSet, or per Representation.
std::vector<Representation> representations(const std::string& mpd, const std::string& base) {
  std::vector<Representation> out;
  std::regex set(R"(<AdaptationSet([^>]*)>([\s\S]*?)</AdaptationSet>)");
  for (auto it = std::sregex_iterator(mpd.begin(), mpd.end(), set); it != std::sregex_iterator();
       ++it) {
    const std::string attrs = (*it)[1].str(), body = (*it)[2].str();
    std::smatch t;
    if (!std::regex_search(body, t,
                           std::regex(R"(<SegmentTemplate([^>]*)>([\s\S]*?)</SegmentTemplate>)")))
      continue;
    const std::string tmpl = t[1].str(), timeline = t[2].str();
    std::vector<int64_t> times;
    int64_t now = 0;
    std::regex s_el(R"(<S([^>]*)/>)");
    for (auto s = std::sregex_iterator(timeline.begin(), timeline.end(), s_el);
         s != std::sregex_iterator(); ++s) {
      const std::string a = (*s)[1].str();
      if (!xml_attr(a, "t").empty()) now = std::stoll(xml_attr(a, "t"));
      const int64_t d = std::stoll(xml_attr(a, "d"));
      const int r = xml_attr(a, "r").empty() ? 0 : std::stoi(xml_attr(a, "r"));
      for (int k = 0; k <= r; ++k, now += d) times.push_back(now);
    }
    std::regex rep(R"(<Representation([^>]*)>)");
    for (auto r = std::sregex_iterator(body.begin(), body.end(), rep); r != std::sregex_iterator();
         ++r) {
      const std::string bw = xml_attr((*r)[1].str(), "bandwidth");
      auto fill = [&](std::string s, int64_t time) {
        s = std::regex_replace(s, std::regex(R"(\$Bandwidth\$)"), bw);
        return base + std::regex_replace(s, std::regex(R"(\$Time\$)"), std::to_string(time));
      };
      Representation one;
      one.audio = xml_attr(attrs, "contentType") == "audio";
      one.init = fill(xml_attr(tmpl, "initialization"), 0);
      for (int64_t time : times) one.media.push_back(fill(xml_attr(tmpl, "media"), time));
      out.push_back(std::move(one));
    }
  }
  return out;
}

// What ffmpeg reads of every packet of a file: "size, md5" per packet, in order (framemd5's last
// two columns; stream copy, so the md5 is of the sample's bytes).
std::string packet_hashes(const std::vector<std::string>& ffmpeg_input_args, const std::string& dir,
                          std::string* whole = nullptr) {
  const std::string out = dir + "/packets.framemd5";
  std::vector<std::string> argv = {"ffmpeg", "-v", "error", "-y"};
  argv.insert(argv.end(), ffmpeg_input_args.begin(), ffmpeg_input_args.end());
  for (const char* a : {"-map", "0", "-c", "copy", "-f", "framemd5"}) argv.push_back(a);
  argv.push_back(out);
  const std::string problem = run(argv, dir + "/ffmpeg.log");
  if (!problem.empty()) return "ffmpeg failed: " + problem + read_file(dir + "/ffmpeg.log");
  const std::string text = read_file(out);
  if (whole != nullptr) *whole = text;
  std::string hashes;
  // (The first packet of an encrypted file carries its pssh as side data: ", S=1, ...".)
  std::regex line(R"(^\s*\d+,\s*-?\d+,\s*-?\d+,\s*\d+,\s*(\d+),\s*([0-9a-f]{32})(,.*)?$)");
  size_t start = 0;
  int packets = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::smatch m;
    const std::string l = text.substr(start, end - start);
    if (std::regex_match(l, m, line)) {
      hashes += m[1].str() + " " + m[2].str() + "\n";
      ++packets;
    }
    start = end + 1;
  }
  return packets > 0 ? hashes : "no packets in " + text;
}

std::string shaka_packager() {
  const char* root = g_getenv("AMS_SOURCE_ROOT");
  return std::string(root != nullptr ? root : ".") +
         "/tests/e2e/node_modules/shaka-packager/bin/packager-linux-x64";
}

struct CencCase {
  const char* clear;
  const char* cenc;
  const char* name;    // the .ism name of the URL
  const char* scheme;  // the URL's encryption=
  std::vector<const char*> formats;
};

TEST_F(ProtectionTest, CencDecryptsWithFfmpegAndShakaPackagerToTheClearSamples) {
  ASSERT_TRUE(g_file_test(shaka_packager().c_str(), G_FILE_TEST_IS_EXECUTABLE))
      << "Shaka Packager is missing: " << shaka_packager() << " (scripts/setup.sh installs it)";
  Connection c(server_->port());
  const std::vector<CencCase> cases = {
      {kClear, kCenc, "testsrc", "cenc", {"mpd-time-csf", "mpd-time-cmaf"}},
      {kFfClear, kFfCenc, "ffasset", "cenc", {"mpd-time-csf", "mpd-time-cmaf"}},
      // Predefined_MultiDrmStreaming's CBCS key: DASH CMAF (HLS CMAF has the same bytes, below).
      {kClear, kDrm, "testsrc", "cbcs", {"mpd-time-cmaf"}},
      {kFfClear, kFfDrm, "ffasset", "cbcs", {"mpd-time-cmaf"}}};
  for (const CencCase& k : cases) {
    const std::string scheme = k.scheme;
    const std::string arg = ",encryption=" + scheme;
    Key key;
    for (const Key& each : keys_of(db_, k.cenc, dir_)) {
      if (each.type == (scheme == "cenc" ? "CommonEncryptionCenc" : "CommonEncryptionCbcs")) {
        key = each;
      }
    }
    ASSERT_EQ(key.value.size(), 16u) << k.cenc << " has no " << scheme << " key";
    const std::string kid_hex = std::regex_replace(key.id, std::regex("-"), "");
    for (const char* format : k.formats) {
      SCOPED_TRACE(std::string(k.name) + " " + format + " " + scheme);
      const std::string base = std::string("/") + k.cenc + "/" + k.name + ".ism/";
      const std::string clear_base = std::string("/") + k.clear + "/" + k.name + ".ism/";
      Answer mpd = c.get(base + "manifest(format=" + format + arg + ")");
      ASSERT_EQ(mpd.status, 200) << mpd.describe();
      EXPECT_EQ(schema_problem(mpd.body, dir_), "");
      // Every AdaptationSet: the scheme with the key id, ClearKey with its licence URL on the
      // host asked, and the W3C common pssh.
      const std::regex set_open("<AdaptationSet");
      const size_t sets = static_cast<size_t>(
          std::distance(std::sregex_iterator(mpd.body.begin(), mpd.body.end(), set_open),
                        std::sregex_iterator()));
      const auto count = [&](const std::string& what) {
        size_t n = 0;
        for (size_t at = mpd.body.find(what); at != std::string::npos;
             at = mpd.body.find(what, at + 1)) {
          ++n;
        }
        return n;
      };
      EXPECT_GE(sets, 2u);
      EXPECT_EQ(count("<ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" "
                      "value=\"" +
                      scheme + "\" cenc:default_KID=\"" + key.id + "\""),
                sets)
          << mpd.body;
      // (The Host this client sends is 127.0.0.1, without the port.)
      EXPECT_EQ(count("<dashif:Laurl>http://127.0.0.1/keydelivery/clearkey/</dashif:Laurl>"), sets)
          << mpd.body;
      std::smatch pssh;
      ASSERT_TRUE(std::regex_search(mpd.body, pssh, std::regex("<cenc:pssh>([^<]+)</cenc:pssh>")));
      gsize n = 0;
      guchar* raw = g_base64_decode(pssh[1].str().c_str(), &n);
      const std::string box(reinterpret_cast<char*>(raw), n);
      g_free(raw);
      // size, 'pssh', version 1, flags, the common system id, 1 key id, the key id, no data.
      ASSERT_EQ(box.size(), 52u);
      EXPECT_EQ(hex(box.substr(4, 8)), "7073736801000000");
      EXPECT_EQ(hex(box.substr(12, 16)), "1077efecc0b24d02ace33c1e52e2fb4b");
      EXPECT_EQ(hex(box.substr(28, 4)), "00000001");
      EXPECT_EQ(hex(box.substr(32, 16)), kid_hex);

      if (scheme == "cbcs") {
        // The HLS CMAF playlists name the same key: SAMPLE-AES with the common pssh.
        Answer master = c.get(base + "manifest(format=m3u8-cmaf" + arg + ")");
        ASSERT_EQ(master.status, 200) << master.describe();
        std::smatch m;
        ASSERT_TRUE(std::regex_search(
            master.body, m, std::regex(R"((QualityLevels\(\d+\)/Manifest\(video,[^)]*\)))")));
        Answer playlist = c.get(base + m[1].str());
        ASSERT_EQ(playlist.status, 200) << playlist.describe();
        EXPECT_NE(playlist.body.find(
                      "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64," + pssh[1].str() +
                      "\",KEYFORMAT=\"urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b\""),
                  std::string::npos)
            << playlist.body;
        EXPECT_NE(playlist.body.find(",encryption=cbcs)"), std::string::npos);
      }
      std::vector<Representation> reps = representations(mpd.body, base);
      ASSERT_GE(reps.size(), 2u);
      for (const Representation& rep : reps) {
        SCOPED_TRACE(rep.init);
        ASSERT_NE(rep.init.find(arg + ")"), std::string::npos);
        std::string enc, clear;
        auto fetch = [&](const std::string& path, std::string& into, bool head_check) {
          Answer a = c.get(path);
          ASSERT_EQ(a.status, 200) << path << "\n" << a.describe();
          EXPECT_EQ(body_problem(a), "") << path;
          if (head_check) {
            Answer head = c.request("HEAD", path);
            EXPECT_EQ(head.header("content-length"), std::to_string(a.body.size())) << path;
          }
          into += a.body;
        };
        auto clear_of = [&](const std::string& path) {
          return clear_base + std::regex_replace(path.substr(base.size()), std::regex(arg), "");
        };
        // cbcs: HLS CMAF serves the very same bytes (one set of segments for both).
        auto same_for_hls = [&](const std::string& path, const std::string& bytes) {
          if (scheme != "cbcs") return;
          const std::string hls =
              std::regex_replace(path, std::regex("format=mpd-time-cmaf"), "format=m3u8-cmaf");
          Answer h = c.get(hls);
          ASSERT_EQ(h.status, 200) << hls << "\n" << h.describe();
          EXPECT_TRUE(h.body == bytes) << hls << ": not the DASH CMAF bytes";
        };
        std::string enc_init, clear_init;
        fetch(rep.init, enc_init, false);
        same_for_hls(rep.init, enc_init);
        fetch(clear_of(rep.init), clear_init, false);
        EXPECT_NE(enc_init.find(rep.audio ? "enca" : "encv"), std::string::npos);
        enc = enc_init;
        clear = clear_init;
        ASSERT_GE(rep.media.size(), 2u);
        const std::string enc_file = dir_ + "/track-cenc.mp4", clear_file = dir_ + "/track.mp4";
        for (size_t i = 0; i < rep.media.size(); ++i) {
          SCOPED_TRACE(rep.media[i]);
          std::string enc_fragment, clear_fragment;
          fetch(rep.media[i], enc_fragment, i == 0);
          same_for_hls(rep.media[i], enc_fragment);
          fetch(clear_of(rep.media[i]), clear_fragment, false);
          // (cbcs audio: a constant IV and whole-sample encryption need no sample information.)
          if (scheme == "cenc" || !rep.audio) {
            EXPECT_NE(enc_fragment.find("senc"), std::string::npos);
          }
          enc += enc_fragment;
          clear += clear_fragment;
          // ffmpeg 5.1 decrypts a fragmented CENC file only while it holds one fragment (with
          // several and no sidx it loses the sample count, Shaka Packager's own output included):
          // each fragment, behind its init segment.
          write_file(enc_file, enc_init + enc_fragment);
          write_file(clear_file, clear_init + clear_fragment);
          const std::string want = packet_hashes({"-i", clear_file}, dir_);
          ASSERT_EQ(want.find("ffmpeg failed"), std::string::npos) << want;
          // The encrypted packets differ from the clear ones...
          EXPECT_NE(packet_hashes({"-i", enc_file}, dir_), want);
          // ...and ffmpeg's CENC decryption gives back every sample, byte for byte.
          const std::string got =
              packet_hashes({"-decryption_key", hex(key.value), "-i", enc_file}, dir_);
          EXPECT_TRUE(got == want) << "ffmpeg's decryption differs:\n"
                                   << got.substr(0, 300) << "\nclear:\n"
                                   << want.substr(0, 300);
        }
        write_file(enc_file, enc);
        write_file(clear_file, clear);
        const std::string want = packet_hashes({"-i", clear_file}, dir_);
        // Shaka Packager's raw-key decryption, into a clear MP4: the same samples.
        const std::string dec_file = dir_ + "/track-shaka.mp4";
        ::unlink(dec_file.c_str());
        EXPECT_EQ(run({shaka_packager(),
                       "in=" + enc_file + ",stream=" + (rep.audio ? "audio" : "video") +
                           ",output=" + dec_file,
                       "--enable_raw_key_decryption", "--keys",
                       "key_id=" + kid_hex + ":key=" + hex(key.value)},
                      dir_ + "/packager.log"),
                  "")
            << read_file(dir_ + "/packager.log");
        const std::string got = packet_hashes({"-i", dec_file}, dir_);
        EXPECT_TRUE(got == want) << "Shaka Packager's decryption differs:\n"
                                 << got.substr(0, 300) << "\nclear:\n"
                                 << want.substr(0, 300);
      }
    }
  }
}

TEST_F(ProtectionTest, ClearKeyLicenceGivesCommonEncryptionKeysOnly) {
  Connection c(server_->port());
  const Key cenc = keys_of(db_, kCenc, dir_).at(0);
  auto b64url = [](const std::string& bytes) {
    gchar* b = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
    std::string s = b;
    g_free(b);
    s = std::regex_replace(s, std::regex("\\+"), "-");
    s = std::regex_replace(s, std::regex("/"), "_");
    return std::regex_replace(s, std::regex("=+$"), "");
  };
  auto kid_bytes = [](const std::string& guid) {
    std::string digits = std::regex_replace(guid, std::regex("-"), ""), out;
    for (size_t i = 0; i < 32; i += 2)
      out += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
    return out;
  };
  auto post = [&](const std::string& body) {
    return c.post("/keydelivery/clearkey/", body, {{"Content-Type", "application/json"}});
  };
  const std::string kid = b64url(kid_bytes(cenc.id));
  Answer a = post("{\"kids\":[\"" + kid + "\"],\"type\":\"temporary\"}");
  ASSERT_EQ(a.status, 200) << a.describe();
  EXPECT_EQ(a.header("content-type"), "application/json");
  EXPECT_EQ(a.header("cache-control"), "private, no-store");
  EXPECT_EQ(a.body, "{\"keys\":[{\"k\":\"" + b64url(cenc.value) + "\",\"kid\":\"" + kid +
                        "\",\"kty\":\"oct\"}],\"type\":\"temporary\"}");
  // An envelope key, an unknown id: left out, and with nothing left, 404.
  const std::string envelope = b64url(kid_bytes(key_.id));
  EXPECT_EQ(post("{\"kids\":[\"" + envelope + "\"]}").status, 404);
  EXPECT_EQ(post("{\"kids\":[\"AAAAAAAAQACAAAAAAAAAAA\"]}").status, 404);
  Answer both = post("{\"kids\":[\"" + envelope + "\",\"" + kid + "\"]}");
  ASSERT_EQ(both.status, 200);
  EXPECT_EQ(both.body.find(b64url(key_.value)), std::string::npos);
  EXPECT_NE(both.body.find(b64url(cenc.value)), std::string::npos);
  // Malformed requests.
  for (const char* bad : {"", "[]", "{\"kids\":[]}", "{\"kids\":[\"short\"]}", "{\"kids\":\"x\"}",
                          "{\"kids\":[\""
                          "AAAAAAAAQACAAAAAAAAAAA"
                          "\"],\"type\":\"forever\"}",
                          "not json"}) {
    Answer m = post(bad);
    EXPECT_EQ(m.status, 400) << bad;
    EXPECT_EQ(ams_error_problem(m), "") << bad;
  }
  // A body past 64 KiB is refused before it is read.
  EXPECT_EQ(post(std::string(70000, ' ')).status, 413);
  // A page on another origin may POST its licence request.
  Answer pre = c.request("OPTIONS", "/keydelivery/clearkey/",
                         {{"Origin", "http://example.test"},
                          {"Access-Control-Request-Method", "POST"},
                          {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_NE(pre.header("access-control-allow-methods").find("POST"), std::string::npos);
  // GET is not how a licence is asked for.
  EXPECT_EQ(c.get("/keydelivery/clearkey/").status, 405);
}

}  // namespace
}  // namespace ams_it
