// Inside the store: making and checking the content keys of a new streaming locator
// (Store::create_locator). Nothing here prints a key's value.
#pragma once

#include <vector>

#include "base/status.h"
#include "store.h"

namespace ams::store {

// One new key of each of content_key_types(policy), for locator `locator_id`: a random v4 GUID id
// and kContentKeySize random bytes from OpenSSL's RAND_bytes. kIo when it has no randomness.
Result<std::vector<ContentKey>> generate_content_keys(const Policy& policy,
                                                      const std::string& locator_id);

// Checks the keys a caller gives for a new locator under `policy` (Store::create_locator) and
// brings them to their stored form: ids in lower case, types as AMS spells them, `locator` set to
// `locator_id`. kInvalidArgument naming the first bad key.
Status check_content_keys(const Policy& policy, const std::string& locator_id,
                          std::vector<ContentKey>& keys);

}  // namespace ams::store
