// ams content-key-policy create|show|list|delete: who may have a locator's content keys
// (docs/protection.md). A locator names one (`ams locator create --content-key-policy NAME`);
// `ams serve`'s key delivery enforces it.
//
// `create` takes the AMS JSON (--json) or builds it from flags, and hands the text to the store,
// whose parser (tools/store/content_key_policy.h) is the one judge of what a policy may say.

#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "base/json.h"
#include "commands.h"
#include "store_cli.h"

namespace ams::tools {
namespace {

// The flags that build a policy of one ClearKey option.
struct Flags {
  OptionString description;
  gboolean open = FALSE;
  OptionString hs256;  // base64, or @FILE holding it
  OptionString rs256_pem;
  OptionStrings alternate_hs256;
  OptionStrings alternate_rs256_pem;
  OptionString issuer;
  OptionString audience;
  OptionStrings claims;
  gboolean require_key_id = FALSE;

  bool any() const {
    return open || hs256 || rs256_pem || alternate_hs256 || alternate_rs256_pem || issuer ||
           audience || claims || require_key_id;
  }
  bool token() const { return hs256 || rs256_pem; }
};

std::string trimmed(std::string text) {
  while (!text.empty() && g_ascii_isspace(text.back())) text.pop_back();
  size_t begin = 0;
  while (begin < text.size() && g_ascii_isspace(text[begin])) ++begin;
  return text.substr(begin);
}

// A symmetric key's base64: the argument, or the contents of the file "@FILE" names (so that
// the key stays out of the process list and the shell's history).
Result<std::string> key_value(const char* argument) {
  if (argument[0] != '@') return std::string(argument);
  AMS_ASSIGN_OR_RETURN(std::string text, read_input(argument + 1));
  return trimmed(std::move(text));
}

Status write_symmetric(JsonWriter& w, const char* argument) {
  AMS_ASSIGN_OR_RETURN(std::string value, key_value(argument));
  w.begin_object().key("@odata.type").value(store::kSymmetricTokenKey);
  w.key("keyValue").value(value).end_object();
  return Status::ok();
}

// An RSA public key PEM becomes AMS's modulus and exponent; a certificate stays a certificate.
Status write_rsa(JsonWriter& w, const char* file) {
  AMS_ASSIGN_OR_RETURN(std::string pem, read_input(file));
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    w.begin_object().key("@odata.type").value(store::kX509TokenKey);
    w.key("rawBody").value(pem).end_object();
    return Status::ok();
  }
  Result<store::RsaParameters> rsa = store::rsa_parameters_from_pem(pem);
  // What the file holds is not a usage error (exit 1, not 2).
  if (!rsa) return invalid_data(std::string(file) + ": " + rsa.status().message());
  w.begin_object().key("@odata.type").value(store::kRsaTokenKey);
  w.key("exponent").value(rsa->exponent).key("modulus").value(rsa->modulus).end_object();
  return Status::ok();
}

Status write_claims(JsonWriter& w, const Flags& f) {
  w.key("requiredClaims").begin_array();
  if (f.require_key_id) {
    w.begin_object().key("claimType").value(store::kContentKeyIdentifierClaim).end_object();
  }
  for (gchar** c = f.claims.value; c != nullptr && *c != nullptr; ++c) {
    std::string claim = *c;
    const size_t eq = claim.find('=');
    if (claim.empty() || eq == 0) return invalid_argument("bad --require-claim '" + claim + "'");
    w.begin_object().key("claimType").value(claim.substr(0, eq));
    if (eq != std::string::npos) w.key("claimValue").value(claim.substr(eq + 1));
    w.end_object();
  }
  w.end_array();
  return Status::ok();
}

Result<std::string> json_of(const Flags& f) {
  if (f.open == (f.token() ? TRUE : FALSE)) {
    return invalid_argument("give --open, or one of --token-hs256 and --token-rs256-pem");
  }
  if (f.hs256 && f.rs256_pem) {
    return invalid_argument(
        "--token-hs256 and --token-rs256-pem exclude each other: give the "
        "other key as --alternate-hs256 or --alternate-rs256-pem");
  }
  if (f.open && (f.alternate_hs256 || f.alternate_rs256_pem || f.issuer || f.audience || f.claims ||
                 f.require_key_id)) {
    return invalid_argument("--open takes no token options");
  }
  if (f.token() && (!f.issuer || !f.audience)) {
    return invalid_argument("a token restriction needs --issuer and --audience");
  }
  JsonWriter w;
  w.begin_object().key("properties").begin_object();
  w.key("description").value(f.description ? f.description.value : "");
  w.key("options").begin_array().begin_object();
  w.key("name").value(f.open ? "open" : "token");
  w.key("configuration").begin_object().key("@odata.type").value(store::kClearKeyConfiguration);
  w.end_object().key("restriction").begin_object();
  if (f.open) {
    w.key("@odata.type").value(store::kOpenRestriction);
  } else {
    w.key("@odata.type").value(store::kTokenRestriction);
    w.key("issuer").value(f.issuer.value).key("audience").value(f.audience.value);
    w.key("primaryVerificationKey");
    AMS_RETURN_IF_ERROR(f.hs256 ? write_symmetric(w, f.hs256.value)
                                : write_rsa(w, f.rs256_pem.value));
    w.key("alternateVerificationKeys").begin_array();
    for (gchar** k = f.alternate_hs256.value; k != nullptr && *k != nullptr; ++k) {
      AMS_RETURN_IF_ERROR(write_symmetric(w, *k));
    }
    for (gchar** k = f.alternate_rs256_pem.value; k != nullptr && *k != nullptr; ++k) {
      AMS_RETURN_IF_ERROR(write_rsa(w, *k));
    }
    w.end_array();
    AMS_RETURN_IF_ERROR(write_claims(w, f));
    w.key("restrictionTokenType").value("Jwt");
  }
  w.end_object().end_object().end_array().end_object().end_object();
  return w.str();
}

int create(int argc, char** argv) {
  OptionString db, json;
  Flags f;
  const GOptionEntry entries[] = {
      db_option(&db.value),
      {"json", 0, 0, G_OPTION_ARG_FILENAME, &json.value,
       "The policy as AMS's REST API takes it: {\"properties\": {...}} or the properties ('-': "
       "the standard input)",
       "FILE"},
      {"description", 0, 0, G_OPTION_ARG_STRING, &f.description.value, "The description", "TEXT"},
      {"open", 0, 0, G_OPTION_ARG_NONE, &f.open, "Anyone may have the keys (open restriction)",
       nullptr},
      {"token-hs256", 0, 0, G_OPTION_ARG_STRING, &f.hs256.value,
       "A JWT (HS256/384/512) signed with this symmetric key, base64 (at least 16 bytes), is "
       "required; @FILE reads it from FILE",
       "BASE64KEY"},
      {"token-rs256-pem", 0, 0, G_OPTION_ARG_FILENAME, &f.rs256_pem.value,
       "A JWT (RS256/384/512) signed with the private key of this RSA public key or "
       "certificate (PEM, at least 2048 bits) is required",
       "FILE"},
      {"alternate-hs256", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.alternate_hs256.value,
       "Another symmetric key that signs valid tokens (repeat for more)", "BASE64KEY"},
      {"alternate-rs256-pem", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &f.alternate_rs256_pem.value,
       "Another RSA public key or certificate that verifies tokens (repeat for more)", "FILE"},
      {"issuer", 0, 0, G_OPTION_ARG_STRING, &f.issuer.value, "The tokens' iss", "ISSUER"},
      {"audience", 0, 0, G_OPTION_ARG_STRING, &f.audience.value, "The tokens' aud", "AUDIENCE"},
      {"require-claim", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f.claims.value,
       "A claim the tokens must have (with that value, when given; repeat for more)",
       "TYPE[=VALUE]"},
      {"require-key-id", 0, 0, G_OPTION_ARG_NONE, &f.require_key_id,
       "Tokens must name the key they are for, in the claim "
       "urn:microsoft:azure:mediaservices:contentkeyidentifier",
       nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(
          argc, argv, entries, "NAME [--json FILE | FLAGS]",
          "Creates a content key policy, or replaces the options of the one of that name (AMS's "
          "createOrUpdate), from --json or from the flags (one ClearKey option, open or with a "
          "JWT token restriction); prints it as JSON, without its keys. Tokens must carry exp; "
          "exp and nbf are allowed 60 s of clock skew.",
          1)) {
    return *done;
  }
  if (json && (f.any() || f.description)) {
    return usage_error("--json and the flags that build a policy exclude each other");
  }
  if (!json && !f.any()) return usage_error("give the policy: --json FILE, --open or a token key");
  std::string text;
  if (json) {
    AMS_ASSIGN_OR_RETURN_EXIT(text, read_input(json.value));
  } else {
    Result<std::string> built = json_of(f);
    if (!built.is_ok()) {
      return built.status().code() == StatusCode::kInvalidArgument
                 ? usage_error(built.status().message())
                 : fail(built.status());
    }
    text = *built;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(store::ContentKeyPolicy stored,
                            store->put_content_key_policy(argv[1], text));
  std::fputs(store::content_key_policy_json(stored, false).c_str(), stdout);
  return 0;
}

int show(int argc, char** argv) {
  OptionString db;
  gboolean with_secrets = FALSE;
  const GOptionEntry entries[] = {
      db_option(&db.value),
      {"with-secrets", 0, 0, G_OPTION_ARG_NONE, &with_secrets,
       "Include the verification keys (and FairPlay's secrets), as AMS's "
       "getPolicyPropertiesWithSecrets: anyone who reads a symmetric key can make tokens",
       nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(argc, argv, entries, "NAME",
                                "Prints a content key policy as the AMS REST API does (JSON), its "
                                "keys blank unless --with-secrets; that output is a valid --json "
                                "of create.",
                                1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(store::ContentKeyPolicy policy, store->get_content_key_policy(argv[1]));
  std::fputs(store::content_key_policy_json(policy, with_secrets != FALSE).c_str(), stdout);
  return 0;
}

// "ClearKey:token,Widevine:open": each option's configuration and restriction.
std::string summary(const store::ContentKeyPolicy& p) {
  std::string out;
  for (const store::PolicyOption& o : p.options) {
    std::string configuration = o.configuration;
    const std::string prefix = "#Microsoft.Media.ContentKeyPolicy";
    if (configuration.starts_with(prefix)) configuration.erase(0, prefix.size());
    if (configuration.ends_with("Configuration")) configuration.resize(configuration.size() - 13);
    out += (out.empty() ? "" : ",") + configuration + ":" + (o.token ? "token" : "open");
  }
  return out;
}

int list(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "",
                                "Lists the content key policies by name: name, policy id, options "
                                "(configuration:restriction, comma-separated), last modified and "
                                "description, tab-separated.",
                                0)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(std::vector<store::ContentKeyPolicy> policies,
                            store->list_content_key_policies());
  for (const store::ContentKeyPolicy& p : policies) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", p.name.c_str(), p.id.c_str(), summary(p).c_str(),
                p.last_modified.c_str(), p.description.c_str());
  }
  return 0;
}

int remove(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "NAME",
                                "Deletes a content key policy; refused while a locator uses it "
                                "(delete the locators first).",
                                1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  Status status = store->delete_content_key_policy(argv[1]);
  return status ? 0 : fail(status);
}

constexpr SubCommand kSubCommands[] = {
    {"create",
     "NAME [--json FILE | --open | (--token-hs256 BASE64KEY | --token-rs256-pem FILE) --issuer "
     "ISSUER --audience AUDIENCE [--alternate-hs256 BASE64KEY]... [--alternate-rs256-pem "
     "FILE]... [--require-claim TYPE[=VALUE]]... [--require-key-id]] [--description TEXT]",
     create},
    {"show", "NAME [--with-secrets]", show},
    {"list", "", list},
    {"delete", "NAME", remove},
};

}  // namespace

int content_key_policy_main(int argc, char** argv) {
  return dispatch(kSubCommands, std::size(kSubCommands), argc, argv);
}

}  // namespace ams::tools
