// Key delivery under a content key policy with a token restriction (issue 13), through `ams serve`.
// The policy is made with `ams content-key-policy create` (a symmetric primary key, a symmetric
// and an RSA alternate, the content key identifier and one more claim required); every JWT is
// made here with the openssl command line (`openssl dgst -mac HMAC` and `-sign`, base64url by
// hand), never with libjwt, which the server verifies them with. A valid token gets the 16 bytes,
// each broken one a 401 naming its check; ffmpeg plays the AES-128 HLS stream with the token in
// a header and fails without it; no log line holds a token.
#include <glib.h>
#include <gtest/gtest.h>

#include <ctime>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"

namespace ams_it {
namespace {

constexpr char kLocator[] = "5c1d7a30-8e2b-4f4c-9a6d-3b0e1f2a4c01";
constexpr char kOther[] = "5c1d7a30-8e2b-4f4c-9a6d-3b0e1f2a4c02";
constexpr char kCenc[] = "5c1d7a30-8e2b-4f4c-9a6d-3b0e1f2a4c03";
constexpr char kIssuer[] = "https://sts.example/";
constexpr char kAudience[] = "urn:gst-ams:test";
constexpr char kKeyIdClaim[] = "urn:microsoft:azure:mediaservices:contentkeyidentifier";
// The symmetric keys, hex (what openssl's -macopt hexkey takes).
const std::string kPrimaryHex(64, 'a');
const std::string kAlternateHex = std::string(32, '1') + std::string(32, '2');

std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

std::string base64(const std::string& bytes) {
  gchar* text = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
  std::string out = text;
  g_free(text);
  return out;
}

std::string base64url(const std::string& bytes) {
  std::string out;
  for (char c : base64(bytes)) {
    if (c == '=') break;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::string url_encode(const std::string& text) {
  gchar* escaped = g_uri_escape_string(text.c_str(), nullptr, FALSE);
  std::string out = escaped;
  g_free(escaped);
  return out;
}

int64_t now() {
  return static_cast<int64_t>(std::time(nullptr));
}

// One claim set, written out as JSON by hand (no JSON library: the text is what is signed).
struct Claims {
  std::string iss = kIssuer;
  std::string aud = kAudience;
  std::string key_id;  // the content key identifier claim; "" leaves it out
  std::string role = "viewer";
  std::optional<int64_t> exp = now() + 3600;
  std::optional<int64_t> nbf = now() - 10;

  std::string json() const {
    std::string out = "{\"iss\":\"" + iss + "\",\"aud\":\"" + aud + "\"";
    if (!key_id.empty()) out += std::string(",\"") + kKeyIdClaim + "\":\"" + key_id + "\"";
    if (!role.empty()) out += ",\"urn:gst-ams:role\":\"" + role + "\"";
    if (exp) out += ",\"exp\":" + std::to_string(*exp);
    if (nbf) out += ",\"nbf\":" + std::to_string(*nbf);
    return out + "}";
  }
};

struct Key {
  std::string id;
  std::string value;
};

// The key of a locator, from `ams locator content-keys --with-secrets`.
Key key_of(const std::string& db, const char* locator, const std::string& dir) {
  const std::string out = dir + "/keys-" + locator + ".json";
  EXPECT_EQ(run_ams({"locator", "content-keys", locator, "--with-secrets", "--db", db}, out), "");
  const std::string text = read_file(out);
  std::smatch m;
  EXPECT_TRUE(std::regex_search(
      text, m,
      std::regex(R"x("id"\s*:\s*"([0-9a-f-]{36})"[^}]*?"value"\s*:\s*"([A-Za-z0-9+/=]+)")x")))
      << text;
  EXPECT_NE(text.find("\"policyName\": \"tokens\""), std::string::npos) << text;
  gsize n = 0;
  guchar* raw = g_base64_decode(m[2].str().c_str(), &n);
  Key key{m[1].str(), std::string(reinterpret_cast<char*>(raw), n)};
  g_free(raw);
  return key;
}

class TokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("ams-token-XXXXXX");
    ASSERT_FALSE(dir_.empty());
    const std::string log = dir_ + "/setup.log";
    db_ = dir_ + "/ams.db";
    ASSERT_EQ(run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                   "-out", dir_ + "/private.pem"},
                  log),
              "");
    ASSERT_EQ(run({"openssl", "pkey", "-in", dir_ + "/private.pem", "-pubout", "-out",
                   dir_ + "/public.pem"},
                  log),
              "");
    write_file(dir_ + "/primary.key", base64(unhex(kPrimaryHex)));
    ASSERT_EQ(run_ams({"encode", "--test-source", "8", "--ladder", "240:400,180:200", "--width",
                       "426", "--height", "240", dir_ + "/asset"},
                      log),
              "");
    ASSERT_EQ(run_ams({"asset", "create", "demo", "--path", dir_ + "/asset", "--db", db_}, log),
              "");
    ASSERT_EQ(run_ams({"content-key-policy", "create", "tokens", "--token-hs256",
                       "@" + dir_ + "/primary.key", "--alternate-hs256",
                       base64(unhex(kAlternateHex)), "--alternate-rs256-pem", dir_ + "/public.pem",
                       "--issuer", kIssuer, "--audience", kAudience, "--require-key-id",
                       "--require-claim", "urn:gst-ams:role=viewer", "--db", db_},
                      log),
              "");
    for (const char* id : {kLocator, kOther}) {
      ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy", "Predefined_ClearKey",
                         "--id", id, "--content-key-policy", "tokens", "--db", db_},
                        log),
                "");
    }
    ASSERT_EQ(run_ams({"locator", "create", "--asset", "demo", "--policy",
                       "Predefined_MultiDrmCencStreaming", "--id", kCenc, "--content-key-policy",
                       "tokens", "--db", db_},
                      log),
              "");
    cenc_key_ = key_of(db_, kCenc, dir_);
    key_ = key_of(db_, kLocator, dir_);
    other_key_ = key_of(db_, kOther, dir_);
    ASSERT_EQ(key_.value.size(), 16u);
    server_ = new ServerProcess(db_, {"--access-log", dir_ + "/access.log"}, dir_ + "/serve.log");
    ASSERT_TRUE(server_->started()) << read_file(dir_ + "/serve.log");
  }
  static void TearDownTestSuite() {
    delete server_;
    remove_tree(dir_);
  }

  // A JWS of `claims` under `header`: HMAC-SHA-256 with the hex key, or, with `rsa_key` (a PEM
  // file), RSASSA-PKCS1-v1_5 SHA-256, both by `openssl dgst`. Every token made is remembered, so
  // that the logs can be searched for it.
  static std::string sign(const std::string& header, const std::string& claims,
                          const std::string& hex_key, const std::string& rsa_key = "") {
    const std::string input = base64url(header) + "." + base64url(claims);
    const std::string in = dir_ + "/input.txt", out = dir_ + "/signature.bin";
    write_file(in, input);
    std::vector<std::string> argv = {"openssl", "dgst", "-sha256", "-binary", "-out", out};
    if (rsa_key.empty()) {
      argv.insert(argv.end(), {"-mac", "HMAC", "-macopt", "hexkey:" + hex_key});
    } else {
      argv.insert(argv.end(), {"-sign", rsa_key});
    }
    argv.push_back(in);
    EXPECT_EQ(run(argv, dir_ + "/openssl.log"), "");
    const std::string token = input + "." + base64url(read_file(out));
    tokens_.push_back(token);
    return token;
  }
  static std::string hs256(const Claims& claims, const std::string& hex_key = kPrimaryHex) {
    return sign(R"({"alg":"HS256","typ":"JWT"})", claims.json(), hex_key);
  }
  static std::string rs256(const Claims& claims) {
    return sign(R"({"alg":"RS256","typ":"JWT"})", claims.json(), "", dir_ + "/private.pem");
  }
  static Claims for_key() {
    Claims c;
    c.key_id = key_.id;
    return c;
  }

  static Answer fetch(const std::string& token, bool in_query = false) {
    Connection c(server_->port());
    std::string target = "/keydelivery/?kid=" + key_.id;
    if (token.empty()) return c.get(target);
    if (in_query) return c.get(target + "&token=" + url_encode("Bearer " + token));
    return c.get(target, {{"Authorization", "Bearer " + token}});
  }

  static std::string url(const std::string& rest) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/" + kLocator +
           "/testsrc.ism/" + rest;
  }

  static std::string dir_;
  static std::string db_;
  static Key key_;
  static Key other_key_;
  static Key cenc_key_;
  static ServerProcess* server_;
  static std::vector<std::string> tokens_;
};

