// ams locator create|list|delete|paths: streaming locators publish an asset under a GUID with a
// streaming policy, and optionally filters. Locators are immutable, as in AMS: delete and create
// again to change one.

#include <cstdio>
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

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ",") + name;
  return joined;
}

int create(int argc, char** argv) {
  OptionString db, asset, policy, id, start, end, filters;
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
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(argc, argv, entries, "--asset NAME --policy NAME",
                                "Publishes an asset; prints the locator id.", 0)) {
    return *done;
  }
  if (!asset || !policy) return usage_error("--asset and --policy are required");
  std::vector<std::string> names;
  if (filters) {
    std::optional<std::vector<std::string>> parsed = parse_names(filters.value);
    if (!parsed) return usage_error(std::string("bad --filters '") + filters.value + "'");
    names = std::move(*parsed);
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  store::Locator request{id ? id.value : "", asset.value, policy.value,    optional_of(start),
                         optional_of(end),   "",          std::move(names)};
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
     "--asset NAME --policy NAME [--id GUID] [--start ISO8601] [--end ISO8601] [--filters NAMES]",
     create},
    {"list", "", list},
    {"delete", "ID", remove},
    {"paths", "ID", paths},
};

}  // namespace

int locator_main(int argc, char** argv) {
  return dispatch(kSubCommands, std::size(kSubCommands), argc, argv);
}

}  // namespace ams::tools
