#include "content_key_policy.h"

#include <glib.h>

#include <initializer_list>
#include <nlohmann/json.hpp>

#include "rsa_key.h"
#include "url/request.h"

namespace ams::store {
namespace {

// Ordered: the stored text keeps AMS's order of members.
using Json = nlohmann::ordered_json;

constexpr const char* kConfigurations[] = {kClearKeyConfiguration, kPlayReadyConfiguration,
                                           kWidevineConfiguration, kFairPlayConfiguration};
// FairPlay's secrets: the application secret key and the certificate with its password.
constexpr const char* kFairPlaySecrets[] = {"ask", "fairPlayPfx", "fairPlayPfxPassword"};
constexpr char kOdataType[] = "@odata.type";

Status bad(const std::string& where, const std::string& what) {
  return invalid_argument("content key policy: " + where + ": " + what);
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && g_ascii_strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// The member of `object` named `name` in any case (the SDKs and ARM differ in case), or nullptr;
// a null member counts as absent.
const Json* member(const Json& object, std::string_view name) {
  for (const auto& [key, value] : object.items()) {
    if (same(key, name)) return value.is_null() ? nullptr : &value;
  }
  return nullptr;
}

// Refuses a member outside `known`: a misspelt requiredClaims would otherwise drop a check.
Status only_members(const Json& object, std::initializer_list<std::string_view> known,
                    const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || same(key, k);
    if (!found) return bad(where, "unknown member \"" + key + "\"");
  }
  return Status::ok();
}

Result<std::string> text(const Json& object, std::string_view name, const std::string& where,
                         bool required) {
  const Json* v = member(object, name);
  if (v == nullptr) {
    if (required) return bad(where, std::string(name) + " is required");
    return std::string();
  }
  if (!v->is_string()) return bad(where, std::string(name) + " is not a string");
  return v->get<std::string>();
}

// The @odata.type of `object` in AMS's spelling, if it is one of `names`.
Result<std::string> odata_type(const Json& object, std::initializer_list<const char*> names,
                               const std::string& where) {
  if (!object.is_object()) return bad(where, "not an object");
  AMS_ASSIGN_OR_RETURN(std::string type, text(object, kOdataType, where, true));
  for (const char* n : names) {
    if (same(type, n)) return std::string(n);
  }
  return bad(where, "@odata.type \"" + type + "\" is not supported");
}

Result<std::string> base64_member(const Json& key, std::string_view name,
                                  const std::string& where) {
  AMS_ASSIGN_OR_RETURN(std::string encoded, text(key, name, where, true));
  std::optional<std::string> bytes = decode_base64(encoded);
  if (!bytes || bytes->empty()) return bad(where, std::string(name) + " is not base64");
  return *bytes;
}

// A verification key: its normalized JSON and what verification uses.
Result<TokenKey> parse_key(const Json& in, Json& out, const std::string& where) {
  AMS_ASSIGN_OR_RETURN(std::string type,
                       odata_type(in, {kSymmetricTokenKey, kRsaTokenKey, kX509TokenKey}, where));
  out = Json::object();
  out[kOdataType] = type;
  TokenKey key;
  if (type == kSymmetricTokenKey) {
    AMS_RETURN_IF_ERROR(only_members(in, {kOdataType, "keyValue"}, where));
    AMS_ASSIGN_OR_RETURN(key.secret, base64_member(in, "keyValue", where));
    if (key.secret.size() < kMinSymmetricKeyBytes) {
      // The length only: the value is secret.
      return bad(where, "keyValue is " + std::to_string(key.secret.size()) + " bytes: at least " +
                            std::to_string(kMinSymmetricKeyBytes) + " are needed");
    }
    out["keyValue"] = encode_base64(key.secret);
  } else if (type == kRsaTokenKey) {
    AMS_RETURN_IF_ERROR(only_members(in, {kOdataType, "exponent", "modulus"}, where));
    AMS_ASSIGN_OR_RETURN(std::string exponent, base64_member(in, "exponent", where));
    AMS_ASSIGN_OR_RETURN(std::string modulus, base64_member(in, "modulus", where));
    key.type = TokenKey::Type::kRsa;
    Result<std::string> pem = rsa_pem_from_parameters(modulus, exponent);
    if (!pem) return bad(where, pem.status().message());
    key.public_key_pem = std::move(*pem);
    out["exponent"] = encode_base64(exponent);
    out["modulus"] = encode_base64(modulus);
  } else {
    AMS_RETURN_IF_ERROR(only_members(in, {kOdataType, "rawBody"}, where));
    AMS_ASSIGN_OR_RETURN(std::string raw, text(in, "rawBody", where, true));
    // AMS takes the DER in base64; a PEM certificate is taken too and kept as its DER.
    std::optional<std::string> der = decode_base64(raw);
    Result<std::string> body = certificate_der(der ? *der : raw);
    if (!body) return bad(where, "rawBody: " + body.status().message());
    Result<std::string> pem = rsa_pem_from_certificate(*body);
    if (!pem) return bad(where, pem.status().message());
    key.type = TokenKey::Type::kRsa;
    key.public_key_pem = std::move(*pem);
    out["rawBody"] = encode_base64(*body);
  }
  return key;
}

Result<RequiredClaim> parse_claim(const Json& in, Json& out, const std::string& where) {
  if (!in.is_object()) return bad(where, "not an object");
  AMS_RETURN_IF_ERROR(only_members(in, {"claimType", "claimValue"}, where));
  RequiredClaim claim;
  AMS_ASSIGN_OR_RETURN(claim.type, text(in, "claimType", where, true));
  if (claim.type.empty()) return bad(where, "claimType is empty");
  out = Json::object();
  out["claimType"] = claim.type;
  if (member(in, "claimValue") != nullptr) {
    AMS_ASSIGN_OR_RETURN(std::string value, text(in, "claimValue", where, false));
    if (same(claim.type, kContentKeyIdentifierClaim) && !url::normalize_guid(value)) {
      return bad(where,
                 "the claimValue of " + std::string(kContentKeyIdentifierClaim) + " is not a GUID");
    }
    out["claimValue"] = value;
    claim.value = std::move(value);
  }
  return claim;
}

Result<TokenRestriction> parse_token(const Json& in, Json& out, const std::string& where) {
  AMS_RETURN_IF_ERROR(only_members(
      in,
      {kOdataType, "issuer", "audience", "primaryVerificationKey", "alternateVerificationKeys",
       "requiredClaims", "restrictionTokenType", "openIdConnectDiscoveryDocument"},
      where));
  AMS_ASSIGN_OR_RETURN(std::string token_type, text(in, "restrictionTokenType", where, true));
  if (same(token_type, "Swt")) {
    return bad(where,
               "restrictionTokenType Swt (Simple Web Token) is not supported: it is a retired "
               "Microsoft format; use Jwt");
  }
  if (!same(token_type, "Jwt")) return bad(where, "restrictionTokenType is not Jwt");
  AMS_ASSIGN_OR_RETURN(std::string discovery,
                       text(in, "openIdConnectDiscoveryDocument", where, false));
  if (!discovery.empty()) {
    return bad(where,
               "openIdConnectDiscoveryDocument is not supported: give the keys as "
               "primaryVerificationKey and alternateVerificationKeys");
  }
  TokenRestriction token;
  AMS_ASSIGN_OR_RETURN(token.issuer, text(in, "issuer", where, true));
  AMS_ASSIGN_OR_RETURN(token.audience, text(in, "audience", where, true));
  if (token.issuer.empty() || token.audience.empty()) {
    return bad(where, "issuer and audience must not be empty");
  }
  out = Json::object();
  out[kOdataType] = kTokenRestriction;
  out["issuer"] = token.issuer;
  out["audience"] = token.audience;
  const Json* primary = member(in, "primaryVerificationKey");
  if (primary == nullptr) return bad(where, "primaryVerificationKey is required");
  Json key_out;
  AMS_ASSIGN_OR_RETURN(TokenKey first,
                       parse_key(*primary, key_out, where + ".primaryVerificationKey"));
  token.keys.push_back(std::move(first));
  out["primaryVerificationKey"] = std::move(key_out);
  out["alternateVerificationKeys"] = Json::array();
  if (const Json* alternates = member(in, "alternateVerificationKeys")) {
    if (!alternates->is_array()) return bad(where, "alternateVerificationKeys is not an array");
    for (size_t i = 0; i < alternates->size(); ++i) {
      AMS_ASSIGN_OR_RETURN(
          TokenKey k, parse_key((*alternates)[i], key_out,
                                where + ".alternateVerificationKeys[" + std::to_string(i) + "]"));
      token.keys.push_back(std::move(k));
      out["alternateVerificationKeys"].push_back(std::move(key_out));
    }
  }
  out["requiredClaims"] = Json::array();
  if (const Json* claims = member(in, "requiredClaims")) {
    if (!claims->is_array()) return bad(where, "requiredClaims is not an array");
    for (size_t i = 0; i < claims->size(); ++i) {
      Json claim_out;
      AMS_ASSIGN_OR_RETURN(RequiredClaim c,
                           parse_claim((*claims)[i], claim_out,
                                       where + ".requiredClaims[" + std::to_string(i) + "]"));
      token.required_claims.push_back(std::move(c));
      out["requiredClaims"].push_back(std::move(claim_out));
    }
  }
  out["restrictionTokenType"] = "Jwt";
  return token;
}

std::string new_guid() {
  gchar* id = g_uuid_string_random();  // version 4, lower case
  std::string out = id;
  g_free(id);
  return out;
}

Result<PolicyOption> parse_option(const Json& in, Json& out, const std::string& where) {
  if (!in.is_object()) return bad(where, "not an object");
  AMS_RETURN_IF_ERROR(
      only_members(in, {"policyOptionId", "name", "configuration", "restriction"}, where));
  PolicyOption option;
  AMS_ASSIGN_OR_RETURN(std::string id, text(in, "policyOptionId", where, false));
  if (id.empty()) id = new_guid();
  std::optional<std::string> guid = url::normalize_guid(id);
  if (!guid) return bad(where, "policyOptionId is not a GUID");
  option.id = *guid;
  AMS_ASSIGN_OR_RETURN(option.name, text(in, "name", where, false));
  const Json* configuration = member(in, "configuration");
  if (configuration == nullptr) return bad(where, "configuration is required");
  const std::string config_where = where + ".configuration";
  AMS_ASSIGN_OR_RETURN(option.configuration, odata_type(*configuration,
                                                        {kConfigurations[0], kConfigurations[1],
                                                         kConfigurations[2], kConfigurations[3]},
                                                        config_where));
  if (option.configuration == kClearKeyConfiguration) {
    AMS_RETURN_IF_ERROR(only_members(*configuration, {kOdataType}, config_where));
  }
  // The DRM configurations are kept as given (their licences come from licence servers), with
  // the type first in AMS's spelling.
  Json config_out = Json::object();
  config_out[kOdataType] = option.configuration;
  for (const auto& [key, value] : configuration->items()) {
    if (!same(key, kOdataType)) config_out[key] = value;
  }
  const Json* restriction = member(in, "restriction");
  if (restriction == nullptr) return bad(where, "restriction is required");
  const std::string restriction_where = where + ".restriction";
  AMS_ASSIGN_OR_RETURN(
      std::string restriction_type,
      odata_type(*restriction, {kOpenRestriction, kTokenRestriction}, restriction_where));
  Json restriction_out = Json::object();
  if (restriction_type == kOpenRestriction) {
    AMS_RETURN_IF_ERROR(only_members(*restriction, {kOdataType}, restriction_where));
    restriction_out[kOdataType] = kOpenRestriction;
  } else {
    AMS_ASSIGN_OR_RETURN(option.token,
                         parse_token(*restriction, restriction_out, restriction_where));
  }
  out = Json::object();
  out["policyOptionId"] = option.id;
  out["name"] = option.name;
  out["configuration"] = std::move(config_out);
  out["restriction"] = std::move(restriction_out);
  return option;
}

// Blanks what only getPolicyPropertiesWithSecrets shows.
void hide_secrets(Json& options) {
  for (Json& option : options) {
    Json& configuration = option["configuration"];
    if (configuration.value(kOdataType, "") == kFairPlayConfiguration) {
      for (const char* secret : kFairPlaySecrets) {
        if (configuration.contains(secret)) configuration[secret] = "";
      }
    }
    Json& restriction = option["restriction"];
    if (!restriction.contains("primaryVerificationKey")) continue;
    auto blank = [](Json& key) {
      for (const char* material : {"keyValue", "exponent", "modulus", "rawBody"}) {
        if (key.contains(material)) key[material] = "";
      }
    };
    blank(restriction["primaryVerificationKey"]);
    for (Json& key : restriction["alternateVerificationKeys"]) blank(key);
  }
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

Result<ContentKeyPolicy> parse_content_key_policy(std::string_view text_in) {
  Json root = Json::parse(text_in, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid_argument("content key policy: not JSON");
  if (!root.is_object()) return invalid_argument("content key policy: not a JSON object");
  const Json* props = &root;
  if (const Json* wrapped = member(root, "properties")) {
    AMS_RETURN_IF_ERROR(
        only_members(root, {"properties", "name", "id", "type", "systemData"}, "the policy"));
    props = wrapped;
  }
  if (!props->is_object()) return bad("properties", "not an object");
  AMS_RETURN_IF_ERROR(only_members(
      *props, {"description", "options", "policyId", "created", "lastModified"}, "properties"));
  ContentKeyPolicy policy;
  AMS_ASSIGN_OR_RETURN(policy.description, text(*props, "description", "properties", false));
  const Json* options = member(*props, "options");
  if (options == nullptr || !options->is_array() || options->empty()) {
    return bad("properties", "options must be a list of at least one option");
  }
  Json out = Json::object();
  out["description"] = policy.description;
  out["options"] = Json::array();
  for (size_t i = 0; i < options->size(); ++i) {
    Json option_out;
    AMS_ASSIGN_OR_RETURN(PolicyOption option, parse_option((*options)[i], option_out,
                                                           "options[" + std::to_string(i) + "]"));
    for (const PolicyOption& before : policy.options) {
      if (before.id == option.id) {
        return bad("options[" + std::to_string(i) + "]", "policyOptionId " + option.id + " twice");
      }
    }
    policy.options.push_back(std::move(option));
    out["options"].push_back(std::move(option_out));
  }
  policy.properties = out.dump();
  return policy;
}

std::string content_key_policy_json(const ContentKeyPolicy& policy, bool with_secrets) {
  Json stored = Json::parse(policy.properties, nullptr, /*allow_exceptions=*/false);
  Json options = stored.is_object() && stored.contains("options") && stored["options"].is_array()
                     ? stored["options"]
                     : Json::array();
  if (!with_secrets) hide_secrets(options);
  Json properties = Json::object();
  properties["policyId"] = policy.id;
  properties["created"] = policy.created;
  properties["lastModified"] = policy.last_modified;
  properties["description"] = policy.description;
  properties["options"] = std::move(options);
  Json out = Json::object();
  out["name"] = policy.name;
  out["properties"] = std::move(properties);
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

bool has_clear_key_option(const ContentKeyPolicy& policy) {
  for (const PolicyOption& option : policy.options) {
    if (option.configuration == kClearKeyConfiguration) return true;
  }
  return false;
}

Result<RsaParameters> rsa_parameters_from_pem(std::string_view pem) {
  AMS_ASSIGN_OR_RETURN(RsaNumbers numbers, rsa_numbers_from_pem(pem));
  return RsaParameters{encode_base64(numbers.modulus), encode_base64(numbers.exponent)};
}

std::optional<std::string> decode_base64(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  // The bits left over must be zero, or another text would decode to the same bytes.
  if ((bits & ((1u << count) - 1)) != 0) return std::nullopt;
  return out;
}

std::string encode_base64(std::string_view bytes) {
  gchar* text = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
  std::string out = text;
  g_free(text);
  return out;
}

}  // namespace ams::store
