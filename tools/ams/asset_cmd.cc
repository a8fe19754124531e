// ams asset create|list|delete: the assets the endpoint can publish, each a folder holding .ism
// server manifests and their MP4 files.

#include <cstdio>
#include <iterator>

#include "commands.h"
#include "store_cli.h"

namespace ams::tools {
namespace {

int create(int argc, char** argv) {
  OptionString db, path;
  const GOptionEntry entries[] = {
      db_option(&db.value),
      {"path", 'p', 0, G_OPTION_ARG_FILENAME, &path.value,
       "The asset's folder (.ism files and MP4s); made absolute", "DIR"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  if (auto done = parse_command(argc, argv, entries, "NAME --path DIR",
                                "Registers a folder as an asset.", 1)) {
    return *done;
  }
  if (!path) return usage_error("--path is required");
  gchar* absolute = g_canonicalize_filename(path.value, nullptr);
  std::string folder = absolute;
  g_free(absolute);
  if (!g_file_test(folder.c_str(), G_FILE_TEST_IS_DIR)) {
    return fail(not_found(folder + " is not a folder"));
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  Status status = store->create_asset(store::Asset{argv[1], folder, ""});
  return status ? 0 : fail(status);
}

int list(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "",
                                "Lists the assets: name, folder and creation time, "
                                "tab-separated.",
                                0)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(std::vector<store::Asset> assets, store->list_assets());
  for (const store::Asset& a : assets) {
    std::printf("%s\t%s\t%s\n", a.name.c_str(), a.path.c_str(), a.created.c_str());
  }
  return 0;
}

int remove(int argc, char** argv) {
  OptionString db;
  const GOptionEntry entries[] = {db_option(&db.value),
                                  {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (auto done = parse_command(argc, argv, entries, "NAME",
                                "Forgets an asset (its files stay); refused while streaming "
                                "locators publish it.",
                                1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(db.value));
  Status status = store->delete_asset(argv[1]);
  return status ? 0 : fail(status);
}

constexpr SubCommand kSubCommands[] = {
    {"create", "NAME --path DIR", create},
    {"list", "", list},
    {"delete", "NAME", remove},
};

}  // namespace

int asset_main(int argc, char** argv) {
  return dispatch(kSubCommands, std::size(kSubCommands), argc, argv);
}

}  // namespace ams::tools
