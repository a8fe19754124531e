// ams locator create|list|delete|paths|content-keys: streaming locators publish an asset under a
// GUID with a streaming policy, and optionally filters; under an encrypting policy they hold
// content keys, which a content key policy may restrict. Locators are immutable, as in AMS: delete
// and create again to change one.

#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "commands.h"
#include "store_cli.h"

namespace ams::tools {
namespace {

std::optional<std::string> optional_of(const OptionString& s) {
  return s ? std::optional<std::string>(s.value) : std::nullopt;
}

// "a,b" into {"a", "b"}; nullopt when a name is empty.
std::optional<std::vector<std::string>> parse_names(const char* list) {
  std::vector<std::string> names;
  gchar** parts = g_strsplit(list, ",", -1);
  bool ok = parts[0] != nullptr;
  for (gchar** p = parts; ok && *p != nullptr; ++p) {
    names.push_back(g_strstrip(*p));
    ok = !names.back().empty();
  }
  g_strfreev(parts);
  return ok ? std::optional(names) : std::nullopt;
}

// "TYPE:GUID:BASE64" (the label empty); nullopt when it is not of that shape. The store checks
// the type, the GUID and the length.
std::optional<store::ContentKey> parse_content_key(const char* text) {
  gchar** parts = g_strsplit(text, ":", 3);
  std::optional<store::ContentKey> key;
  if (g_strv_length(parts) == 3 && *parts[2] != '\0') {
    // g_base64_decode does not report bad input: take only what encodes back to the same text.
    gsize size = 0;
    guchar* bytes = g_base64_decode(parts[2], &size);
    gchar* again = g_base64_encode(bytes, size);
    if (std::strcmp(again, parts[2]) == 0) {
      key = store::ContentKey{"", parts[1], parts[0], "",
                              std::string(reinterpret_cast<const char*>(bytes), size)};
    }
    g_free(again);
    g_free(bytes);
  }
  g_strfreev(parts);
  return key;
}

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

int create(int argc, char** argv) {
  OptionString db, asset, policy, id, start, end, filters, key_policy;
  OptionStrings given_keys;
  const GOptionEntry entries[] = {
      db_option(&db.value),
      {"asset", 'a', 0, G_OPTION_ARG_STRING, &asset.value, "The asset to publish", "NAME"},
      {"policy", 'p', 0, G_OPTION_ARG_STRING, &policy.value,
       "The streaming policy, e.g. Predefined_ClearStreamingOnly", "NAME"},
      {"id", 0, 0, G_OPTION_ARG_STRING, &id.value, "The locator id (default: a random GUID)",
       "GUID"},
      {"start", 0, 0, G_OPTION_ARG_STRING, &start.value, "Valid from (default: now)", "ISO8601"},
      {"end", 0, 0, G_OPTION_ARG_STRING, &end.value, "Valid until (default: never)", "ISO8601"},
      {"filters", 0, 0, G_OPTION_ARG_STRING, &filters.value,
       "Filters every request gets, comma-separated: asset filters of the asset or account "
       "filters (an asset filter wins over an account filter of the same name)",
       "NAMES"},
      {"content-key-policy", 0, 0, G_OPTION_ARG_STRING, &key_policy.value,
       "The content key policy of the locator's keys (AMS's defaultContentKeyPolicyName; "
       "default: none, anyone may have them)",
       "NAME"},
      {"content-key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &given_keys.value,
       "A content key to use instead of a generated one (repeat for each scheme of an encrypting "
       "policy): TYPE is EnvelopeEncryption, CommonEncryptionCenc or CommonEncryptionCbcs, VALUE "
       "the 16-byte key in base64",
       "TYPE:GUID:VALUE"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(argc, argv, entries, "--asset NAME --policy NAME",
                                "Publishes an asset; prints the locator id. Under an encrypting "
                                "policy the locator gets a random content key per scheme, unless "
                                "--content-key gives them.",
                                0)) {
    return *done;
  }
  if (!asset || !policy) return usage_error("--asset and --policy are required");
  std::vector<std::string> names;
  if (filters) {
    std::optional<std::vector<std::string>> parsed = parse_names(filters.value);
    if (!parsed) return usage_error(std::string("bad --filters '") + filters.value + "'");
    names = std::move(*parsed);
  }
  std::vector<store::ContentKey> keys;
  for (gchar** k = given_keys.value; k != nullptr && *k != nullptr; ++k) {
    std::optional<store::ContentKey> key = parse_content_key(*k);
    // Without the argument, which holds the key.
    if (!key) return usage_error("a --content-key is not TYPE:GUID:VALUE with a base64 VALUE");
    keys.push_back(std::move(*key));
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  store::Locator request{id ? id.value : "", asset.value, policy.value,     optional_of(start),
                         optional_of(end),   "",          std::move(names), std::move(keys)};
  if (key_policy) request.content_key_policy = key_policy.value;
  AMS_ASSIGN_OR_RETURN_EXIT(store::Locator locator, store->create_locator(request));
  std::printf("%s\n", locator.id.c_str());
  return 0;
}

int list(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "",
                                "Lists the locators: id, asset, policy, start, end, creation time "
                                "and filters (comma-separated), tab-separated (start and filters "
                                "empty when none).",
                                0)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(std::vector<store::Locator> locators, store->list_locators());
  for (const store::Locator& l : locators) {
    std::printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.id.c_str(), l.asset.c_str(), l.policy.c_str(),
                l.start_time.value_or("").c_str(), l.end_time.value_or(store::kEndOfTime).c_str(),
                l.created.c_str(), join(l.filters).c_str());
  }
  return 0;
}

// `ams locator delete ID` and `ams locator paths ID` differ only in what they do with the id.
int with_id(int argc, char** argv, const char* summary,
            int (*action)(store::Store& store, const std::string& id)) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "ID", summary, 1)) return *done;
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  return action(*store, argv[1]);
}