std::string TokenTest::dir_;
std::string TokenTest::db_;
Key TokenTest::key_;
Key TokenTest::other_key_;
Key TokenTest::cenc_key_;
ServerProcess* TokenTest::server_ = nullptr;
std::vector<std::string> TokenTest::tokens_;

TEST_F(TokenTest, ValidTokensGetTheKey) {
  struct Case {
    const char* what;
    std::string token;
    bool in_query;
  };
  const Case cases[] = {
      {"HS256, the primary key", hs256(for_key()), false},
      {"HS256, the alternate symmetric key", hs256(for_key(), kAlternateHex), false},
      {"RS256, the alternate RSA key", rs256(for_key()), false},
      {"token=Bearer%20... in the query", hs256(for_key()), true},
  };
  for (const Case& c : cases) {
    Answer a = fetch(c.token, c.in_query);
    ASSERT_EQ(a.status, 200) << c.what << "\n" << a.describe();
    EXPECT_TRUE(a.body == key_.value) << c.what;
    EXPECT_EQ(a.header("cache-control"), "private, no-store") << c.what;
  }
  // The bare token in the query, and AMS's Bearer+ (a form-encoded space).
  Connection c(server_->port());
  const std::string token = hs256(for_key());
  EXPECT_EQ(c.get("/keydelivery/?kid=" + key_.id + "&token=" + token).status, 200);
  EXPECT_EQ(c.get("/keydelivery/?kid=" + key_.id + "&token=Bearer+" + token).status, 200);
}

