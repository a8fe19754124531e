// The streaming endpoint's resources, in an embedded SQLite database: assets, streaming policies
// (the predefined AMS names and custom ones), streaming locators with their content keys, content
// key policies (content_key_policy.h) and dynamic filters (account filters and asset filters,
// docs/filters.md). One Store per thread;
// SQLite serialises writers, and a server sees changes made by `ams locator create` or `ams
// account-filter create` in another process at its next lookup (Store::changed()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "content_key_policy.h"
#include "filter/filter.h"

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

// The AMS names of the content key types (StreamingLocatorContentKey.type), one per scheme.
inline constexpr char kEnvelopeEncryption[] = "EnvelopeEncryption";      // AES-128 CBC (HLS)
inline constexpr char kCommonEncryptionCenc[] = "CommonEncryptionCenc";  // DASH, Smooth
inline constexpr char kCommonEncryptionCbcs[] = "CommonEncryptionCbcs";  // HLS (FairPlay)
inline constexpr size_t kContentKeySize = 16;

// A content key of a streaming locator (AMS StreamingLocatorContentKey without tracks, which are
// not kept yet).
struct ContentKey {
  std::string locator;  // the locator's id
  std::string id;       // the key id: a lower-case hyphenated GUID, unique in the database
  std::string type;     // kEnvelopeEncryption, kCommonEncryptionCenc or kCommonEncryptionCbcs
  std::string label;    // labelReferenceInStreamingPolicy; may be empty
  // The kContentKeySize raw key bytes. Secret: no message or log prints them; only
  // content_keys_json(..., true) does.
  std::string value;
  // policyName: the content key policy that says who may have the key, the locator's
  // defaultContentKeyPolicyName when read from the store; "" for none (an open restriction).
  std::string policy_name;
};

struct Locator {
  std::string id;  // lower-case hyphenated GUID
  std::string asset;
  std::string policy;
  std::optional<std::string> start_time;  // ISO 8601 UTC; absent = already valid
  std::optional<std::string> end_time;    // absent = "9999-12-31T23:59:59.9999999Z"
  std::string created;
  // The filters every request through the locator gets, in order, before those its URL names:
  // asset filters of `asset` or account filters, by name (AMS's streamingLocator.filters).
  std::vector<std::string> filters;
  // Given to create_locator: the keys to use instead of generated ones. Returned by
  // create_locator: the stored keys (given or generated). get_locator and list_locators leave it
  // empty: Store::content_keys() reads them.
  std::vector<ContentKey> content_keys;
  // AMS's defaultContentKeyPolicyName: the content key policy of the locator's keys; "" for
  // none, which key delivery takes as an open restriction.
  std::string content_key_policy;
};

// A dynamic filter as stored. Names are unique per asset and among account filters, ignoring
// case; an asset filter and an account filter may share a name (the asset filter wins,
// resolve_filters()).
struct FilterRecord {
  std::string asset;  // "" for an account filter
  std::string name;
  std::string properties;  // the properties object, as filter::to_json writes it
  std::string created;     // ISO 8601 UTC, as now_iso8601() prints it
  std::string last_modified;
};

class Store {
 public:
  // Opens (creating if needed) the database and its schema; inserts the predefined policies.
  static Result<std::unique_ptr<Store>> open(const std::string& path);
  ~Store();

  Status create_asset(const Asset& asset);  // kInvalidArgument if the name exists or is bad
  Result<Asset> get_asset(const std::string& name);
  Result<std::vector<Asset>> list_assets();
  // Deletes the asset and its asset filters; kInvalidArgument while locators use it.
  Status delete_asset(const std::string& name);

  Status create_policy(const Policy& policy);
  Result<Policy> get_policy(const std::string& name);
  Result<std::vector<Policy>> list_policies();

  // Creates a locator; a missing id is generated (random v4 GUID). Each of its filters must be an
  // asset filter of its asset or an account filter (stored with that filter's spelling), at most
  // filter::kMaxLocatorFilters, none twice: else kInvalidArgument naming it.
  //
  // A locator under an encrypting policy gets a key of each type content_key_types() gives, with
  // a random v4 GUID id and random bytes (OpenSSL's RAND_bytes), unless `content_keys` gives the
  // keys. Given keys need GUID ids (stored in lower case) not used by any other key,
  // kContentKeySize bytes, a type the policy uses (any case; stored as AMS spells it), every type
  // the policy uses, and at most one key per type and label: else kInvalidArgument. The locator
  // and its keys are stored in one transaction. Returns the stored locator and its keys.
  //
  // A content key policy must exist (stored with its spelling) and the streaming policy must
  // encrypt; under an envelope (AES-128) policy the content key policy needs a ClearKey option,
  // or its keys could never be delivered: else kInvalidArgument.
  Result<Locator> create_locator(const Locator& locator);
  Result<Locator> get_locator(const std::string& id);
  Result<std::vector<Locator>> list_locators();
  Status delete_locator(const std::string& id);  // and its content keys

