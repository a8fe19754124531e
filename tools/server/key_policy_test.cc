// Key requests against content key policies (key_policy.h). The policies come from AMS JSON
// through the store's parser; the tokens are signed here with OpenSSL's EVP calls, not with
// libjwt (which verifies them in the code under test), so that a shared mistake in libjwt's
// signing and verifying could not hide.
#include "key_policy.h"

#include <glib.h>
#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>

#include "store/content_key_policy.h"

namespace ams::server {
namespace {

using nlohmann::json;

constexpr char kKeyId[] = "0b7d4f1e-2c3a-4d5e-8f60-718293a4b5c6";
constexpr char kOtherKeyId[] = "0b7d4f1e-2c3a-4d5e-8f60-718293a4b5c7";
constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "a 32-byte HMAC key for the tests";
const std::string kAlternate = "another 32-byte key, the second";

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string base64url(std::string_view bytes) {
  std::string text = store::encode_base64(bytes);
  std::string out;
  for (char c : text) {
    if (c == '=') break;
    out += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::string signing_input(const json& header, const json& claims) {
  return base64url(header.dump()) + "." + base64url(claims.dump());
}

std::string hs(const json& claims, const std::string& secret, const char* alg = "HS256",
               const char* digest = "SHA256") {
  const std::string input = signing_input({{"alg", alg}, {"typ", "JWT"}}, claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t size = 0;
  EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof(mac), &size),
            nullptr);
  return input + "." + base64url(std::string_view(reinterpret_cast<char*>(mac), size));
}

std::string rs(const json& claims, EVP_PKEY* key, const char* alg = "RS256",
               const EVP_MD* md = EVP_sha256()) {
  const std::string input = signing_input({{"alg", alg}, {"typ", "JWT"}}, claims);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t size = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, md, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  std::string signature(size, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  signature.resize(size);
  return input + "." + base64url(signature);
}

std::string pem_of(EVP_PKEY* key) {
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(out, key);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(out);
  return pem;
}

std::string number(EVP_PKEY* key, const char* name) {
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(key, name, &n);
  std::string out(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(n);
  return out;
}

json symmetric(const std::string& secret) {
  return {{"@odata.type", store::kSymmetricTokenKey}, {"keyValue", store::encode_base64(secret)}};
}

json rsa(EVP_PKEY* key) {
  return {{"@odata.type", store::kRsaTokenKey},
          {"exponent", store::encode_base64(number(key, OSSL_PKEY_PARAM_RSA_E))},
          {"modulus", store::encode_base64(number(key, OSSL_PKEY_PARAM_RSA_N))}};
}

json token_option(const json& primary, const json& alternates = json::array(),
                  const json& claims = json::array()) {
  return {{"name", "token"},
          {"configuration", {{"@odata.type", store::kClearKeyConfiguration}}},
          {"restriction",
           {{"@odata.type", store::kTokenRestriction},
            {"issuer", "urn:issuer"},
            {"audience", "urn:audience"},
            {"primaryVerificationKey", primary},
            {"alternateVerificationKeys", alternates},
            {"requiredClaims", claims},
            {"restrictionTokenType", "Jwt"}}}};
}

// (An initializer list, not a json: json{x} would be x itself, not an array of it.)
store::ContentKeyPolicy policy_of(std::initializer_list<json> option_list) {
  json options = json::array();
  for (const json& option : option_list) options.push_back(option);
  json body = json::object();
  body["properties"] = json::object();
  body["properties"]["options"] = options;
  Result<store::ContentKeyPolicy> p = store::parse_content_key_policy(body.dump());
  EXPECT_TRUE(p.is_ok()) << p.status().to_string();
  store::ContentKeyPolicy policy = p.is_ok() ? *p : store::ContentKeyPolicy{};
  policy.name = "tokens";
  return policy;
}

// Claims that pass every check of token_option().
json good_claims() {
  return {{"iss", "urn:issuer"}, {"aud", "urn:audience"}, {"exp", kNow + 600}, {"nbf", kNow - 5}};
}

class KeyPolicyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { rsa_key_ = EVP_RSA_gen(2048); }
  static void TearDownTestSuite() { EVP_PKEY_free(rsa_key_); }

  // Checks the decision, and that its detail quotes no part of the token.
  static void expect(const store::ContentKeyPolicy& policy, const std::string& token,
                     KeyCheck check, const std::string& key_id = kKeyId) {
    KeyDecision d = evaluate_key_request(policy, key_id, token, kNow);
    EXPECT_EQ(static_cast<int>(d.check), static_cast<int>(check)) << d.detail;
    gchar** parts = g_strsplit(token.c_str(), ".", -1);
    for (gchar** part = parts; *part != nullptr; ++part) {
      if (std::strlen(*part) < 8) continue;
      EXPECT_EQ(d.detail.find(*part), std::string::npos) << d.detail;
    }
    g_strfreev(parts);
  }

  static EVP_PKEY* rsa_key_;
};
EVP_PKEY* KeyPolicyTest::rsa_key_ = nullptr;

TEST_F(KeyPolicyTest, OpenOptionsGrantAndOtherConfigurationsDoNotApply) {
  json open = {{"configuration", {{"@odata.type", store::kClearKeyConfiguration}}},
               {"restriction", {{"@odata.type", store::kOpenRestriction}}}};
  expect(policy_of({open}), "", KeyCheck::kGranted);
  // A token option first: a request without a token still gets the key through the open one.
  expect(policy_of({token_option(symmetric(kSecret)), open}), "", KeyCheck::kGranted);
  json widevine = {{"configuration", {{"@odata.type", store::kWidevineConfiguration}}},
                   {"restriction", {{"@odata.type", store::kOpenRestriction}}}};
  store::ContentKeyPolicy drm = policy_of({widevine});
  expect(drm, "", KeyCheck::kNoClearKeyOption);
  EXPECT_EQ(authorize_key_request(drm, kKeyId, "", kNow).code(), StatusCode::kUnsupported);
  EXPECT_EQ(key_refusal(evaluate_key_request(drm, kKeyId, "", kNow)).status, 403u);
}

TEST_F(KeyPolicyTest, SignaturesByThePrimaryOrAnAlternateKey) {
  store::ContentKeyPolicy p =
      policy_of({token_option(symmetric(kSecret), {symmetric(kAlternate), rsa(rsa_key_)})});
  expect(p, hs(good_claims(), kSecret), KeyCheck::kGranted);
  expect(p, hs(good_claims(), kSecret, "HS384", "SHA384"), KeyCheck::kGranted);
  expect(p, hs(good_claims(), kSecret, "HS512", "SHA512"), KeyCheck::kGranted);
  expect(p, hs(good_claims(), kAlternate), KeyCheck::kGranted);
  expect(p, rs(good_claims(), rsa_key_), KeyCheck::kGranted);
  expect(p, rs(good_claims(), rsa_key_, "RS512", EVP_sha512()), KeyCheck::kGranted);
  EXPECT_TRUE(authorize_key_request(p, kKeyId, hs(good_claims(), kSecret), kNow).is_ok());

  expect(p, hs(good_claims(), "a key that is not one of the policy"), KeyCheck::kSignature);
  Key stranger(EVP_RSA_gen(2048));
  expect(p, rs(good_claims(), stranger.get()), KeyCheck::kSignature);
  // An HS256 header over an RS256 signature, and a changed payload under a good signature.
  std::string token = rs(good_claims(), rsa_key_);
  std::string relabelled =
      base64url(R"({"alg":"HS256","typ":"JWT"})") + token.substr(token.find('.'));
  expect(p, relabelled, KeyCheck::kSignature);
  json more = good_claims();
  more["exp"] = kNow + 999999;
  std::string forged = hs(good_claims(), kSecret);
  const size_t dot = forged.find('.');
  forged = forged.substr(0, dot + 1) + base64url(more.dump()) + forged.substr(forged.rfind('.'));
  expect(p, forged, KeyCheck::kSignature);
  EXPECT_EQ(authorize_key_request(p, kKeyId, forged, kNow).code(), StatusCode::kInvalidArgument);
}

TEST_F(KeyPolicyTest, CertificateKeysVerifyRs256) {
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, rsa_key_);
  X509_sign(cert, rsa_key_, EVP_sha256());
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  json key = {{"@odata.type", store::kX509TokenKey},
              {"rawBody", store::encode_base64(std::string(reinterpret_cast<char*>(der), size))}};
  OPENSSL_free(der);
  X509_free(cert);
  store::ContentKeyPolicy p = policy_of({token_option(key)});
  expect(p, rs(good_claims(), rsa_key_), KeyCheck::kGranted);
  expect(p, hs(good_claims(), kSecret), KeyCheck::kAlgorithm);
}

TEST_F(KeyPolicyTest, TheAlgorithmMustBeOneOfTheKeysKind) {
  store::ContentKeyPolicy rsa_only = policy_of({token_option(rsa(rsa_key_))});
  // The classic confusion: HS256 keyed with the RSA public key's PEM text. libjwt alone takes it
  // (which is why the header is checked first)...
  const std::string pem = pem_of(rsa_key_);
  const std::string confused = hs(good_claims(), pem);
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_decode(&jwt, confused.c_str(), reinterpret_cast<const unsigned char*>(pem.data()),
                       static_cast<int>(pem.size())),
            0);
  jwt_free(jwt);
  // ...and the policy refuses it: it has no symmetric key.
  expect(rsa_only, confused, KeyCheck::kAlgorithm);
  // With a symmetric key beside, the PEM is still never used as an HMAC key.
  expect(policy_of({token_option(symmetric(kSecret), json::array({rsa(rsa_key_)}))}), confused,
         KeyCheck::kSignature);
  // "none", an unknown and an EC algorithm.
  const std::string claims = base64url(good_claims().dump());
  expect(rsa_only, base64url(R"({"alg":"none"})") + "." + claims + ".", KeyCheck::kAlgorithm);
  expect(rsa_only, base64url(R"({"alg":"none"})") + "." + claims + ".c2ln", KeyCheck::kAlgorithm);
  expect(rsa_only, base64url(R"({"alg":"ES256"})") + "." + claims + ".c2ln", KeyCheck::kAlgorithm);
  expect(rsa_only, base64url(R"({"typ":"JWT"})") + "." + claims + ".c2ln", KeyCheck::kAlgorithm);
}

TEST_F(KeyPolicyTest, MalformedTokens) {
  store::ContentKeyPolicy p = policy_of({token_option(symmetric(kSecret))});
  expect(p, "", KeyCheck::kTokenMissing);
  const std::string good = hs(good_claims(), kSecret);
  for (const std::string& bad :
       {std::string("not a token"), std::string("a.b"), good + ".more", good + "=",
        "e30." + base64url(good_claims().dump()) + ".c2ln" /* "{}" header */,
        base64url("[1]") + ".e30.c2ln", base64url("not json") + ".e30.c2ln",
        std::string(kMaxTokenBytes + 1, 'a')}) {
    SCOPED_TRACE(bad.substr(0, 40));
    KeyDecision d = evaluate_key_request(p, kKeyId, bad, kNow);
    EXPECT_TRUE(d.check == KeyCheck::kTokenMalformed || d.check == KeyCheck::kAlgorithm)
        << d.detail;
  }
  // A typ other than JWT.
  const std::string input =
      signing_input({{"alg", "HS256"}, {"typ", "at+jwt"}}, good_claims()) + ".c2ln";
  expect(p, input, KeyCheck::kTokenMalformed);
  // A claim set whose exp is text.
  json text_exp = good_claims();
  text_exp["exp"] = "tomorrow";
  expect(p, hs(text_exp, kSecret), KeyCheck::kTokenMalformed);
}

TEST_F(KeyPolicyTest, LifetimeWithTheClockSkew) {
  store::ContentKeyPolicy p = policy_of({token_option(symmetric(kSecret))});
  json c = good_claims();
  c.erase("exp");
  expect(p, hs(c, kSecret), KeyCheck::kExpiryMissing);
  c["exp"] = kNow - kClockSkewSeconds - 1;
  expect(p, hs(c, kSecret), KeyCheck::kExpired);
  c["exp"] = kNow - kClockSkewSeconds;
  expect(p, hs(c, kSecret), KeyCheck::kExpired);
  c["exp"] = kNow - kClockSkewSeconds + 1;  // within the skew
  expect(p, hs(c, kSecret), KeyCheck::kGranted);
  c["exp"] = static_cast<double>(kNow) + 0.5;  // NumericDate may have a fraction
  expect(p, hs(c, kSecret), KeyCheck::kGranted);
  c["nbf"] = kNow + kClockSkewSeconds + 1;
  c["exp"] = kNow + 3600;
  expect(p, hs(c, kSecret), KeyCheck::kNotYetValid);
  c["nbf"] = kNow + kClockSkewSeconds;  // within the skew
  expect(p, hs(c, kSecret), KeyCheck::kGranted);
  c.erase("nbf");  // nbf is optional
  expect(p, hs(c, kSecret), KeyCheck::kGranted);
  EXPECT_EQ(
      key_refusal(evaluate_key_request(p, kKeyId, hs(good_claims(), kSecret), kNow + 900)).hresult,
      std::string(hresult::kKeyTokenExpired));
}

TEST_F(KeyPolicyTest, IssuerAudienceAndRequiredClaims) {
  json claims = json::array({{{"claimType", store::kContentKeyIdentifierClaim}},
                             {{"claimType", "urn:tier"}, {"claimValue", "gold"}},
                             {{"claimType", "level"}, {"claimValue", "42"}},
                             {{"claimType", "present"}}});
  store::ContentKeyPolicy p = policy_of({token_option(symmetric(kSecret), json::array(), claims)});
  json c = good_claims();
  c[store::kContentKeyIdentifierClaim] = kKeyId;
  c["urn:tier"] = "gold";
  c["level"] = 42;
  c["present"] = false;
  expect(p, hs(c, kSecret), KeyCheck::kGranted);

  auto with = [&](const char* name, const json& value) {
    json changed = c;
    if (value.is_null()) {
      changed.erase(name);
    } else {
      changed[name] = value;
    }
    return hs(changed, kSecret);
  };
  expect(p, with("iss", "urn:other"), KeyCheck::kIssuer);
  expect(p, with("iss", nullptr), KeyCheck::kIssuer);
  expect(p, with("aud", "urn:other"), KeyCheck::kAudience);
  expect(p, with("aud", json::array({"urn:x", "urn:audience"})), KeyCheck::kGranted);
  expect(p, with("aud", json::array({"urn:x"})), KeyCheck::kAudience);
  expect(p, with("urn:tier", nullptr), KeyCheck::kClaim);
  expect(p, with("urn:tier", "silver"), KeyCheck::kClaim);
  expect(p, with("urn:tier", json::array({"silver", "gold"})), KeyCheck::kGranted);
  expect(p, with("level", "42"), KeyCheck::kGranted);
  expect(p, with("level", 41), KeyCheck::kClaim);
  expect(p, with("present", nullptr), KeyCheck::kClaim);

  // The content key identifier binds the token to one key.
  expect(p, with(store::kContentKeyIdentifierClaim, nullptr), KeyCheck::kClaim);
  expect(p, with(store::kContentKeyIdentifierClaim, kOtherKeyId), KeyCheck::kKeyId);
  expect(p, hs(c, kSecret), KeyCheck::kKeyId, kOtherKeyId);
  std::string upper = kKeyId;
  for (char& ch : upper) ch = static_cast<char>(g_ascii_toupper(ch));
  expect(p, with(store::kContentKeyIdentifierClaim, upper), KeyCheck::kGranted);
  expect(p, with(store::kContentKeyIdentifierClaim, "nb:kid:UUID:" + std::string(kKeyId)),
         KeyCheck::kGranted);
  expect(p, with(store::kContentKeyIdentifierClaim, "not a guid"), KeyCheck::kKeyId);
}

TEST_F(KeyPolicyTest, ThePoliciesKeyIdentifierValueMustBeTheKeyAskedFor) {
  json claims =
      json::array({{{"claimType", store::kContentKeyIdentifierClaim}, {"claimValue", kKeyId}}});
  store::ContentKeyPolicy p = policy_of({token_option(symmetric(kSecret), json::array(), claims)});
  json c = good_claims();
  c[store::kContentKeyIdentifierClaim] = kKeyId;
  expect(p, hs(c, kSecret), KeyCheck::kGranted);
  expect(p, hs(c, kSecret), KeyCheck::kKeyId, kOtherKeyId);
}

// A token verified once is remembered (key_policy.cc), but only its signature is: time, claims
// and the key asked for are checked on every request, and another key does not inherit it.
TEST_F(KeyPolicyTest, ARememberedTokenIsStillCheckedEveryTime) {
  json claims = json::array({{{"claimType", store::kContentKeyIdentifierClaim}}});
  store::ContentKeyPolicy p = policy_of({token_option(symmetric(kSecret), json::array(), claims)});
  json c = good_claims();
  c[store::kContentKeyIdentifierClaim] = kKeyId;
  const std::string token = hs(c, kSecret);
  EXPECT_TRUE(evaluate_key_request(p, kKeyId, token, kNow).granted());
  EXPECT_TRUE(evaluate_key_request(p, kKeyId, token, kNow).granted());
  EXPECT_EQ(evaluate_key_request(p, kKeyId, token, kNow + 600 + kClockSkewSeconds).check,
            KeyCheck::kExpired);
  EXPECT_EQ(evaluate_key_request(p, kOtherKeyId, token, kNow).check, KeyCheck::kKeyId);
  // The policy's key replaced: the token no longer verifies.
  store::ContentKeyPolicy rekeyed =
      policy_of({token_option(symmetric(kAlternate), json::array(), claims)});
  EXPECT_EQ(evaluate_key_request(rekeyed, kKeyId, token, kNow).check, KeyCheck::kSignature);
  EXPECT_TRUE(evaluate_key_request(p, kKeyId, token, kNow).granted());
}

TEST_F(KeyPolicyTest, AnswersAndChallenges) {
  store::ContentKeyPolicy p = policy_of({token_option(symmetric(kSecret))});
  KeyDecision missing = evaluate_key_request(p, kKeyId, "", kNow);
  EXPECT_EQ(key_refusal(missing).status, 401u);
  EXPECT_EQ(key_refusal(missing).hresult, std::string(hresult::kKeyTokenMissing));
  EXPECT_EQ(www_authenticate(missing), "Bearer realm=\"keydelivery\"");
  KeyDecision bad = evaluate_key_request(p, kKeyId, hs(good_claims(), kAlternate), kNow);
  EXPECT_EQ(key_refusal(bad).hresult, std::string(hresult::kKeyTokenSignature));
  EXPECT_EQ(www_authenticate(bad),
            "Bearer realm=\"keydelivery\", error=\"invalid_token\", error_description=\"option "
            "'token': no verification key of the policy verifies the signature\"");
}

TEST(BearerToken, HeaderThenQuery) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi", ""), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer   abc.def.ghi  ", ""), "abc.def.ghi");
  EXPECT_EQ(bearer_token("Bearer h.h.h", "q.q.q"), "h.h.h");
  EXPECT_EQ(bearer_token("Basic dXNlcjpwdw==", "q.q.q"), "q.q.q");
  EXPECT_EQ(bearer_token("", "Bearer q.q.q"), "q.q.q");  // token=Bearer%20... decoded
  EXPECT_EQ(bearer_token("", "q.q.q"), "q.q.q");
  EXPECT_EQ(bearer_token("", ""), "");
  EXPECT_EQ(bearer_token("Bearer", ""), "");
  EXPECT_EQ(bearer_token("Bearerabc", ""), "");
}

TEST(RedactToken, OnlyTheTokensValue) {
  EXPECT_EQ(redact_token("kid=1&token=Bearer%20eyJ.x.y"), "kid=1&token=REDACTED");
  EXPECT_EQ(redact_token("TOKEN=a&kid=1&%74oken=b"), "TOKEN=REDACTED&kid=1&%74oken=REDACTED");
  EXPECT_EQ(redact_token("kid=1&tokens=a&"), "kid=1&tokens=a&");
  EXPECT_EQ(redact_token(""), "");
}

}  // namespace
}  // namespace ams::server
