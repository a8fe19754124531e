#include "base/status.h"

namespace ams {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidData:
      return "invalid-data";
    case StatusCode::kTruncated:
      return "truncated";
    case StatusCode::kUnsupported:
      return "unsupported";
    case StatusCode::kNotFound:
      return "not-found";
    case StatusCode::kInvalidArgument:
      return "invalid-argument";
    case StatusCode::kIo:
      return "io";
    case StatusCode::kResourceLimit:
      return "resource-limit";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(status_code_name(code_)) + ": " + message_;
}

Status& Status::with_context(const std::string& where) {
  if (!is_ok()) message_ = where + ": " + message_;
  return *this;
}

}  // namespace ams
