// The streaming endpoint's resources, in an embedded SQLite database: assets, streaming policies
// (the predefined AMS names and custom ones) and streaming locators. One Store per thread; SQLite
// serialises writers, and a server sees changes made by `ams locator create` in another process
// at its next lookup (Store::changed()).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ams::store {

struct Asset {
  std::string name;     // unique; AMS names: letters, digits, '-', '_', '.', up to 260
  std::string path;     // absolute path of the folder holding the .ism files and MP4s
  std::string created;  // ISO 8601 UTC, "2026-11-25T11:15:54.1234567Z"
};

struct Protocols {
  bool download = false;
  bool dash = false;
  bool hls = false;
  bool smooth_streaming = false;
};

enum class Encryption { kNone, kEnvelope, kCommonCenc, kCommonCbcs };

struct Policy {
  std::string name;
  Protocols protocols;
  Encryption encryption = Encryption::kNone;  // predefined encrypted policies: not served yet
  bool predefined = false;
  std::string created;
};

struct Locator {
  std::string id;  // lower-case hyphenated GUID
  std::string asset;
  std::string policy;
  std::optional<std::string> start_time;  // ISO 8601 UTC; absent = already valid
  std::optional<std::string> end_time;    // absent = "9999-12-31T23:59:59.9999999Z"
  std::string created;
};

class Store {
 public:
  // Opens (creating if needed) the database and its schema; inserts the predefined policies.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();

  Status create_asset(const Asset& asset);  // kInvalidArgument if the name exists or is bad
  Result<Asset> get_asset(const std::string& name);
  Result<std::vector<Asset>> list_assets();
  Status delete_asset(const std::string& name);  // kInvalidArgument while locators use it

  Status create_policy(const Policy& policy);
  Result<Policy> get_policy(const std::string& name);
  Result<std::vector<Policy>> list_policies();

  // Creates a locator; a missing id is generated (random v4 GUID). Returns the stored locator.
  Result<Locator> create_locator(const Locator& locator);
  Result<Locator> get_locator(const std::string& id);
  Result<std::vector<Locator>> list_locators();
  Status delete_locator(const std::string& id);

  // True once since the last call when another connection changed the database.
  bool changed();

  // The AMS listPaths JSON of a locator (streamingPaths per protocol, downloadPaths), with
  // host-relative paths, one entry per .ism in the asset folder.
  Result<std::string> list_paths_json(const std::string& locator_id);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The end time AMS reports for a locator created without one.
inline constexpr char kEndOfTime[] = "9999-12-31T23:59:59.9999999Z";

// The AMS JSON of a streaming policy (reference 4.1): {"name", "properties": {"created",
// "noEncryption" | "envelopeEncryption" | "commonEncryptionCenc" | "commonEncryptionCbcs"}}.
std::string policy_json(const Policy& policy);

// Whether a file of an asset folder is offered for progressive download: listed in downloadPaths
// and served at /{locator}/{file} when the policy enables download (MP4 media and WebVTT side
// cars; never the .ism/.ismc manifests or hidden files).
bool is_downloadable(std::string_view file_name);

// Whether a locator serves at `now` (a time as now_iso8601() prints it): start <= now < end.
bool is_active(const Locator& locator, const std::string& now);

std::string default_database_path();  // $AMS_DB, else $XDG_DATA_HOME/gst-ams/ams.db, else
                                      // ~/.local/share/gst-ams/ams.db
std::string now_iso8601();

}  // namespace ams::store