  // A locator's content keys, in the order they were created (kNotFound for an unknown locator;
  // empty for a clear one).
  Result<std::vector<ContentKey>> content_keys(const std::string& locator_id);
  // The content key of that key id, whatever its locator (key delivery); kNotFound when none.
  Result<ContentKey> content_key(const std::string& key_id);

  // Content key policies. put_ creates the policy, or replaces the description and options of
  // the one of that name (keeping its name's spelling, policyId and `created`, updating
  // `last_modified`), as AMS's createOrUpdate does. `json` is the AMS JSON that
  // parse_content_key_policy takes; a bad name or JSON is kInvalidArgument with its message. A
  // policy that locators use may be replaced, but then an envelope locator's policy must keep a
  // ClearKey option.
  Result<ContentKeyPolicy> put_content_key_policy(const std::string& name, const std::string& json);
  Result<ContentKeyPolicy> get_content_key_policy(const std::string& name);  // kNotFound
  Result<std::vector<ContentKeyPolicy>> list_content_key_policies();         // by name
  // kNotFound when absent; kInvalidArgument while a locator uses it (AMS refused it too: delete
  // the locators first).
  Status delete_content_key_policy(const std::string& name);

  // Filters. `asset` is the asset's name for its asset filters, "" for account filters; a named
  // asset that does not exist is kNotFound.
  //
  // Creates the filter, or replaces the properties of the one of that name (keeping its name's
  // spelling and `created`, updating `last_modified`), as AMS's createOrUpdate does. `json` is
  // the AMS JSON, {"properties": {...}} or the properties object; it is stored as
  // filter::to_json writes it. A name filter::check_name refuses or JSON filter::parse refuses
  // is kInvalidArgument with their message.
  Result<FilterRecord> put_filter(const std::string& asset, const std::string& name,
                                  const std::string& json);
  Result<FilterRecord> get_filter(const std::string& asset, const std::string& name);
  Result<std::vector<FilterRecord>> list_filters(const std::string& asset);  // by name
  // kNotFound when absent. A filter that locators name may be deleted, as in AMS: the locators
  // stay, and resolve_filters() on their names is kNotFound from then on (the server answers
  // their requests 404 MPE_EGRESS_FILTER_NOT_FOUND) until a filter of that name exists again.
  Status delete_filter(const std::string& asset, const std::string& name);

  // The filters `names` give for a request to `asset`, in order: for each name the asset filter
  // of that name, else the account filter (asset filters override account filters, as AMS
  // documents). kNotFound naming the first name that is neither.
  Result<std::vector<filter::Filter>> resolve_filters(const std::string& asset,
                                                      const std::vector<std::string>& names);

  // True once since the last call when another connection changed the database (any table:
  // SQLite's data_version).
  bool changed();

  // The AMS listPaths JSON of a locator (streamingPaths per protocol, downloadPaths), with
  // host-relative paths, one entry per .ism in the asset folder.
  Result<std::string> list_paths_json(const std::string& locator_id);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  // The stored spelling of `asset` ("" for account filters); kNotFound when there is none.
  Result<std::string> filter_owner(const std::string& asset);
  // Checks create_locator's filter names and replaces each by the found filter's spelling.
  Status check_locator_filters(Locator& locator);
  std::unique_ptr<Impl> impl_;
};

// The end time AMS reports for a locator created without one.
inline constexpr char kEndOfTime[] = "9999-12-31T23:59:59.9999999Z";

// The AMS JSON of a streaming policy (reference 4.1): {"name", "properties": {"created",
// "noEncryption" | "envelopeEncryption" | "commonEncryptionCenc" | "commonEncryptionCbcs"}}.
std::string policy_json(const Policy& policy);

// The content key types a locator under `policy` needs, one per scheme its protocols use:
// kEnvelope: EnvelopeEncryption; kCommonCenc: CommonEncryptionCenc, and CommonEncryptionCbcs too
// when the policy has HLS (Predefined_MultiDrmStreaming); kCommonCbcs: CommonEncryptionCbcs;
// none for a clear policy.
std::vector<std::string> content_key_types(const Policy& policy);

// The AMS listContentKeys JSON: {"contentKeys": [{"id", "type", "labelReferenceInStreamingPolicy",
// "value" (base64; only `with_secrets`), "policyName" ("" for none), "tracks" ([])}]}, indented.
std::string content_keys_json(const std::vector<ContentKey>& keys, bool with_secrets);

// The AMS JSON of a filter (the REST API's AccountFilter / AssetFilter without the ARM id, type
// and systemData): {"name", "properties": {the stored properties}}, indented.
std::string filter_json(const FilterRecord& filter);

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
