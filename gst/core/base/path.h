// Paths named by untrusted input (.ism src, URL segments): checked before the file system sees
// them, and resolved so that a symlink cannot lead out of the asset folder.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ams {

// Checks that `relative` is a plain relative path that cannot leave its base folder: no absolute
// path, no ".." component, no backslash, no NUL, not empty. Nothing is decoded: "%2e%2e" is a
// strange but harmless name. kInvalidArgument, naming the path, when it fails.
Status check_relative_path(std::string_view relative);

// Joins base_dir and a checked relative path, resolves symlinks (realpath) of the result and checks
// that the resolved path is still inside realpath(base_dir). Returns the resolved path.
// kNotFound if base_dir or the file does not exist, kInvalidArgument if the path fails
// check_relative_path or escapes, kIo for other operating system failures.
Result<std::string> resolve_inside(const std::string& base_dir, std::string_view relative);

// Like POSIX dirname/basename, on strings only: "a/b/x.ism" -> "a/b" and "x.ism";
// "x.ism" -> "." and "x.ism"; "/x" -> "/" and "x"; trailing slashes are ignored.
std::string dirname_of(const std::string& path);
std::string basename_of(const std::string& path);
// The base name without its last extension: "a/b/x.ism" -> "x", "x.tar.gz" -> "x.tar",
// ".hidden" -> ".hidden".
std::string stem_of(const std::string& path);
// Whether `s` ends with `suffix`, ASCII letters compared without case: a file name's extension
// (".MP4" is ".mp4").
bool iends_with(std::string_view s, std::string_view suffix);

}  // namespace ams
