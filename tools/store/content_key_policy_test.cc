// Content key policies: the AMS JSON parsed and refused, the verification keys turned into what
// libjwt takes (checked against OpenSSL's own PEM of the same key), secrets shown only on demand,
// the store's createOrUpdate/list/delete, locators that name a policy, and the migration of a
// version 3 database.
#include "content_key_policy.h"

#include <glib.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "store.h"
#include "url/request.h"

namespace ams::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kLocator[] = "3e4570a3-977a-432e-87bf-57bf505e400e";

bool url_guid_like(const std::string& s) {
  return url::normalize_guid(s) == s;
}

// 32 bytes, base64.
constexpr char kKey[] = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";

// The REST reference's example body (Content Key Policies - Create Or Update, "ClearKey option
// and Token Restriction"), with a key long enough for us and a second required claim.
std::string token_policy(const std::string& key_value = kKey) {
  return R"({"properties": {"description": "ArmPolicyDescription", "options": [{
    "name": "ClearKeyOption",
    "configuration": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"},
    "restriction": {
      "@odata.type": "#Microsoft.Media.ContentKeyPolicyTokenRestriction",
      "issuer": "urn:issuer", "audience": "urn:audience",
      "primaryVerificationKey": {"@odata.type": "#Microsoft.Media.ContentKeyPolicySymmetricTokenKey",
                                 "keyValue": ")" +
         key_value + R"("},
      "alternateVerificationKeys": [],
      "requiredClaims": [
        {"claimType": "urn:microsoft:azure:mediaservices:contentkeyidentifier"},
        {"claimType": "DRM", "claimValue": "Widevine"}],
      "restrictionTokenType": "Jwt"}}]}})";
}

constexpr char kOpenPolicy[] = R"({"options": [{"name": "open",
  "configuration": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"},
  "restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyOpenRestriction"}}]})";

constexpr char kWidevineOnly[] = R"({"options": [{"name": "wv",
  "configuration": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyWidevineConfiguration",
                    "widevineTemplate": "{\"allowed_track_types\":\"SD_HD\"}"},
  "restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyOpenRestriction"}}]})";

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string pem_of(EVP_PKEY* key) {
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, key);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(out);
  return pem;
}

std::string big_endian(EVP_PKEY* key, const char* name) {
  BIGNUM* n = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &n), 1);
  std::string out(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(n);
  return out;
}

// A self-signed certificate of `key`, DER.
std::string certificate_of(EVP_PKEY* key) {
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("issuer"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  unsigned char* der = nullptr;
  int size = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  X509_free(cert);
  return out;
}

std::string pem_certificate(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(out, cert);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(out);
  X509_free(cert);
  return pem;
}

std::string with_key(const std::string& key_json) {
  return R"({"options": [{"configuration": {"@odata.type":
    "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"},
    "restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyTokenRestriction",
      "issuer": "i", "audience": "a", "restrictionTokenType": "Jwt",
      "primaryVerificationKey": )" +
         key_json + "}}]}";
}