TEST_F(TokenTest, EachBrokenTokenIsA401NamingItsCheck) {
  auto with = [](auto change) {
    Claims c = for_key();
    change(c);
    return c;
  };
  const std::string good = hs256(for_key());
  std::string tampered = good;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  const std::string public_pem_hex = [] {
    std::string pem = read_file(dir_ + "/public.pem");
    static const char kDigits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char b : pem) hex += std::string{kDigits[b >> 4], kDigits[b & 15]};
    return hex;
  }();
  struct Case {
    const char* what;
    std::string token;
    const char* hresult;
  };
  const Case cases[] = {
      {"no token", "", "MPE_KEY_DELIVERY_TOKEN_MISSING"},
      {"not a JWT", "not.a-token", "MPE_KEY_DELIVERY_TOKEN_MALFORMED"},
      {"a changed signature", tampered, "MPE_KEY_DELIVERY_TOKEN_SIGNATURE_INVALID"},
      {"another key's signature", hs256(for_key(), std::string(64, 'f')),
       "MPE_KEY_DELIVERY_TOKEN_SIGNATURE_INVALID"},
      {"alg none",
       base64url(R"({"alg":"none","typ":"JWT"})") + "." + base64url(for_key().json()) + ".",
       "MPE_KEY_DELIVERY_TOKEN_ALGORITHM_NOT_ALLOWED"},
      {"HS256 keyed with the RSA public key",
       sign(R"({"alg":"HS256","typ":"JWT"})", for_key().json(), public_pem_hex),
       "MPE_KEY_DELIVERY_TOKEN_SIGNATURE_INVALID"},
      {"ES256", sign(R"({"alg":"ES256","typ":"JWT"})", for_key().json(), kPrimaryHex),
       "MPE_KEY_DELIVERY_TOKEN_ALGORITHM_NOT_ALLOWED"},
      {"expired an hour ago", hs256(with([](Claims& c) { c.exp = now() - 3600; })),
       "MPE_KEY_DELIVERY_TOKEN_EXPIRED"},
      {"no exp", hs256(with([](Claims& c) { c.exp.reset(); })),
       "MPE_KEY_DELIVERY_TOKEN_EXPIRY_MISSING"},
      {"valid from in an hour", hs256(with([](Claims& c) { c.nbf = now() + 3600; })),
       "MPE_KEY_DELIVERY_TOKEN_NOT_YET_VALID"},
      {"another issuer", hs256(with([](Claims& c) { c.iss = "https://evil.example/"; })),
       "MPE_KEY_DELIVERY_TOKEN_ISSUER_INVALID"},
      {"another audience", hs256(with([](Claims& c) { c.aud = "urn:other"; })),
       "MPE_KEY_DELIVERY_TOKEN_AUDIENCE_INVALID"},
      {"no role claim", hs256(with([](Claims& c) { c.role.clear(); })),
       "MPE_KEY_DELIVERY_TOKEN_CLAIM_MISSING"},
      {"another role", hs256(with([](Claims& c) { c.role = "admin"; })),
       "MPE_KEY_DELIVERY_TOKEN_CLAIM_MISSING"},
      {"no key id claim", hs256(with([](Claims& c) { c.key_id.clear(); })),
       "MPE_KEY_DELIVERY_TOKEN_CLAIM_MISSING"},
      {"the key id of another key", hs256(with([](Claims& c) { c.key_id = other_key_.id; })),
       "MPE_KEY_DELIVERY_TOKEN_KEY_ID_MISMATCH"},
  };
  for (const Case& c : cases) {
    for (bool in_query : {false, true}) {
      SCOPED_TRACE(std::string(c.what) + (in_query ? " (token=)" : " (header)"));
      Answer a = fetch(c.token, in_query);
      EXPECT_EQ(a.status, 401) << a.describe();
      EXPECT_EQ(ams_error_problem(a), "");
      EXPECT_EQ(hresult_of(a), c.hresult);
      EXPECT_NE(a.body.find(c.hresult), std::string::npos);
      EXPECT_EQ(a.header("cache-control"), "no-store");
      const std::string challenge = a.header("www-authenticate");
      EXPECT_TRUE(challenge.starts_with("Bearer realm=\"keydelivery\"")) << challenge;
      EXPECT_EQ(challenge.find("error=\"invalid_token\"") != std::string::npos, !c.token.empty())
          << challenge;
      EXPECT_EQ(a.body.find(key_.value), std::string::npos);
      if (c.token.size() > 16) {
        EXPECT_EQ(a.body.find(c.token.substr(c.token.size() - 16)), std::string::npos);
        EXPECT_EQ(challenge.find(c.token.substr(c.token.size() - 16)), std::string::npos);
      }
      if (c.token.empty()) break;
    }
  }
  // The other locator's token opens its own key, not this one's.
  Claims theirs;
  theirs.key_id = other_key_.id;
  Connection conn(server_->port());
  Answer other = conn.get("/keydelivery/?kid=" + other_key_.id,
                          {{"Authorization", "Bearer " + hs256(theirs)}});
  ASSERT_EQ(other.status, 200) << other.describe();
  EXPECT_TRUE(other.body == other_key_.value);
}

