#include "key_policy.h"

#include <glib.h>
#include <jwt.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "url/request.h"

namespace ams::server {
namespace {

using nlohmann::json;
using store::TokenKey;

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

KeyDecision refuse(KeyCheck check, std::string detail) {
  return KeyDecision{check, std::move(detail)};
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool base64url_text(std::string_view part) {
  for (char c : part) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

std::optional<json> json_of_part(std::string_view part) {
  std::string standard(part);
  for (char& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
  std::optional<std::string> bytes = store::decode_base64(standard);
  if (!bytes) return std::nullopt;
  json parsed = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

// What the header says, read before the signature is checked: only to pick the keys.
struct Header {
  jwt_alg_t alg = JWT_ALG_INVAL;
  TokenKey::Type key_type = TokenKey::Type::kSymmetric;
};

// The token's shape and its algorithm; a refusal when either is not acceptable.
std::optional<KeyDecision> check_header(const std::string& token, Header& out) {
  if (token.size() > kMaxTokenBytes) {
    return refuse(KeyCheck::kTokenMalformed,
                  "the token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  const size_t first = token.find('.');
  const size_t second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos || token.find('.', second + 1) != std::string::npos ||
      !base64url_text(std::string_view(token).substr(0, first)) ||
      !base64url_text(std::string_view(token).substr(first + 1, second - first - 1)) ||
      !base64url_text(std::string_view(token).substr(second + 1))) {
    return refuse(KeyCheck::kTokenMalformed, "the token is not three base64url parts (a JWS)");
  }
  std::optional<json> header = json_of_part(std::string_view(token).substr(0, first));
  if (!header) return refuse(KeyCheck::kTokenMalformed, "the token's header is not JSON");
  if (header->contains("typ") &&
      (!(*header)["typ"].is_string() || !same((*header)["typ"].get<std::string>(), "JWT"))) {
    return refuse(KeyCheck::kTokenMalformed, "the token's typ is not JWT");
  }
  const json alg = header->value("alg", json());
  out.alg = alg.is_string() ? jwt_str_alg(alg.get<std::string>().c_str()) : JWT_ALG_INVAL;
  switch (out.alg) {
    case JWT_ALG_HS256:
    case JWT_ALG_HS384:
    case JWT_ALG_HS512:
      out.key_type = TokenKey::Type::kSymmetric;
      return std::nullopt;
    case JWT_ALG_RS256:
    case JWT_ALG_RS384:
    case JWT_ALG_RS512:
      out.key_type = TokenKey::Type::kRsa;
      return std::nullopt;
    default:
      return refuse(KeyCheck::kAlgorithm,
                    "the token's alg is not HS256, HS384, HS512, RS256, RS384 or RS512");
  }
}

// Tokens whose signature a key verified, and their claims: players fetch a key more than once
// with one token, and libjwt reads an RSA key's PEM for every check (about 0.35 ms of OpenSSL 3's
// decoders, against 20 us for the signature itself). Keyed by the token and a SHA-256 of the
// key, so that a policy's new keys are never matched by an old entry; only successes are kept
// (what an attacker sends does not fill it), and the time claims are checked on every request.
// One per thread (each loop is one), bounded like the catalog's caches.
constexpr size_t kMaxVerifiedTokens = 4096;
thread_local std::unordered_map<std::string, json> verified_tokens;

std::string cache_key(const std::string& token, const std::string& material) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(material.data(), material.size(), digest, &size, EVP_sha256(), nullptr);
  return token + '\n' + std::string(reinterpret_cast<char*>(digest), size);
}

// The claims of the token, once one of `keys` of its kind verifies its signature.
std::optional<KeyDecision> verify(const std::string& token, const Header& header,
                                  const store::TokenRestriction& restriction, json& claims) {
  bool any_of_kind = false;
  for (const TokenKey& key : restriction.keys) {
    if (key.type != header.key_type) continue;
    any_of_kind = true;
    const std::string& material =
        key.type == TokenKey::Type::kSymmetric ? key.secret : key.public_key_pem;
    const std::string cached = cache_key(token, material);
    if (auto it = verified_tokens.find(cached); it != verified_tokens.end()) {
      claims = it->second;
      return std::nullopt;
    }
    jwt_t* decoded = nullptr;
    const int rc =
        jwt_decode(&decoded, token.c_str(), reinterpret_cast<const unsigned char*>(material.data()),
                   static_cast<int>(material.size()));
    JwtPtr jwt(decoded);
    if (rc != 0 || !jwt || jwt_get_alg(jwt.get()) != header.alg) continue;
    char* text = jwt_get_grants_json(jwt.get(), nullptr);
    if (text == nullptr) return refuse(KeyCheck::kTokenMalformed, "the token has no claims");
    claims = json::parse(text, nullptr, /*allow_exceptions=*/false);
    std::free(text);
    if (claims.is_discarded() || !claims.is_object()) {
      return refuse(KeyCheck::kTokenMalformed, "the token's claims are not a JSON object");
    }
    if (verified_tokens.size() >= kMaxVerifiedTokens) verified_tokens.clear();
    verified_tokens.emplace(cached, claims);
    return std::nullopt;
  }
  if (!any_of_kind) {
    return refuse(KeyCheck::kAlgorithm,
                  std::string("the token is signed with ") + jwt_alg_str(header.alg) +
                      " but the policy has no " +
                      (header.key_type == TokenKey::Type::kSymmetric ? "symmetric" : "RSA") +
                      " verification key");
  }
  return refuse(KeyCheck::kSignature, "no verification key of the policy verifies the signature");
}

// A NumericDate claim (RFC 7519: seconds, possibly with a fraction); nullopt when absent, a
// refusal when it is not a number.
std::optional<KeyDecision> numeric_date(const json& claims, const char* name,
                                        std::optional<double>& out) {
  auto it = claims.find(name);
  if (it == claims.end() || it->is_null()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    return refuse(KeyCheck::kTokenMalformed,
                  std::string("the token's ") + name + " is not a number of seconds");
  }
  out = it->get<double>();
  return std::nullopt;
}

// A claim value as text: strings as they are, numbers and booleans as JSON writes them.
std::optional<std::string> claim_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  return std::nullopt;
}

// Whether a claim has `value`, or holds it (an array claim, as .NET's token handler reads one).
bool claim_has(const json& claim, const std::function<bool(const std::string&)>& matches) {
  if (claim.is_array()) {
    for (const json& element : claim) {
      std::optional<std::string> t = claim_text(element);
      if (t && matches(*t)) return true;
    }
    return false;
  }
  std::optional<std::string> t = claim_text(claim);
  return t && matches(*t);
}

std::optional<std::string> key_id_of(std::string_view claimed) {
  constexpr std::string_view kV2Prefix = "nb:kid:UUID:";
  if (claimed.size() > kV2Prefix.size() && same(claimed.substr(0, kV2Prefix.size()), kV2Prefix)) {
    claimed.remove_prefix(kV2Prefix.size());
  }
  return url::normalize_guid(claimed);
}

std::optional<KeyDecision> check_claims(const json& claims,
                                        const store::TokenRestriction& restriction,
                                        std::string_view key_id, int64_t now) {
  std::optional<double> exp, nbf;
  if (auto refused = numeric_date(claims, "exp", exp)) return refused;
  if (auto refused = numeric_date(claims, "nbf", nbf)) return refused;
  if (!exp) {
    return refuse(KeyCheck::kExpiryMissing, "the token has no exp claim: tokens must expire");
  }
  const double t = static_cast<double>(now);
  if (t >= *exp + kClockSkewSeconds) {
    return refuse(KeyCheck::kExpired, "the token expired at " + std::to_string(std::llround(*exp)) +
                                          " (now " + std::to_string(now) + ", " +
                                          std::to_string(kClockSkewSeconds) +
                                          " s of skew allowed)");
  }
  if (nbf && t + kClockSkewSeconds < *nbf) {
    return refuse(KeyCheck::kNotYetValid,
                  "the token is valid from " + std::to_string(std::llround(*nbf)) + " (now " +
                      std::to_string(now) + ", " + std::to_string(kClockSkewSeconds) +
                      " s of skew allowed)");
  }
  auto equals = [](const std::string& want) {
    return [want](const std::string& got) { return got == want; };
  };
  const json iss = claims.value("iss", json());
  if (!iss.is_string() || iss.get<std::string>() != restriction.issuer) {
    return refuse(KeyCheck::kIssuer, "the token's iss is not the policy's issuer");
  }
  const json aud = claims.value("aud", json());
  if (!(aud.is_string() || aud.is_array()) || !claim_has(aud, equals(restriction.audience))) {
    return refuse(KeyCheck::kAudience, "the token's aud is not the policy's audience");
  }
  const std::optional<std::string> asked = url::normalize_guid(key_id);
  for (const store::RequiredClaim& required : restriction.required_claims) {
    auto it = claims.find(required.type);
    if (it == claims.end() || it->is_null()) {
      return refuse(KeyCheck::kClaim, "the token has no " + required.type + " claim");
    }
    if (required.value && !claim_has(*it, equals(*required.value))) {
      return refuse(KeyCheck::kClaim,
                    "the token's " + required.type + " claim is not the value the policy requires");
    }
    if (same(required.type, store::kContentKeyIdentifierClaim)) {
      auto names_key = [&](const std::string& claimed) {
        std::optional<std::string> id = key_id_of(claimed);
        return id && asked && *id == *asked;
      };
      if (!claim_has(*it, names_key)) {
        return refuse(KeyCheck::kKeyId, "the token's " + required.type +
                                            " claim names another key than " + std::string(key_id));
      }
    }
  }
  return std::nullopt;
}

KeyDecision check_option(const store::TokenRestriction& restriction, const std::string& token,
                         std::string_view key_id, int64_t now) {
  Header header;
  if (auto refused = check_header(token, header)) return *refused;
  json claims;
  if (auto refused = verify(token, header, restriction, claims)) return *refused;
  if (auto refused = check_claims(claims, restriction, key_id, now)) return *refused;
  return KeyDecision{};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "Bearer TOKEN" -> "TOKEN"; nullopt for another scheme.
std::optional<std::string_view> after_bearer(std::string_view text) {
  text = trim(text);
  constexpr std::string_view kScheme = "Bearer";
  if (text.size() <= kScheme.size() || !same(text.substr(0, kScheme.size()), kScheme) ||
      (text[kScheme.size()] != ' ' && text[kScheme.size()] != '\t')) {
    return std::nullopt;
  }
  return trim(text.substr(kScheme.size()));
}

}  // namespace

KeyDecision evaluate_key_request(const store::ContentKeyPolicy& policy, std::string_view key_id,
                                 std::string_view bearer, int64_t now) {
  std::optional<KeyDecision> first_refusal;
  const std::string token(bearer);
  for (const store::PolicyOption& option : policy.options) {
    if (option.configuration != store::kClearKeyConfiguration) continue;
    if (!option.token) return KeyDecision{};  // an open restriction
    KeyDecision d = token.empty()
                        ? refuse(KeyCheck::kTokenMissing, "the request carries no bearer token")
                        : check_option(*option.token, token, key_id, now);
    if (d.granted()) return d;
    if (!first_refusal) {
      if (!option.name.empty()) d.detail = "option '" + option.name + "': " + d.detail;
      first_refusal = std::move(d);
    }
  }
  if (first_refusal) return *first_refusal;
  return refuse(KeyCheck::kNoClearKeyOption,
                "content key policy '" + policy.name + "' has no ClearKey option");
}

Status authorize_key_request(const store::ContentKeyPolicy& policy, const std::string& key_id,
                             const std::string& bearer, int64_t now) {
  KeyDecision d = evaluate_key_request(policy, key_id, bearer, now);
  if (d.granted()) return Status::ok();
  if (d.check == KeyCheck::kNoClearKeyOption) return unsupported(d.detail);
  return invalid_argument(d.detail);
}

HttpError key_refusal(const KeyDecision& d) {
  const char* code = hresult::kInternal;
  switch (d.check) {
    case KeyCheck::kGranted:
      break;
    case KeyCheck::kNoClearKeyOption:
      return http_error(403, hresult::kKeyNotAllowedByPolicy, d.detail);
    case KeyCheck::kTokenMissing:
      code = hresult::kKeyTokenMissing;
      break;
    case KeyCheck::kTokenMalformed:
      code = hresult::kKeyTokenMalformed;
      break;
    case KeyCheck::kAlgorithm:
      code = hresult::kKeyTokenAlgorithm;
      break;
    case KeyCheck::kSignature:
      code = hresult::kKeyTokenSignature;
      break;
    case KeyCheck::kExpiryMissing:
      code = hresult::kKeyTokenExpiryMissing;
      break;
    case KeyCheck::kExpired:
      code = hresult::kKeyTokenExpired;
      break;
    case KeyCheck::kNotYetValid:
      code = hresult::kKeyTokenNotYetValid;
      break;
    case KeyCheck::kIssuer:
      code = hresult::kKeyTokenIssuer;
      break;
    case KeyCheck::kAudience:
      code = hresult::kKeyTokenAudience;
      break;
    case KeyCheck::kClaim:
      code = hresult::kKeyTokenClaim;
      break;
    case KeyCheck::kKeyId:
      code = hresult::kKeyTokenKeyId;
      break;
  }
  return http_error(401, code, d.detail);
}

std::string www_authenticate(const KeyDecision& d) {
  std::string challenge = "Bearer realm=\"keydelivery\"";
  if (d.check == KeyCheck::kTokenMissing) return challenge;
  // The detail is ours (no token text); a quoted-string holds no quote, backslash or control.
  std::string description = d.detail;
  for (char& c : description) {
    if (c == '"' || c == '\\') c = '\'';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return challenge + ", error=\"invalid_token\", error_description=\"" + description + "\"";
}

std::string bearer_token(std::string_view authorization, std::string_view token_parameter) {
  if (std::optional<std::string_view> from_header = after_bearer(authorization)) {
    return std::string(*from_header);
  }
  std::string_view t = trim(token_parameter);
  if (std::optional<std::string_view> prefixed = after_bearer(t)) t = *prefixed;
  return std::string(t);
}

std::string redact_token(std::string_view query) {
  std::string out;
  size_t begin = 0;
  while (begin <= query.size()) {
    size_t end = query.find('&', begin);
    if (end == std::string_view::npos) end = query.size();
    std::string_view param = query.substr(begin, end - begin);
    if (!out.empty() || begin > 0) out += '&';
    const size_t eq = param.find('=');
    // The name as the server reads it: "%74oken" is token too.
    const std::string raw_name(param.substr(0, eq == std::string_view::npos ? param.size() : eq));
    gchar* name = g_uri_unescape_string(raw_name.c_str(), nullptr);
    const bool is_token = name != nullptr && same(name, "token");
    g_free(name);
    if (eq != std::string_view::npos && is_token) {
      out += std::string(param.substr(0, eq)) + "=REDACTED";
    } else {
      out += param;
    }
    begin = end + 1;
  }
  return out;
}

}  // namespace ams::server