int remove(int argc, char** argv) {
  return with_id(argc, argv, "Deletes a locator: its URLs stop working.",
                 [](store::Store& store, const std::string& id) {
                   Status status = store.delete_locator(id);
                   return status ? 0 : fail(status);
                 });
}

int content_keys(int argc, char** argv) {
  OptionString db;
  gboolean with_secrets = FALSE;
  const GOptionEntry entries[] = {
      db_option(&db.value),
      {"with-secrets", 0, 0, G_OPTION_ARG_NONE, &with_secrets,
       "Include each key's value (base64): anyone who reads it can decrypt the content", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(argc, argv, entries, "ID",
                                "Prints the locator's content keys (the AMS listContentKeys JSON), "
                                "without their values unless --with-secrets.",
                                1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(std::vector<store::ContentKey> keys, store->content_keys(argv[1]));
  std::fputs(store::content_keys_json(keys, with_secrets != FALSE).c_str(), stdout);
  return 0;
}

int paths(int argc, char** argv) {
  return with_id(argc, argv,
                 "Prints the locator's streaming and download paths (the AMS listPaths JSON).",
                 [](store::Store& store, const std::string& id) {
                   AMS_ASSIGN_OR_RETURN_EXIT(std::string json, store.list_paths_json(id));
                   std::fputs(json.c_str(), stdout);
                   return 0;
                 });
}

constexpr SubCommand kSubCommands[] = {
    {"create",
     "--asset NAME --policy NAME [--id GUID] [--start ISO8601] [--end ISO8601] [--filters NAMES] "
     "[--content-key-policy NAME] [--content-key TYPE:GUID:VALUE]...",
     create},
    {"list", "", list},
    {"delete", "ID", remove},
    {"paths", "ID", paths},
    {"content-keys", "ID [--with-secrets]", content_keys},
};

}  // namespace

int locator_main(int argc, char** argv) {
  return dispatch(kSubCommands, std::size(kSubCommands), argc, argv);
}

}  // namespace ams::tools
