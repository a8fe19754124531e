#include "operator_auth.h"

#include <glib.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace ams::server {

Result<std::string> read_token_file(const std::string& path) {
  gchar* text = nullptr;
  gsize size = 0;
  GError* error = nullptr;
  if (!g_file_get_contents(path.c_str(), &text, &size, &error)) {
    const bool missing = g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    std::string message = path + ": " + error->message;
    g_error_free(error);
    return missing ? not_found(message) : io_error(message);
  }
  std::string_view all(text, size);
  std::string_view line = all.substr(0, all.find('\n'));
  while (!line.empty() && g_ascii_isspace(line.back())) line.remove_suffix(1);
  while (!line.empty() && g_ascii_isspace(line.front())) line.remove_prefix(1);
  std::string token(line);
  g_free(text);
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return invalid_argument(path +
                              ": the token holds a character that is not printable "
                              "ASCII");
    }
  }
  if (token.size() < kMinTokenLength) {
    return invalid_argument(path + ": the token is shorter than " +
                            std::to_string(kMinTokenLength) + " characters");
  }
  return token;
}

Result<std::string> new_token() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token;
  uint32_t bits = 0;
  int held = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    held += 8;
    while (held >= 6) {
      held -= 6;
      token += kAlphabet[(bits >> held) & 63];
    }
  }
  if (held > 0) token += kAlphabet[(bits << (6 - held)) & 63];
  return token;
}

bool bearer_matches(const char* authorization, std::string_view token) {
  if (authorization == nullptr || token.empty()) return false;
  std::string_view value(authorization);
  constexpr std::string_view kScheme = "Bearer ";
  // The scheme is case-insensitive (RFC 9110 11.1).
  if (value.size() < kScheme.size() ||
      g_ascii_strncasecmp(value.data(), kScheme.data(), kScheme.size()) != 0) {
    return false;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  // Every byte of the token is compared, whatever the length given, so the time taken tells
  // nothing about how much of a guess was right.
  unsigned char differ = value.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    const unsigned char given = i < value.size() ? static_cast<unsigned char>(value[i]) : 0;
    differ |= given ^ static_cast<unsigned char>(token[i]);
  }
  return differ == 0;
}

}  // namespace ams::server
