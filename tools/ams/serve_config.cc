#include "serve_config.h"

#include <unistd.h>

#include <cstring>
#include <string_view>

namespace ams::tools {
namespace {

// The line of `key` in group [serve] of the file's text (1-based), or 0. GKeyFile keeps no line
// numbers, so the text is read again for the message.
int line_of(const std::string& text, std::string_view group, std::string_view key) {
  int line = 0;
  std::string_view current;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view l(text.data() + pos, end - pos);
    ++line;
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    if (!l.empty() && l.front() == '[') {
      size_t close = l.find(']');
      current = close == std::string_view::npos ? l.substr(1) : l.substr(1, close - 1);
      if (key.empty() && current == group) return line;
    } else if (!key.empty() && current == group && l.substr(0, key.size()) == key) {
      std::string_view rest = l.substr(key.size());
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      if (!rest.empty() && rest.front() == '=') return line;
    }
    pos = end + 1;
  }
  return 0;
}

std::string where(const std::string& path, int line) {
  return line > 0 ? path + ":" + std::to_string(line) : path;
}

}  // namespace

Result<std::vector<std::string>> config_arguments(const std::string& path,
                                                  const GOptionEntry* entries) {
  gchar* contents = nullptr;
  gsize size = 0;
  GError* error = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &size, &error)) {
    std::string message = error->message;
    g_error_free(error);
    return not_found(message);
  }
  const std::string text(contents, size);
  g_free(contents);
  GKeyFile* file = g_key_file_new();
  if (!g_key_file_load_from_data(file, text.data(), text.size(), G_KEY_FILE_NONE, &error)) {
    std::string message = path + ": " + error->message;
    g_error_free(error);
    g_key_file_free(file);
    return invalid_argument(message);
  }
  gchar* dir = g_path_get_dirname(path.c_str());
  const std::string folder = dir;
  g_free(dir);
  std::vector<std::string> args;
  Status failure = Status::ok();
  gchar** groups = g_key_file_get_groups(file, nullptr);
  for (gchar** g = groups; *g != nullptr && failure; ++g) {
    if (std::strcmp(*g, "serve") != 0) {
      failure = invalid_argument(where(path, line_of(text, *g, "")) + ": unknown group [" +
                                 std::string(*g) + "] (the options are in [serve])");
      break;
    }
    gchar** keys = g_key_file_get_keys(file, *g, nullptr, nullptr);
    for (gchar** k = keys; *k != nullptr; ++k) {
      const GOptionEntry* entry = nullptr;
      for (const GOptionEntry* e = entries; e->long_name != nullptr; ++e) {
        if (std::strcmp(e->long_name, *k) == 0 && std::strcmp(*k, "config") != 0) entry = e;
      }
      const std::string at = where(path, line_of(text, *g, *k));
      if (entry == nullptr) {
        failure = invalid_argument(at + ": unknown key '" + std::string(*k) +
                                   "' (the keys are the long options of `ams serve --help`)");
        break;
      }
      gchar* value = g_key_file_get_string(file, *g, *k, &error);
      if (value == nullptr) {
        failure = invalid_argument(at + ": " + error->message);
        g_clear_error(&error);
        break;
      }
      std::string v = value;
      g_free(value);
      if (entry->arg == G_OPTION_ARG_NONE) {
        if (v == "true") {
          args.push_back(std::string("--") + *k);
        } else if (v != "false") {
          failure = invalid_argument(at + ": '" + std::string(*k) + "' is true or false");
          break;
        }
        continue;
      }
      const bool path_value = entry->arg == G_OPTION_ARG_FILENAME;
      if (path_value && !v.empty() && v != "-" && !g_path_is_absolute(v.c_str())) {
        v = folder + "/" + v;
      }
      args.push_back(std::string("--") + *k + "=" + v);
    }
    g_strfreev(keys);
  }
  g_strfreev(groups);
  g_key_file_free(file);
  if (!failure) return failure;
  return args;
}

std::string default_config_path() {
  gchar* exe = g_file_read_link("/proc/self/exe", nullptr);
  if (exe == nullptr) return "";
  gchar* d = g_path_get_dirname(exe);
  const std::string dir = d;
  g_free(d);
  g_free(exe);
  if (dir != AMS_INSTALLED_BINDIR) return "";
  const std::string path = std::string(AMS_INSTALLED_SYSCONFDIR) + "/gst-ams/ams.conf";
  return g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR) ? path : "";
}

}  // namespace ams::tools
