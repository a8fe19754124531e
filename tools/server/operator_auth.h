// The operator's token: what /api/locators (every locator id with its paths) and the details of
// /api/status need. A clear stream's only secret is its locator id, so the list of them is not
// public; /api/status without the token is a health check that reveals nothing (docs/server.md,
// "Operator endpoints").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ams::server {

// At least this many characters: a token an operator types by hand is still hard to guess.
constexpr size_t kMinTokenLength = 16;

// The token in FILE: its first line, surrounding white space dropped. kInvalidArgument when it is
// shorter than kMinTokenLength or holds anything but printable ASCII; kNotFound/kIo when the file
// cannot be read.
Result<std::string> read_token_file(const std::string& path);

// A new token from the kernel's random source (getrandom): 32 random bytes in base64url, 43
// characters. kIo when the kernel has none to give.
Result<std::string> new_token();

// Whether an Authorization header value is "Bearer TOKEN" with this token. The comparison takes
// the same time wherever the two differ. An empty `token` matches nothing.
bool bearer_matches(const char* authorization, std::string_view token);

}  // namespace ams::server