std::string rsa_key_json(EVP_PKEY* key) {
  return std::string(
             R"({"@odata.type": "#Microsoft.Media.ContentKeyPolicyRsaTokenKey", "exponent": ")") +
         encode_base64(big_endian(key, OSSL_PKEY_PARAM_RSA_E)) + R"(", "modulus": ")" +
         encode_base64(big_endian(key, OSSL_PKEY_PARAM_RSA_N)) + "\"}";
}

std::string x509_key_json(const std::string& raw_body) {
  return std::string(
             R"({"@odata.type": "#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey", "rawBody": )") +
         json(raw_body).dump() + "}";
}

TEST(ContentKeyPolicyJson, ParsesTheAmsTokenRestriction) {
  Result<ContentKeyPolicy> p = parse_content_key_policy(token_policy());
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->description, "ArmPolicyDescription");
  ASSERT_EQ(p->options.size(), 1u);
  const PolicyOption& o = p->options[0];
  EXPECT_EQ(o.name, "ClearKeyOption");
  EXPECT_EQ(o.configuration, kClearKeyConfiguration);
  EXPECT_TRUE(url_guid_like(o.id)) << o.id;
  ASSERT_TRUE(o.token);
  EXPECT_EQ(o.token->issuer, "urn:issuer");
  EXPECT_EQ(o.token->audience, "urn:audience");
  ASSERT_EQ(o.token->keys.size(), 1u);
  EXPECT_EQ(o.token->keys[0].type, TokenKey::Type::kSymmetric);
  EXPECT_EQ(o.token->keys[0].secret, "12345678901234567890123456789012");
  ASSERT_EQ(o.token->required_claims.size(), 2u);
  EXPECT_EQ(o.token->required_claims[0].type, kContentKeyIdentifierClaim);
  EXPECT_FALSE(o.token->required_claims[0].value);
  EXPECT_EQ(o.token->required_claims[1].value, "Widevine");
  EXPECT_TRUE(has_clear_key_option(*p));

  // The stored form is AMS's, in AMS's order, with the option id it was given.
  json stored = json::parse(p->properties);
  EXPECT_EQ(stored["options"][0]["policyOptionId"], o.id);
  EXPECT_EQ(stored["options"][0]["restriction"]["primaryVerificationKey"]["keyValue"], kKey);
  EXPECT_EQ(stored["options"][0]["restriction"]["requiredClaims"][1]["claimValue"], "Widevine");
  EXPECT_FALSE(stored["options"][0]["restriction"]["requiredClaims"][0].contains("claimValue"));
}

TEST(ContentKeyPolicyJson, MembersInAnyCaseAndTheBareProperties) {
  Result<ContentKeyPolicy> p = parse_content_key_policy(R"({"Options": [{
    "Configuration": {"@odata.type": "#microsoft.media.contentkeypolicyclearkeyconfiguration"},
    "Restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyOpenRestriction"},
    "policyOptionId": "CAF1E28C-8288-4301-8C46-C0F9312C512F"}]})");
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_EQ(p->options[0].configuration, kClearKeyConfiguration);
  EXPECT_EQ(p->options[0].id, "caf1e28c-8288-4301-8c46-c0f9312c512f");
  EXPECT_FALSE(p->options[0].token);
}

TEST(ContentKeyPolicyJson, RefusesWhatItCannotEnforce) {
  struct Case {
    std::string json;
    const char* says;
  };
  std::string swt = token_policy();
  swt.replace(swt.find("\"Jwt\""), 5, "\"Swt\"");
  std::string typo = token_policy();
  typo.replace(typo.find("requiredClaims"), 14, "requiredClaim");
  std::string oidc = token_policy();
  oidc.replace(oidc.find("\"restrictionTokenType\""), 0,
               "\"openIdConnectDiscoveryDocument\": \"https://login/.well-known\", ");
  std::string no_issuer = token_policy();
  no_issuer.replace(no_issuer.find("\"urn:issuer\""), 12, "\"\"");
  std::string bad_kid = token_policy();
  bad_kid.replace(bad_kid.find("contentkeyidentifier\"}"), 22,
                  "contentkeyidentifier\", \"claimValue\": \"k1\"}");
  const std::vector<Case> cases = {
      {"[]", "not a JSON object"},
      {"{\"options\": []}", "at least one option"},
      {swt, "Swt (Simple Web Token) is not supported"},
      {typo, "unknown member \"requiredClaim\""},
      {oidc, "openIdConnectDiscoveryDocument is not supported"},
      {no_issuer, "issuer and audience must not be empty"},
      {bad_kid, "is not a GUID"},
      {token_policy("MTIzNDU2Nzg5MDEyMzQ1"), "15 bytes: at least 16"},
      {token_policy("not base64!"), "keyValue is not base64"},
      {R"({"options": [{"configuration": {"@odata.type": "#Microsoft.Media.Nope"},
          "restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyOpenRestriction"}}]})",
       "@odata.type \"#Microsoft.Media.Nope\" is not supported"},
      {R"({"options": [{"configuration": {"@odata.type":
          "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"}}]})",
       "restriction is required"},
      {with_key(R"({"@odata.type": "#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey",
                    "rawBody": "AAAA"})"),
       "neither DER nor PEM"},
  };
  for (const Case& c : cases) {
    Result<ContentKeyPolicy> p = parse_content_key_policy(c.json);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.says;
    EXPECT_NE(p.status().message().find(c.says), std::string::npos) << p.status().message();
    // A refusal never quotes a key.
    EXPECT_EQ(p.status().message().find(kKey), std::string::npos);
  }
}

