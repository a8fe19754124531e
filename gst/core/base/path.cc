#include "base/path.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ams {
namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// realpath(3) with its failure turned into a Status.
Result<std::string> real_path(const std::string& path, const char* what) {
  std::unique_ptr<char, FreeDeleter> resolved(::realpath(path.c_str(), nullptr));
  if (resolved) return std::string(resolved.get());
  int err = errno;
  std::string message = std::string(what) + " " + quoted(path) + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR) return not_found(message);
  return io_error(message);
}

bool is_inside(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

// The path with trailing slashes removed, except a path made only of slashes, which becomes "/".
std::string_view without_trailing_slashes(std::string_view path) {
  size_t end = path.find_last_not_of('/');
  if (end == std::string_view::npos) return path.empty() ? path : path.substr(0, 1);
  return path.substr(0, end + 1);
}

}  // namespace

Status check_relative_path(std::string_view relative) {
  if (relative.empty()) return invalid_argument("path is empty");
  if (relative.find('\0') != std::string_view::npos) {
    return invalid_argument("path " + quoted(relative) + " contains a NUL byte");
  }
  if (relative.find('\\') != std::string_view::npos) {
    return invalid_argument("path " + quoted(relative) + " contains a backslash");
  }
  if (relative.front() == '/') {
    return invalid_argument("path " + quoted(relative) + " is absolute");
  }
  size_t start = 0;
  while (start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string_view::npos) end = relative.size();
    if (relative.substr(start, end - start) == "..") {
      return invalid_argument("path " + quoted(relative) + " has a \"..\" component");
    }
    start = end + 1;
  }
  return Status::ok();
}

Result<std::string> resolve_inside(const std::string& base_dir, std::string_view relative) {
  AMS_RETURN_IF_ERROR(check_relative_path(relative));
  AMS_ASSIGN_OR_RETURN(std::string base, real_path(base_dir, "folder"));
  std::string joined = base + (base == "/" ? "" : "/") + std::string(relative);
  AMS_ASSIGN_OR_RETURN(std::string resolved, real_path(joined, "file"));
  if (!is_inside(resolved, base)) {
    return invalid_argument("path " + quoted(relative) + " resolves to " + quoted(resolved) +
                            ", outside " + quoted(base));
  }
  return resolved;
}

std::string dirname_of(const std::string& path) {
  std::string_view p = without_trailing_slashes(path);
  size_t slash = p.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  std::string_view dir = without_trailing_slashes(p.substr(0, slash + 1));
  return std::string(dir);
}

std::string basename_of(const std::string& path) {
  std::string_view p = without_trailing_slashes(path);
  if (p == "/") return "/";
  size_t slash = p.find_last_of('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

std::string stem_of(const std::string& path) {
  std::string base = basename_of(path);
  size_t dot = base.find_last_of('.');
  if (dot == std::string::npos || dot == 0) return base;
  return base.substr(0, dot);
}

bool iends_with(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  const std::string_view tail = s.substr(s.size() - suffix.size());
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < tail.size(); ++i) {
    if (lower(tail[i]) != lower(suffix[i])) return false;
  }
  return true;
}

}  // namespace ams
