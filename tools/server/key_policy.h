// Who may have a content key (docs/protection.md): a key request checked against the content key
// policy of the key's locator. Key delivery (AES-128, server.cc) and the ClearKey licence endpoint
// both ask authorize_key_request(); it only computes (no I/O, no lock), so a main loop may call
// it: a few microseconds for a token seen before (a per-thread cache of verified signatures), 15
// for a new HS256 token, about 0.4 ms for a new RS256 one, most of it libjwt having OpenSSL read
// the key's PEM (bench/key_policy_bench.cc).
//
// Of the policy, the options with the ClearKey configuration apply. An open one grants the key;
// a token one grants it for a JWT (libjwt 1.10 verifies the signature) that passes every check,
// in this order:
//   - the token: three base64url parts; a header whose alg is HS256/384/512 or RS256/384/512
//     and the kind of at least one of the option's keys (never "none"; an HS token is never
//     checked against an RSA key's bytes, the algorithm confusion libjwt alone would allow);
//     typ, when present, "JWT";
//   - the signature, by the primary or any alternate verification key;
//   - exp, required (a token without one would open the key for ever), and nbf when present,
//     each with kClockSkewSeconds of tolerance;
//   - iss equal to the issuer, aud equal to (or, an array, holding) the audience;
//   - every required claim present, and equal to its claimValue when it has one (a claim that is
//     an array holds it); the content key identifier claim must also name the key asked for
//     (a GUID in any case, or AMS v2's "nb:kid:UUID:" form).
// Only claims of a verified token are read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "errors.h"
#include "store/content_key_policy.h"

namespace ams::server {

// How far the clocks of the token's issuer and of this server may disagree: tokens are issued by
// servers (NTP keeps them within a second or so), not by players.
inline constexpr int64_t kClockSkewSeconds = 60;
// Longer tokens are refused before any parsing (a JWT of an RS512 signature and a dozen claims
// is about 1 KiB).
inline constexpr size_t kMaxTokenBytes = 8192;

// The check that decided.
enum class KeyCheck {
  kGranted,
  kNoClearKeyOption,  // no option of the policy delivers keys in the clear: 403
  // 401, each its own hresult (errors.h):
  kTokenMissing,
  kTokenMalformed,
  kAlgorithm,
  kSignature,
  kExpiryMissing,
  kExpired,
  kNotYetValid,
  kIssuer,
  kAudience,
  kClaim,
  kKeyId,
};

struct KeyDecision {
  KeyCheck check = KeyCheck::kGranted;
  // Which check failed and why, for the log: never the token, and no claim value from it.
  std::string detail;
  bool granted() const { return check == KeyCheck::kGranted; }
};

// The decision for a request for key `key_id` (a GUID) carrying `bearer` ("" for none) at `now`
// (seconds since 1970, UTC).
KeyDecision evaluate_key_request(const store::ContentKeyPolicy& policy, std::string_view key_id,
                                 std::string_view bearer, int64_t now);

// The same as a Status: ok when granted; kInvalidArgument (a 401) when the token is missing or
// fails a check; kUnsupported (a 403) when the policy has no ClearKey option. The message is the
// decision's detail.
Status authorize_key_request(const store::ContentKeyPolicy& policy, const std::string& key_id,
                             const std::string& bearer, int64_t now);

// The HTTP answer of a refusal: 401 with the check's hresult, or 403; and the WWW-Authenticate
// challenge of a 401 (RFC 6750 section 3: error="invalid_token" with a description, none for a
// request without a token).
HttpError key_refusal(const KeyDecision& decision);
std::string www_authenticate(const KeyDecision& decision);

// The token of a request: the Authorization header's "Bearer TOKEN" (the scheme in any case),
// else the token= query parameter, URL-decoded, without AMS's "Bearer " prefix (which players
// send as Bearer%20 or Bearer+). "" when neither has one.
std::string bearer_token(std::string_view authorization, std::string_view token_parameter);

// A query with the value of every token= parameter replaced by "REDACTED", for the access log.
std::string redact_token(std::string_view query);

}  // namespace ams::server
