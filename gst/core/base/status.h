// Status and Result: how the core reports failure without exceptions.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ams {

enum class StatusCode {
  kOk = 0,
  kInvalidData,      // the input is malformed (bad box, bad XML, impossible value)
  kTruncated,        // the input ends before a structure it announces
  kUnsupported,      // well-formed, but a feature this project does not handle
  kNotFound,         // a named thing (file, track, fragment) does not exist
  kInvalidArgument,  // the caller asked for something impossible
  kIo,               // the operating system failed a read
  kResourceLimit,    // the input asks for more memory or work than we allow
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid-data: stsz: sample count 5000 exceeds box size"
  std::string to_string() const;

  // Prefixes the message with where the failure happened, e.g. "moov/trak[1]".
  Status& with_context(const std::string& where);

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_data(std::string message) {
  return Status(StatusCode::kInvalidData, std::move(message));
}
inline Status truncated(std::string message) {
  return Status(StatusCode::kTruncated, std::move(message));
}
inline Status unsupported(std::string message) {
  return Status(StatusCode::kUnsupported, std::move(message));
}
inline Status not_found(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status invalid_argument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status io_error(std::string message) {
  return Status(StatusCode::kIo, std::move(message));
}
inline Status resource_limit(std::string message) {
  return Status(StatusCode::kResourceLimit, std::move(message));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ams

// Returns early from a function returning Status or Result<T> when `expr` fails.
#define AMS_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::ams::Status ams_status_ = (expr);           \
    if (!ams_status_.is_ok()) return ams_status_; \
  } while (0)

#define AMS_CONCAT_INNER_(a, b) a##b
#define AMS_CONCAT_(a, b) AMS_CONCAT_INNER_(a, b)
// Declares `lhs` from a Result<T> expression, returning its Status on failure.
#define AMS_ASSIGN_OR_RETURN(lhs, expr) \
  AMS_ASSIGN_OR_RETURN_IMPL_(AMS_CONCAT_(ams_result_, __LINE__), lhs, expr)
#define AMS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.is_ok()) return tmp.status();           \
  lhs = std::move(tmp).value()