// The W3C ClearKey licence endpoint (POST /keydelivery/clearkey/) asks the same policy of a CENC
// locator's key.
TEST_F(TokenTest, ClearKeyLicencesAskTheSamePolicy) {
  std::string kid_bytes;
  for (char c : cenc_key_.id) {
    if (c != '-') kid_bytes += c;
  }
  const std::string request =
      "{\"kids\":[\"" + base64url(unhex(kid_bytes)) + "\"],\"type\":\"temporary\"}";
  Connection c(server_->port());
  Answer none = c.post("/keydelivery/clearkey/", request);
  EXPECT_EQ(none.status, 401) << none.describe();
  EXPECT_EQ(hresult_of(none), "MPE_KEY_DELIVERY_TOKEN_MISSING");
  EXPECT_TRUE(none.header("www-authenticate").starts_with("Bearer")) << none.describe();
  Claims for_cenc;
  for_cenc.key_id = cenc_key_.id;
  Answer granted =
      c.post("/keydelivery/clearkey/", request, {{"Authorization", "Bearer " + hs256(for_cenc)}});
  ASSERT_EQ(granted.status, 200) << granted.describe();
  EXPECT_NE(granted.body.find("\"k\":\"" + base64url(cenc_key_.value) + "\""), std::string::npos)
      << granted.body;
  // A token for the AES-128 key does not open the CENC one.
  Answer other =
      c.post("/keydelivery/clearkey/", request, {{"Authorization", "Bearer " + hs256(for_key())}});
  EXPECT_EQ(other.status, 401) << other.describe();
  EXPECT_EQ(hresult_of(other), "MPE_KEY_DELIVERY_TOKEN_KEY_ID_MISMATCH");
  EXPECT_EQ(other.body.find(base64url(cenc_key_.value)), std::string::npos);
}

