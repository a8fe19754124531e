// What a key request's token check costs on the main loop (tools/server/key_policy.h): the whole
// of evaluate_key_request() — header, libjwt's signature check, claims — for HS256 and RS256
// (2048-bit) tokens that pass, each seen for the first time (distinct tokens) and again (the
// verified-token cache), and for tokens whose signature fails. Prints microseconds per check.
//   build/bench/key_policy_bench [ITERATIONS]
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "key_policy.h"
#include "store/content_key_policy.h"

namespace {

using ams::server::evaluate_key_request;

constexpr char kKeyId[] = "0b7d4f1e-2c3a-4d5e-8f60-718293a4b5c6";
const std::string kSecret = "a 32-byte HMAC key for the bench";

std::string bytes_of(EVP_PKEY* key, const char* name) {
  BIGNUM* n = nullptr;
  EVP_PKEY_get_bn_param(key, name, &n);
  std::string out(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(n);
  return out;
}

std::string private_pem(EVP_PKEY* key) {
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(out);
  return pem;
}

std::string token(jwt_alg_t alg, const std::string& key, long now, int serial = 0) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grant_int(jwt, "jti", serial);
  jwt_add_grant(jwt, "iss", "urn:issuer");
  jwt_add_grant(jwt, "aud", "urn:audience");
  jwt_add_grant(jwt, ams::store::kContentKeyIdentifierClaim, kKeyId);
  jwt_add_grant_int(jwt, "exp", now + 3600);
  jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* text = jwt_encode_str(jwt);
  std::string out = text != nullptr ? text : "";
  free(text);
  jwt_free(jwt);
  return out;
}

ams::store::ContentKeyPolicy policy(const std::string& key_json) {
  const std::string json =
      R"({"options": [{"configuration": {"@odata.type":
      "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration"},
      "restriction": {"@odata.type": "#Microsoft.Media.ContentKeyPolicyTokenRestriction",
        "issuer": "urn:issuer", "audience": "urn:audience", "restrictionTokenType": "Jwt",
        "requiredClaims": [{"claimType": "urn:microsoft:azure:mediaservices:contentkeyidentifier"}],
        "primaryVerificationKey": )" +
      key_json + "}}]}";
  ams::Result<ams::store::ContentKeyPolicy> p = ams::store::parse_content_key_policy(json);
  if (!p) {
    std::fprintf(stderr, "%s\n", p.status().to_string().c_str());
    std::exit(1);
  }
  return *p;
}

// Checks each of `tokens` in turn, `iterations` times in all.
void measure(const char* what, const ams::store::ContentKeyPolicy& p,
             const std::vector<std::string>& tokens, long now, int iterations,
             bool expect_granted) {
  auto start = std::chrono::steady_clock::now();
  int granted = 0;
  for (int i = 0; i < iterations; ++i) {
    granted += evaluate_key_request(p, kKeyId, tokens[i % tokens.size()], now).granted() ? 1 : 0;
  }
  const double us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  if (granted != (expect_granted ? iterations : 0)) {
    std::fprintf(stderr, "%s: %d of %d granted\n", what, granted, iterations);
    std::exit(1);
  }
  std::printf("%-38s %8.2f us per check (%d checks)\n", what, us / iterations, iterations);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
  const long now = static_cast<long>(std::time(nullptr));
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  const std::string symmetric =
      R"({"@odata.type": "#Microsoft.Media.ContentKeyPolicySymmetricTokenKey", "keyValue": ")" +
      ams::store::encode_base64(kSecret) + "\"}";
  const std::string rsa_key =
      R"({"@odata.type": "#Microsoft.Media.ContentKeyPolicyRsaTokenKey", "exponent": ")" +
      ams::store::encode_base64(bytes_of(rsa, OSSL_PKEY_PARAM_RSA_E)) + R"(", "modulus": ")" +
      ams::store::encode_base64(bytes_of(rsa, OSSL_PKEY_PARAM_RSA_N)) + "\"}";
  const ams::store::ContentKeyPolicy hs = policy(symmetric);
  const ams::store::ContentKeyPolicy rs = policy(rsa_key);
  // Fewer RS256 checks: each distinct token costs a signature to make first.
  const int rsa_iterations = std::max(1, iterations / 10);
  std::vector<std::string> hs_fresh, rs_fresh;
  for (int i = 0; i < iterations; ++i) hs_fresh.push_back(token(JWT_ALG_HS256, kSecret, now, i));
  const std::string pem = private_pem(rsa);
  for (int i = 0; i < rsa_iterations; ++i) rs_fresh.push_back(token(JWT_ALG_RS256, pem, now, i));
  measure("HS256, granted, first sight", hs, hs_fresh, now, iterations, true);
  measure("HS256, granted, again", hs, {hs_fresh[0]}, now, iterations, true);
  measure("HS256, bad signature", hs,
          {token(JWT_ALG_HS256, "another 32-byte key, not ours..", now)}, now, iterations, false);
  measure("RS256 (2048 bits), granted, first sight", rs, rs_fresh, now, rsa_iterations, true);
  measure("RS256 (2048 bits), granted, again", rs, {rs_fresh[0]}, now, iterations, true);
  EVP_PKEY* stranger = EVP_RSA_gen(2048);
  measure("RS256 (2048 bits), bad signature", rs,
          {token(JWT_ALG_RS256, private_pem(stranger), now)}, now, rsa_iterations, false);
  EVP_PKEY_free(stranger);
  EVP_PKEY_free(rsa);
  return 0;
}
