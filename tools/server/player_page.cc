#include "player_page.h"

#include <glib.h>

#include "base/json.h"
#include "base/path.h"

namespace ams::server {
namespace {

constexpr std::string_view kFilesPrefix = "/player/";

std::string_view content_type_of(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".map")) return "application/json";
  return "";
}

std::string json_string(std::string_view s) {
  std::string out = ams::json_escape(s);
  out.insert(out.begin(), '"');
  out += '"';
  return out;
}

PlayerAnswer not_found(std::string what) {
  return {404, "text/plain; charset=utf-8", std::move(what) + " not found\n"};
}

PlayerAnswer file_answer(const std::string& player_dir, std::string_view relative) {
  std::string_view type = content_type_of(relative);
  if (type.empty()) return not_found(std::string(relative));
  Result<std::string> file = resolve_inside(player_dir, relative);
  if (!file) return not_found(std::string(relative));
  gchar* text = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(file->c_str(), &text, &size, nullptr)) {
    return not_found(std::string(relative));
  }
  PlayerAnswer answer{200, std::string(type), std::string(text, size)};
  g_free(text);
  return answer;
}

PlayerAnswer locators_answer(store::Store& store) {
  auto locators = store.list_locators();
  if (!locators) return {500, "text/plain; charset=utf-8", locators.status().to_string() + "\n"};
  std::string body = "{\"locators\":[";
  bool first = true;
  for (const store::Locator& l : *locators) {
    auto paths = store.list_paths_json(l.id);
    if (!paths) continue;  // its asset is gone: nothing to play
    body += first ? "\n" : ",\n";
    first = false;
    body += "{\"id\":" + json_string(l.id) + ",\"asset\":" + json_string(l.asset) +
            ",\"policy\":" + json_string(l.policy) + ",\"paths\":" + *paths + "}";
  }
  body += "\n]}\n";
  return {200, "application/json", std::move(body)};
}

}  // namespace

std::string default_player_dir() {
  const std::string bindir = AMS_INSTALLED_BINDIR;
  const std::string installed = AMS_INSTALLED_PLAYER_DIR;
  gchar* exe = g_file_read_link("/proc/self/exe", nullptr);
  std::string dir;
  if (exe != nullptr) {
    gchar* d = g_path_get_dirname(exe);
    dir = d;
    g_free(d);
    g_free(exe);
  }
  // Installed at the prefix itself, or below a DESTDIR: the same prefix goes before the player.
  if (dir.size() >= bindir.size() &&
      dir.compare(dir.size() - bindir.size(), bindir.size(), bindir) == 0) {
    const std::string root = dir.substr(0, dir.size() - bindir.size());
    return root + installed;
  }
  return AMS_SOURCE_PLAYER_DIR;
}

bool is_player_path(std::string_view path) {
  return path == "/" || path == "/api/locators" ||
         path.substr(0, kFilesPrefix.size()) == kFilesPrefix;
}

bool needs_operator_token(std::string_view path) {
  return path == "/api/locators";
}

PlayerAnswer answer_player_path(std::string_view path, const std::string& player_dir,
                                store::Store& store) {
  if (path == "/api/locators") return locators_answer(store);
  if (path == "/") return file_answer(player_dir, "index.html");
  gchar* decoded =
      g_uri_unescape_string(std::string(path.substr(kFilesPrefix.size())).c_str(), nullptr);
  if (decoded == nullptr) return not_found(std::string(path));
  std::string relative = decoded;
  g_free(decoded);
  return file_answer(player_dir, relative);
}

}  // namespace ams::server