TEST_F(TokenTest, FfmpegPlaysWithTheTokenInAHeaderAndNotWithout) {
  const std::string manifest = url("manifest(format=m3u8-aapl,encryption=cbc)");
  auto probe = [&](const std::vector<std::string>& extra, const char* name) {
    std::vector<std::string> argv = {"ffprobe", "-v", "error", "-extension_picky", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"-count_frames", "-select_streams", "v:0", "-show_entries",
                             "stream=nb_read_frames", "-of", "csv=p=0", manifest});
    const std::string log = dir_ + "/ffprobe-" + name + ".log";
    const std::string failure = run(argv, log);
    std::smatch m;
    const std::string text = read_file(log);
    const int frames =
        std::regex_search(text, m, std::regex(R"((\d+)\s*$)")) ? std::stoi(m[1].str()) : -1;
    return std::make_pair(failure, frames);
  };
  auto [failure, frames] =
      probe({"-headers", "Authorization: Bearer " + hs256(for_key()) + "\r\n"}, "with");
  EXPECT_EQ(failure, "");
  EXPECT_EQ(frames, 240);  // 8 s at 30 fps, as protection_test decodes from the open locator
  auto [refused, none] = probe({}, "without");
  // Without the key ffmpeg cannot decrypt a segment: it fails, or decodes nothing.
  EXPECT_TRUE(!refused.empty() || none <= 0) << refused << " frames " << none;
  auto [wrong, bad] = probe(
      {"-headers", "Authorization: Bearer " + hs256(for_key(), std::string(64, 'f')) + "\r\n"},
      "wrong");
  EXPECT_TRUE(!wrong.empty() || bad <= 0) << wrong << " frames " << bad;
}

// Last: the logs of everything above.
TEST_F(TokenTest, NoLogLineHoldsAToken) {
  ASSERT_FALSE(tokens_.empty());
  // The access log writes a line per request after the answer: let the last ones land.
  Connection(server_->port()).get("/healthz");
  g_usleep(200000);
  const std::string serve_log = read_file(dir_ + "/serve.log");
  const std::string access_log = read_file(dir_ + "/access.log");
  ASSERT_NE(access_log.find("/keydelivery/?kid="), std::string::npos) << access_log;
  EXPECT_NE(access_log.find("token=REDACTED"), std::string::npos) << access_log;
  for (const std::string& token : tokens_) {
    // The signature part is what makes a token a credential; no log has any of it.
    const std::string signature = token.substr(token.rfind('.') + 1);
    if (signature.size() < 16) continue;
    EXPECT_EQ(serve_log.find(signature), std::string::npos);
    EXPECT_EQ(access_log.find(signature), std::string::npos);
    EXPECT_EQ(serve_log.find(token.substr(0, token.rfind('.'))), std::string::npos);
  }
  // Each refusal is logged with the check that failed.
  for (const char* check : {"the request carries no bearer token", "the token expired at",
                            "the token's iss is not the policy's issuer",
                            "names another key than " /* the key id claim */,
                            "no verification key of the policy verifies the signature"}) {
    EXPECT_NE(serve_log.find(check), std::string::npos) << check << "\n" << serve_log;
  }
  EXPECT_NE(serve_log.find("refused by content key policy 'tokens'"), std::string::npos)
      << serve_log;
}

}  // namespace
}  // namespace ams_it
