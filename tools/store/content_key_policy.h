// Content key policies (AMS ContentKeyPolicy, docs/protection.md): who may have a content key.
// A policy has options; each option has a configuration (the form the key is delivered in:
// ClearKey for the AES-128 key and W3C ClearKey licences; PlayReady, Widevine and FairPlay kept as
// given, for the licence servers that deliver them) and a restriction: open (anyone), or a token
// (a JWT with an issuer, an audience, a signature by one of the verification keys and the
// required claims).
//
// The JSON is the AMS REST API's (Content Key Policies - Create Or Update), kept in the store as
// AMS writes it; parsing it here turns the verification keys into the forms key delivery checks
// a token with (libjwt, tools/server/key_policy.h): raw HMAC secrets and RSA public keys in PEM.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ams::store {

// The @odata.type names of AMS's REST API.
inline constexpr char kClearKeyConfiguration[] =
    "#Microsoft.Media.ContentKeyPolicyClearKeyConfiguration";
inline constexpr char kPlayReadyConfiguration[] =
    "#Microsoft.Media.ContentKeyPolicyPlayReadyConfiguration";
inline constexpr char kWidevineConfiguration[] =
    "#Microsoft.Media.ContentKeyPolicyWidevineConfiguration";
inline constexpr char kFairPlayConfiguration[] =
    "#Microsoft.Media.ContentKeyPolicyFairPlayConfiguration";
inline constexpr char kOpenRestriction[] = "#Microsoft.Media.ContentKeyPolicyOpenRestriction";
inline constexpr char kTokenRestriction[] = "#Microsoft.Media.ContentKeyPolicyTokenRestriction";
inline constexpr char kSymmetricTokenKey[] = "#Microsoft.Media.ContentKeyPolicySymmetricTokenKey";
inline constexpr char kRsaTokenKey[] = "#Microsoft.Media.ContentKeyPolicyRsaTokenKey";
inline constexpr char kX509TokenKey[] = "#Microsoft.Media.ContentKeyPolicyX509CertificateTokenKey";
// The claim that binds a token to one content key: as a required claim, the token's value must be
// the id of the key asked for.
inline constexpr char kContentKeyIdentifierClaim[] =
    "urn:microsoft:azure:mediaservices:contentkeyidentifier";

// The shortest keys accepted. HMAC: 128 bits, the size of the keys AMS's own examples used (RFC
// 7518 asks for the hash's size, 256 bits for HS256; 128 bits are still beyond brute force). RSA:
// 2048 bits, as RFC 7518 section 3.3 requires.
inline constexpr size_t kMinSymmetricKeyBytes = 16;
inline constexpr int kMinRsaKeyBits = 2048;

// A verification key of a token restriction. X.509 certificates become their RSA public key.
struct TokenKey {
  enum class Type { kSymmetric, kRsa };
  Type type = Type::kSymmetric;
  std::string secret;          // kSymmetric: the raw HMAC key. Secret: never printed or logged.
  std::string public_key_pem;  // kRsa: the SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY")
};

struct RequiredClaim {
  std::string type;                  // claimType
  std::optional<std::string> value;  // claimValue; absent: any value will do
};

struct TokenRestriction {
  std::string issuer;
  std::string audience;
  std::vector<TokenKey> keys;  // primaryVerificationKey, then alternateVerificationKeys
  std::vector<RequiredClaim> required_claims;
};

struct PolicyOption {
  std::string id;             // policyOptionId: a lower-case GUID
  std::string name;           // may be empty
  std::string configuration;  // the configuration's @odata.type (kClearKeyConfiguration...)
  std::optional<TokenRestriction> token;  // nullopt: the open restriction
};

struct ContentKeyPolicy {
  std::string name;  // unique ignoring case; letters, digits, '-', '_', '.', up to 260
  std::string id;    // policyId: a lower-case GUID
  std::string description;
  std::vector<PolicyOption> options;
  // {"description", "options"} as AMS writes them, secrets included: what the store keeps.
  std::string properties;
  std::string created;  // ISO 8601 UTC
  std::string last_modified;
};

// Parses the AMS JSON of a policy: {"properties": {...}} or the properties object, with
// "options" (at least one) and an optional "description"; the server's own members (policyId,
// created, lastModified) are ignored. Options without a policyOptionId get a random one. Returns
// the policy with name, id and times empty and `properties` set to the normalized JSON.
//
// Refused (kInvalidArgument naming the place): a configuration other than ClearKey, PlayReady,
// Widevine or FairPlay; a restriction other than open or token; a token restriction without
// issuer, audience or primaryVerificationKey, with restrictionTokenType Swt (not supported: SWT is
// a retired Microsoft format) or an openIdConnectDiscoveryDocument (the keys must be given);
// an unknown member of a restriction, key or claim; a key that is not base64, a symmetric key
// shorter than kMinSymmetricKeyBytes, an RSA key (modulus/exponent or an X.509 certificate's, DER
// in base64 or PEM) shorter than kMinRsaKeyBits or not RSA.
Result<ContentKeyPolicy> parse_content_key_policy(std::string_view json);

// The AMS JSON of a stored policy, indented: {"name", "properties": {"policyId", "created",
// "lastModified", "description", "options"}}. Without `with_secrets` every verification key's
// material (keyValue, modulus, exponent, rawBody) and FairPlay's ask and PFX are "", as AMS's Get
// answers; with it they are as stored (AMS's getPolicyPropertiesWithSecrets). The output with
// secrets is a valid input of parse_content_key_policy.
std::string content_key_policy_json(const ContentKeyPolicy& policy, bool with_secrets);

// Whether an option of `policy` has the ClearKey configuration (what AES-128 key delivery and
// ClearKey licences look for).
bool has_clear_key_option(const ContentKeyPolicy& policy);

// The AMS RSA token key members of a PEM public key ("BEGIN PUBLIC KEY") or of an X.509
// certificate's key ("BEGIN CERTIFICATE"): {modulus, exponent} in base64, big-endian. For the
// command line's --token-rs256-pem. kInvalidArgument when it is neither, or not RSA.
struct RsaParameters {
  std::string modulus;
  std::string exponent;
};
Result<RsaParameters> rsa_parameters_from_pem(std::string_view pem);

// Strict base64 (RFC 4648 section 4, padding optional); nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

}  // namespace ams::store
