// What `ams asset`, `ams policy`, `ams locator` and the filter commands share: a second level of
// sub-commands, the --db option, and the exit statuses of commands.h (0 done, 1 failed, 2 bad
// usage).
#pragma once

#include <glib.h>

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "store/store.h"

namespace ams::tools {

struct SubCommand {
  const char* name;
  const char* usage;  // "NAME --path DIR": printed by `ams asset` without a sub-command
  int (*run)(int argc, char** argv);
};

// Runs `ams GROUP SUB ...`: argv[0] is "ams GROUP"; the sub-command sees "ams GROUP SUB" as its
// argv[0] (and in --help).
int dispatch(const SubCommand* subs, size_t count, int argc, char** argv);

// A string option's value, which GOption allocates.
struct OptionString {
  gchar* value = nullptr;
  OptionString() = default;
  OptionString(const OptionString&) = delete;
  OptionString& operator=(const OptionString&) = delete;
  ~OptionString() { g_free(value); }
  explicit operator bool() const { return value != nullptr; }
};

// A string-array option's values (a repeated option), which GOption allocates; null when absent.
struct OptionStrings {
  gchar** value = nullptr;
  OptionStrings() = default;
  OptionStrings(const OptionStrings&) = delete;
  OptionStrings& operator=(const OptionStrings&) = delete;
  ~OptionStrings() { g_strfreev(value); }
  explicit operator bool() const { return value != nullptr; }
};

// The GOption entry of --db FILE; `db` receives a g_malloc'ed string or stays null.
GOptionEntry db_option(gchar** db);

// Parses the options of a sub-command and checks that exactly `positional` arguments follow
// (their names, for the usage line, in `parameter`). Returns an exit status when parsing ended
// the command (bad usage: 2), nullopt to go on; argv is left holding the positional arguments.
std::optional<int> parse_command(int& argc, char**& argv, const GOptionEntry* entries,
                                 const char* parameter, const char* summary, int positional);

// Opens the store at `db` (or store::default_database_path()), creating its folder.
Result<std::unique_ptr<store::Store>> open_store(const gchar* db);

// The contents of `file`, or of the standard input for "-" (the --json options).
Result<std::string> read_input(const char* file);

int fail(const Status& status);               // "ams asset create: message", returns 1
int usage_error(const std::string& message);  // the message and a pointer to --help, returns 2

}  // namespace ams::tools

// Declares `lhs` from a Result expression; on failure a command prints the error and exits 1.
#define AMS_ASSIGN_OR_RETURN_EXIT(lhs, expr) \
  AMS_ASSIGN_OR_RETURN_EXIT_IMPL_(AMS_CONCAT_(ams_exit_, __LINE__), lhs, expr)
#define AMS_ASSIGN_OR_RETURN_EXIT_IMPL_(tmp, lhs, expr)      \
  auto tmp = (expr);                                         \
  if (!tmp.is_ok()) return ::ams::tools::fail(tmp.status()); \
  lhs = std::move(tmp).value()
