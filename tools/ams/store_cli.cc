#include "store_cli.h"

#include <glib/gstdio.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace ams::tools {
namespace {

void print_subcommands(FILE* out, const SubCommand* subs, size_t count) {
  std::fprintf(out, "Usage:\n");
  for (size_t i = 0; i < count; ++i) {
    std::fprintf(out, "  %s %s%s%s\n", g_get_prgname(), subs[i].name, *subs[i].usage ? " " : "",
                 subs[i].usage);
  }
  std::fprintf(out, "\nEvery command takes --db FILE (default: $AMS_DB, else %s).\n",
               store::default_database_path().c_str());
}

// Frees the GOption string results on every path out of a command.
struct OptionContext {
  GOptionContext* context;
  ~OptionContext() { g_option_context_free(context); }
};

}  // namespace

int dispatch(const SubCommand* subs, size_t count, int argc, char** argv) {
  if (argc < 2) {
    print_subcommands(stderr, subs, count);
    return 2;
  }
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_subcommands(stdout, subs, count);
    return 0;
  }
  for (size_t i = 0; i < count; ++i) {
    if (std::strcmp(argv[1], subs[i].name) != 0) continue;
    std::string program = std::string(g_get_prgname()) + " " + subs[i].name;
    g_set_prgname(program.c_str());
    std::vector<char*> args(argv + 1, argv + argc);
    args[0] = program.data();
    args.push_back(nullptr);
    return subs[i].run(static_cast<int>(args.size()) - 1, args.data());
  }
  std::fprintf(stderr, "%s: unknown command '%s'\n\n", g_get_prgname(), argv[1]);
  print_subcommands(stderr, subs, count);
  return 2;
}

GOptionEntry db_option(gchar** db) {
  return GOptionEntry{"db",  0,
                      0,     G_OPTION_ARG_FILENAME,
                      db,    "The database (default: $AMS_DB, else ~/.local/share/gst-ams/ams.db)",
                      "FILE"};
}

std::optional<int> parse_command(int& argc, char**& argv, const GOptionEntry* entries,
                                 const char* parameter, const char* summary, int positional) {
  OptionContext options{g_option_context_new(parameter)};
  g_option_context_set_summary(options.context, summary);
  g_option_context_add_main_entries(options.context, entries, nullptr);
  GError* error = nullptr;
  if (!g_option_context_parse(options.context, &argc, &argv, &error)) {
    std::string text = error->message;
    g_clear_error(&error);
    return usage_error(text);
  }
  if (argc - 1 != positional) {
    return usage_error(argc - 1 < positional ? "missing arguments" : "too many arguments");
  }
  return std::nullopt;
}

Result<std::unique_ptr<store::Store>> open_store(const gchar* db) {
  std::string path = db != nullptr ? db : store::default_database_path();
  gchar* folder = g_path_get_dirname(path.c_str());
  int made = g_mkdir_with_parents(folder, 0700);
  g_free(folder);
  if (made != 0) return io_error(path + ": cannot create its folder");
  return store::Store::open(path);
}

Result<std::string> read_input(const char* file) {
  if (std::string(file) == "-") {
    std::string text;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) text.append(buffer, n);
    if (std::ferror(stdin)) return io_error("cannot read the standard input");
    return text;
  }
  gchar* contents = nullptr;
  gsize length = 0;
  GError* error = nullptr;
  if (!g_file_get_contents(file, &contents, &length, &error)) {
    Status status = io_error(error->message);
    g_clear_error(&error);
    return status;
  }
  std::string text(contents, length);
  g_free(contents);
  return text;
}

int fail(const Status& status) {
  std::fprintf(stderr, "%s: %s\n", g_get_prgname(), status.message().c_str());
  return 1;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "%s: %s\nRun `%s --help` for the options.\n", g_get_prgname(),
               message.c_str(), g_get_prgname());
  return 2;
}

}  // namespace ams::tools
