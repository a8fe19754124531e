#include "content_keys.h"

#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>

#include "url/request.h"

namespace ams::store {
namespace {

constexpr const char* kKeyTypes[] = {kEnvelopeEncryption, kCommonEncryptionCenc,
                                     kCommonEncryptionCbcs};

// A version 4 (random) GUID, lower case, from 16 random bytes.
std::string guid_of(std::array<uint8_t, 16> bytes) {
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string guid;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) guid += '-';
    guid += kHex[bytes[i] >> 4];
    guid += kHex[bytes[i] & 0x0f];
  }
  return guid;
}

Status random_bytes(uint8_t* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) == 1) return Status::ok();
  return io_error("OpenSSL has no randomness for a content key");
}

// The AMS spelling of a key type written in any case; nullptr for no type.
const char* canonical_type(const std::string& type) {
  for (const char* known : kKeyTypes) {
    if (g_ascii_strcasecmp(known, type.c_str()) == 0) return known;
  }
  return nullptr;
}

std::string describe_types(const std::vector<std::string>& types) {
  std::string text;
  for (const std::string& type : types) text += (text.empty() ? "" : ", ") + type;
  return text;
}

bool contains(const std::vector<std::string>& types, const std::string& type) {
  for (const std::string& t : types) {
    if (t == type) return true;
  }
  return false;
}

// The checks of one given key that do not depend on the other keys.
Status check_key(const std::string& policy_name, const std::vector<std::string>& types,
                 ContentKey& key) {
  std::optional<std::string> id = url::normalize_guid(key.id);
  if (!id) return invalid_argument("content key id '" + key.id + "' is not a GUID");
  key.id = *id;
  const char* type = canonical_type(key.type);
  if (type == nullptr) {
    return invalid_argument("content key " + key.id + ": type '" + key.type + "' is not " +
                            describe_types({kKeyTypes[0], kKeyTypes[1], kKeyTypes[2]}));
  }
  key.type = type;
  if (!contains(types, key.type)) {
    return invalid_argument("content key " + key.id + ": streaming policy '" + policy_name +
                            "' uses no " + key.type + " keys (it uses " +
                            (types.empty() ? std::string("none") : describe_types(types)) + ")");
  }
  if (key.value.size() != kContentKeySize) {
    // The length only: the value is secret.
    return invalid_argument("content key " + key.id + ": the value is " +
                            std::to_string(key.value.size()) + " bytes, not " +
                            std::to_string(kContentKeySize));
  }
  return Status::ok();
}

}  // namespace

std::vector<std::string> content_key_types(const Policy& policy) {
  switch (policy.encryption) {
    case Encryption::kNone:
      return {};
    case Encryption::kEnvelope:
      return {kEnvelopeEncryption};
    case Encryption::kCommonCenc:
      // Predefined_MultiDrmStreaming: CBCS (FairPlay) for HLS beside CENC.
      if (policy.protocols.hls) return {kCommonEncryptionCenc, kCommonEncryptionCbcs};
      return {kCommonEncryptionCenc};
    case Encryption::kCommonCbcs:
      return {kCommonEncryptionCbcs};
  }
  return {};
}

Result<std::vector<ContentKey>> generate_content_keys(const Policy& policy,
                                                      const std::string& locator_id) {
  std::vector<ContentKey> keys;
  for (const std::string& type : content_key_types(policy)) {
    std::array<uint8_t, 16> id{};
    std::array<uint8_t, kContentKeySize> value{};
    AMS_RETURN_IF_ERROR(random_bytes(id.data(), id.size()));
    Status made = random_bytes(value.data(), value.size());
    if (made) {
      keys.push_back(
          ContentKey{locator_id, guid_of(id), type, "", std::string(value.begin(), value.end())});
    }
    OPENSSL_cleanse(value.data(), value.size());
    AMS_RETURN_IF_ERROR(made);
  }
  return keys;
}

Status check_content_keys(const Policy& policy, const std::string& locator_id,
                          std::vector<ContentKey>& keys) {
  std::vector<std::string> types = content_key_types(policy);
  for (size_t i = 0; i < keys.size(); ++i) {
    ContentKey& key = keys[i];
    AMS_RETURN_IF_ERROR(check_key(policy.name, types, key));
    key.locator = locator_id;
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].id == key.id)
        return invalid_argument("content key " + key.id + " is given twice");
      if (keys[j].type == key.type && keys[j].label == key.label) {
        return invalid_argument("content keys " + keys[j].id + " and " + key.id + " are both " +
                                key.type + " keys labelled '" + key.label + "'");
      }
    }
  }
  for (const std::string& type : types) {
    bool given = false;
    for (const ContentKey& key : keys) given = given || key.type == type;
    if (!given) {
      return invalid_argument("streaming policy '" + policy.name + "' needs a " + type +
                              " content key too");
    }
  }
  return Status::ok();
}

}  // namespace ams::store