TEST(ContentKeyPolicyJson, RsaKeysBecomeThePemOpensslWrites) {
  Key key(EVP_RSA_gen(2048));
  ASSERT_TRUE(key);
  Result<ContentKeyPolicy> p = parse_content_key_policy(with_key(rsa_key_json(key.get())));
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  const TokenKey& k = p->options[0].token->keys[0];
  EXPECT_EQ(k.type, TokenKey::Type::kRsa);
  EXPECT_EQ(k.public_key_pem, pem_of(key.get()));

  // The command line's PEM input gives back the same numbers.
  Result<RsaParameters> numbers = rsa_parameters_from_pem(pem_of(key.get()));
  ASSERT_TRUE(numbers.is_ok()) << numbers.status().to_string();
  EXPECT_EQ(numbers->modulus, encode_base64(big_endian(key.get(), OSSL_PKEY_PARAM_RSA_N)));
  EXPECT_EQ(numbers->exponent, "AQAB");
  EXPECT_FALSE(
      rsa_parameters_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));

  Key small(EVP_RSA_gen(1024));
  Result<ContentKeyPolicy> weak = parse_content_key_policy(with_key(rsa_key_json(small.get())));
  EXPECT_NE(weak.status().message().find("1024 bits: at least 2048"), std::string::npos)
      << weak.status().to_string();
}

TEST(ContentKeyPolicyJson, CertificatesInDerOrPemGiveTheirRsaKey) {
  Key key(EVP_RSA_gen(2048));
  const std::string der = certificate_of(key.get());
  for (const std::string& raw : {encode_base64(der), pem_certificate(der)}) {
    Result<ContentKeyPolicy> p = parse_content_key_policy(with_key(x509_key_json(raw)));
    ASSERT_TRUE(p.is_ok()) << p.status().to_string();
    EXPECT_EQ(p->options[0].token->keys[0].public_key_pem, pem_of(key.get()));
    // Kept as AMS keeps it: the DER in base64.
    EXPECT_EQ(json::parse(
                  p->properties)["options"][0]["restriction"]["primaryVerificationKey"]["rawBody"],
              encode_base64(der));
  }
  Key ec(EVP_EC_gen("P-256"));
  Result<ContentKeyPolicy> p =
      parse_content_key_policy(with_key(x509_key_json(encode_base64(certificate_of(ec.get())))));
  EXPECT_NE(p.status().message().find("not an RSA key"), std::string::npos)
      << p.status().to_string();
}

TEST(ContentKeyPolicyJson, SecretsOnlyOnDemandAndTheOutputParsesBack) {
  Key key(EVP_RSA_gen(2048));
  std::string body = token_policy();
  body.replace(body.find("\"alternateVerificationKeys\": []"), 31,
               "\"alternateVerificationKeys\": [" + rsa_key_json(key.get()) + "]");
  Result<ContentKeyPolicy> p = parse_content_key_policy(body);
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  p->name = "tokens";
  p->id = "8352435b-ebea-4681-aae7-e19277771f64";
  p->created = p->last_modified = "2026-12-01T00:00:00.0000000Z";

  json shown = json::parse(content_key_policy_json(*p, false));
  EXPECT_EQ(shown["name"], "tokens");
  EXPECT_EQ(shown["properties"]["policyId"], p->id);
  const json& restriction = shown["properties"]["options"][0]["restriction"];
  EXPECT_EQ(restriction["primaryVerificationKey"]["keyValue"], "");
  EXPECT_EQ(restriction["alternateVerificationKeys"][0]["modulus"], "");
  EXPECT_EQ(content_key_policy_json(*p, false).find(kKey), std::string::npos);

  const std::string secret = content_key_policy_json(*p, true);
  EXPECT_NE(secret.find(kKey), std::string::npos);
  Result<ContentKeyPolicy> again = parse_content_key_policy(secret);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->properties, p->properties);
  EXPECT_EQ(again->options[0].token->keys[1].public_key_pem, pem_of(key.get()));
}

