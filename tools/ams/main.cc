// ams: the command-line tool of gst-ams. `ams <command> [options]`; see kCommands.

#include <glib.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;  // one line for `ams --help`
  int (*run)(int argc, char** argv);
};

constexpr Command kCommands[] = {
    {"encode", "Encode a file or a test pattern into an asset as the AMS encoder leaves one",
     ams::tools::encode_main},
    {"inspect", "Print an asset's presentation (tracks, codec strings, fragments) as JSON",
     ams::tools::inspect_main},
    {"package", "Write an asset's manifests and segments as files for a static web server",
     ams::tools::package_main},
    {"asset", "Register, list and delete assets (folders of .ism and MP4 files)",
     ams::tools::asset_main},
    {"policy", "Create, list and show streaming policies", ams::tools::policy_main},
    {"locator", "Publish assets under streaming locators and list their URLs",
     ams::tools::locator_main},
    {"account-filter", "Create, show, list and delete account filters (dynamic manifest filters)",
     ams::tools::account_filter_main},
    {"asset-filter", "Create, show, list and delete the filters of an asset",
     ams::tools::asset_filter_main},
    {"content-key-policy", "Create, show, list and delete content key policies (who gets the keys)",
     ams::tools::content_key_policy_main},
    {"serve", "Serve the published assets as the AMS streaming endpoint does",
     ams::tools::serve_main},
};

void print_usage(FILE* out) {
  std::fprintf(out,
               "Usage: ams <command> [options]\n"
               "       ams help <command>\n\n"
               "Commands:\n");
  for (const Command& command : kCommands) {
    std::fprintf(out, "  %-19s %s\n", command.name, command.summary);
  }
  std::fprintf(out, "\nRun `ams <command> --help` for the options of a command.\n");
}

const Command* find_command(const char* name) {
  for (const Command& command : kCommands) {
    if (std::strcmp(command.name, name) == 0) return &command;
  }
  return nullptr;
}

int unknown_command(const char* name) {
  std::fprintf(stderr, "ams: unknown command '%s'\n\n", name);
  print_usage(stderr);
  return 2;
}

// Runs `command` with argv[0] replaced by "ams <command>", which GOption prints in its usage.
int run(const Command& command, std::vector<char*> args) {
  std::string program = std::string("ams ") + command.name;
  g_set_prgname(program.c_str());
  args[0] = program.data();
  args.push_back(nullptr);
  return command.run(static_cast<int>(args.size()) - 1, args.data());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const char* first = argv[1];
  if (std::strcmp(first, "--help") == 0 || std::strcmp(first, "-h") == 0) {
    print_usage(stdout);
    return 0;
  }
  if (std::strcmp(first, "--version") == 0) {
    std::printf("ams %s\n", AMS_VERSION);
    return 0;
  }
  if (std::strcmp(first, "help") == 0) {
    if (argc < 3) {
      print_usage(stdout);
      return 0;
    }
    const Command* command = find_command(argv[2]);
    if (command == nullptr) return unknown_command(argv[2]);
    char help[] = "--help";
    return run(*command, {argv[2], help});
  }
  const Command* command = find_command(first);
  if (command == nullptr) return unknown_command(first);
  return run(*command, std::vector<char*>(argv + 1, argv + argc));
}