TEST(ContentKeyPolicyJson, FairPlaySecretsAreHiddenToo) {
  Result<ContentKeyPolicy> p = parse_content_key_policy(R"({"options": [{
    "configuration": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyFairPlayConfiguration",
                      "ask": "c2VjcmV0YXNr", "fairPlayPfxPassword": "pw", "fairPlayPfx": "cGZ4",
                      "rentalAndLeaseKeyType": "Undefined", "rentalDuration": 0},
    "restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyOpenRestriction"}}]})");
  ASSERT_TRUE(p.is_ok()) << p.status().to_string();
  EXPECT_FALSE(has_clear_key_option(*p));
  json shown = json::parse(content_key_policy_json(*p, false));
  const json& config = shown["properties"]["options"][0]["configuration"];
  EXPECT_EQ(config["ask"], "");
  EXPECT_EQ(config["fairPlayPfxPassword"], "");
  EXPECT_EQ(config["rentalAndLeaseKeyType"], "Undefined");
  EXPECT_EQ(json::parse(content_key_policy_json(
                *p, true))["properties"]["options"][0]["configuration"]["ask"],
            "c2VjcmV0YXNr");
}

TEST(ContentKeyPolicyJson, StrictBase64) {
  EXPECT_EQ(decode_base64("QUJD"), "ABC");
  EXPECT_EQ(decode_base64("QUI="), "AB");
  EXPECT_EQ(decode_base64("QUI"), "AB");
  EXPECT_FALSE(decode_base64("QUJ"));    // the last character's spare bits are not zero
  EXPECT_FALSE(decode_base64("Q"));      // no whole byte
  EXPECT_FALSE(decode_base64("QU I="));  // a space
  EXPECT_FALSE(decode_base64("QUI-"));   // base64url is not base64
}

// The store: a database in a fresh folder, an asset and its folder.
class ContentKeyPolicyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gchar* dir = g_dir_make_tmp("ams-ckp-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    g_free(dir);
    db_path_ = (dir_ / "ams.db").string();
    fs::create_directories(dir_ / "a");
    Result<std::unique_ptr<Store>> opened = Store::open(db_path_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    ASSERT_TRUE(store_->create_asset(Asset{"movie", (dir_ / "a").string(), ""}).is_ok());
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Result<Locator> locator(const std::string& policy, const std::string& key_policy,
                          const std::string& id = "") {
    Locator l{id, "movie", policy, {}, {}, ""};
    l.content_key_policy = key_policy;
    return store_->create_locator(l);
  }

  fs::path dir_;
  std::string db_path_;
  std::unique_ptr<Store> store_;
};

TEST_F(ContentKeyPolicyStoreTest, CreateOrUpdateListDelete) {
  Result<ContentKeyPolicy> made = store_->put_content_key_policy("Tokens", token_policy());
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  EXPECT_EQ(made->name, "Tokens");
  EXPECT_TRUE(url_guid_like(made->id));
  EXPECT_EQ(made->created, made->last_modified);
  EXPECT_EQ(made->options[0].token->keys[0].secret, "12345678901234567890123456789012");

  Result<ContentKeyPolicy> got = store_->get_content_key_policy("tokens");  // any case
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(got->name, "Tokens");
  EXPECT_EQ(got->properties, made->properties);

  // createOrUpdate: the name's spelling, the id and the creation time stay.
  Result<ContentKeyPolicy> updated = store_->put_content_key_policy("TOKENS", kOpenPolicy);
  ASSERT_TRUE(updated.is_ok()) << updated.status().to_string();
  EXPECT_EQ(updated->name, "Tokens");
  EXPECT_EQ(updated->id, made->id);
  EXPECT_EQ(updated->created, made->created);
  EXPECT_FALSE(updated->options[0].token);
  ASSERT_TRUE(store_->put_content_key_policy("another", kWidevineOnly).is_ok());
  Result<std::vector<ContentKeyPolicy>> all = store_->list_content_key_policies();
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "another");

  EXPECT_EQ(store_->put_content_key_policy("bad name", kOpenPolicy).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->put_content_key_policy("x", "{}").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->delete_content_key_policy("another").is_ok());
  EXPECT_EQ(store_->get_content_key_policy("another").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->delete_content_key_policy("another").code(), StatusCode::kNotFound);
}

TEST_F(ContentKeyPolicyStoreTest, LocatorsNameAPolicyTheirKeysUse) {
  ASSERT_TRUE(store_->put_content_key_policy("tokens", token_policy()).is_ok());
  Result<Locator> l = locator("Predefined_ClearKey", "TOKENS", kLocator);
  ASSERT_TRUE(l.is_ok()) << l.status().to_string();
  EXPECT_EQ(l->content_key_policy, "tokens");
  ASSERT_EQ(l->content_keys.size(), 1u);
  EXPECT_EQ(l->content_keys[0].policy_name, "tokens");
  EXPECT_EQ(store_->get_locator(kLocator)->content_key_policy, "tokens");
  Result<ContentKey> key = store_->content_key(l->content_keys[0].id);
  ASSERT_TRUE(key.is_ok());
  EXPECT_EQ(key->policy_name, "tokens");
  EXPECT_EQ(store_->content_keys(kLocator)->at(0).policy_name, "tokens");
  EXPECT_NE(
      content_keys_json(*store_->content_keys(kLocator), false).find("\"policyName\": \"tokens\""),
      std::string::npos);
  // Without a policy: none, as before.
  Result<Locator> open = locator("Predefined_ClearKey", "");
  ASSERT_TRUE(open.is_ok());
  EXPECT_EQ(store_->content_key(open->content_keys[0].id)->policy_name, "");

  // Deleting a policy in use is refused, naming a locator; once the locator goes, it may go.
  Status refused = store_->delete_content_key_policy("tokens");
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find(kLocator), std::string::npos) << refused.message();
  ASSERT_TRUE(store_->delete_locator(kLocator).is_ok());
  EXPECT_TRUE(store_->delete_content_key_policy("tokens").is_ok());
}

TEST_F(ContentKeyPolicyStoreTest, PoliciesThatCouldNeverDeliverTheKeysAreRefused) {
  ASSERT_TRUE(store_->put_content_key_policy("wv", kWidevineOnly).is_ok());
  ASSERT_TRUE(store_->put_content_key_policy("ck", kOpenPolicy).is_ok());
  EXPECT_EQ(locator("Predefined_ClearKey", "nope").status().code(), StatusCode::kNotFound);
  Result<Locator> clear = locator("Predefined_ClearStreamingOnly", "ck");
  EXPECT_NE(clear.status().message().find("encrypts nothing"), std::string::npos)
      << clear.status().to_string();
  Result<Locator> aes = locator("Predefined_ClearKey", "wv");
  EXPECT_NE(aes.status().message().find("has no ClearKey option"), std::string::npos)
      << aes.status().to_string();
  // A DRM policy may use it (licences come from elsewhere).
  EXPECT_TRUE(locator("Predefined_MultiDrmCencStreaming", "wv").is_ok());
  // An envelope locator's policy keeps its ClearKey option.
  ASSERT_TRUE(locator("Predefined_ClearKey", "ck").is_ok());
  Result<ContentKeyPolicy> replaced = store_->put_content_key_policy("ck", kWidevineOnly);
  EXPECT_EQ(replaced.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->get_content_key_policy("ck")->options[0].token);
  EXPECT_EQ(store_->get_content_key_policy("ck")->options[0].configuration, kClearKeyConfiguration);
}

// A database as the AES-128 release (schema version 3) left it, made with its own SQL.
TEST(ContentKeyPolicyMigration, MigratesAVersion3Database) {
  gchar* made = g_dir_make_tmp("ams-ckp-XXXXXX", nullptr);
  ASSERT_NE(made, nullptr);
  const fs::path dir = made;
  g_free(made);
  const std::string db_path = (dir / "ams.db").string();
  fs::create_directories(dir / "a");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  std::string v3 = R"sql(
PRAGMA journal_mode = WAL;
CREATE TABLE assets (name TEXT PRIMARY KEY COLLATE NOCASE, path TEXT NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE policies (name TEXT PRIMARY KEY COLLATE NOCASE, download INTEGER NOT NULL,
  dash INTEGER NOT NULL, hls INTEGER NOT NULL, smooth_streaming INTEGER NOT NULL,
  encryption INTEGER NOT NULL, predefined INTEGER NOT NULL, created TEXT NOT NULL);
CREATE TABLE locators (id TEXT PRIMARY KEY, asset TEXT NOT NULL REFERENCES assets(name),
  policy TEXT NOT NULL REFERENCES policies(name), start_time TEXT, end_time TEXT,
  created TEXT NOT NULL);
CREATE INDEX locators_by_asset ON locators(asset);
CREATE TABLE filters (asset TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,
  properties TEXT NOT NULL, created TEXT NOT NULL, last_modified TEXT NOT NULL,
  PRIMARY KEY (asset, name));
ALTER TABLE locators ADD COLUMN filters TEXT NOT NULL DEFAULT '';
CREATE TABLE content_keys (id TEXT PRIMARY KEY, locator TEXT NOT NULL REFERENCES locators(id),
  type TEXT NOT NULL, label TEXT NOT NULL, value BLOB NOT NULL CHECK (length(value) = 16),
  created TEXT NOT NULL, UNIQUE (locator, type, label));
INSERT INTO policies VALUES
  ('Predefined_ClearKey', 0, 1, 1, 1, 1, 1, '2025-01-01T00:00:00.0000000Z');
INSERT INTO assets VALUES ('movie', '@FOLDER@', '2025-01-01T00:00:00.0000000Z');
INSERT INTO locators VALUES ('3e4570a3-977a-432e-87bf-57bf505e400e', 'movie',
  'Predefined_ClearKey', NULL, NULL, '2025-01-02T00:00:00.0000000Z', '');
INSERT INTO content_keys VALUES ('00000000-0000-4000-8000-0000000000aa',
  '3e4570a3-977a-432e-87bf-57bf505e400e', 'EnvelopeEncryption', '', x'00112233445566778899aabbccddeeff',
  '2025-01-02T00:00:00.0000000Z');
PRAGMA user_version = 3;
)sql";
  v3.replace(v3.find("@FOLDER@"), 8, (dir / "a").string());
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, v3.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  sqlite3_close(db);

  {
    Result<std::unique_ptr<Store>> opened = Store::open(db_path);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    Store& store = **opened;
    // The old locator and key are as they were, with no policy: an open restriction.
    EXPECT_EQ(store.get_locator(kLocator)->content_key_policy, "");
    Result<ContentKey> key = store.content_key("00000000-0000-4000-8000-0000000000aa");
    ASSERT_TRUE(key.is_ok()) << key.status().to_string();
    EXPECT_EQ(key->value,
              std::string("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16));
    EXPECT_EQ(key->policy_name, "");
    EXPECT_TRUE(store.list_content_key_policies()->empty());
    ASSERT_TRUE(store.put_content_key_policy("tokens", token_policy()).is_ok());
    Locator l{"", "movie", "Predefined_ClearKey", {}, {}, ""};
    l.content_key_policy = "tokens";
    ASSERT_TRUE(store.create_locator(l).is_ok());
    // A policy in use stays in a migrated database too.
    EXPECT_EQ(store.delete_content_key_policy("tokens").code(), StatusCode::kInvalidArgument);
  }
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(s, 0), 4);
  sqlite3_finalize(s);
  sqlite3_close(db);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace ams::store
