#include "store.h"

#include <glib.h>

#include <array>
#include <utility>

#include "content_keys.h"
#include "sqlite_util.h"
#include "url/request.h"

namespace ams::store {
namespace {

// PRAGMA user_version: bump it and add a step to migrate() when the schema changes.
constexpr int64_t kSchemaVersion = 4;
constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxNameLength = 260;

// Names are case-insensitive, as Azure resource names are.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE assets (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  path TEXT NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE policies (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  download INTEGER NOT NULL,
  dash INTEGER NOT NULL,
  hls INTEGER NOT NULL,
  smooth_streaming INTEGER NOT NULL,
  encryption INTEGER NOT NULL,
  predefined INTEGER NOT NULL,
  created TEXT NOT NULL);
CREATE TABLE locators (
  id TEXT PRIMARY KEY,
  asset TEXT NOT NULL REFERENCES assets(name),
  policy TEXT NOT NULL REFERENCES policies(name),
  start_time TEXT,
  end_time TEXT,
  created TEXT NOT NULL);
CREATE INDEX locators_by_asset ON locators(asset);
)sql";

// Version 2: dynamic filters. An account filter has the asset '' (so no foreign key: delete_asset
// deletes an asset's filters). A locator's filter names are kept comma-joined, in order: a filter
// name holds no comma (filter::check_name).
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE filters (
  asset TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL COLLATE NOCASE,
  properties TEXT NOT NULL,
  created TEXT NOT NULL,
  last_modified TEXT NOT NULL,
  PRIMARY KEY (asset, name));
ALTER TABLE locators ADD COLUMN filters TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: the content keys of locators under encrypting policies. A key id is unique in the
// whole database, as key delivery finds a key by its id alone (Store::content_key); a locator has
// at most one key per type and label. delete_locator deletes the keys first (the foreign key
// makes sure it does).
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE content_keys (
  id TEXT PRIMARY KEY,
  locator TEXT NOT NULL REFERENCES locators(id),
  type TEXT NOT NULL,
  label TEXT NOT NULL,
  value BLOB NOT NULL CHECK (length(value) = 16),
  created TEXT NOT NULL,
  UNIQUE (locator, type, label));
)sql";

// Version 4: content key policies, and the one a locator's keys use (AMS's
// defaultContentKeyPolicyName; NULL for none). `properties` holds the policy's description and
// options as AMS writes them, secrets included (content_key_policy.h). A policy that a locator
// names cannot be deleted (the foreign key makes sure of it).
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE content_key_policies (
  name TEXT PRIMARY KEY COLLATE NOCASE,
  id TEXT NOT NULL UNIQUE,
  properties TEXT NOT NULL,
  created TEXT NOT NULL,
  last_modified TEXT NOT NULL);
ALTER TABLE locators ADD COLUMN content_key_policy TEXT REFERENCES content_key_policies(name);
)sql";

struct Predefined {
  const char* name;
  Protocols protocols;
  Encryption encryption;
};
// reference 4.1. Predefined_MultiDrmStreaming is CENC for DASH/Smooth and CBCS for HLS: stored as
// kCommonCenc with hls set, which list_paths_json and policy_json render as the two schemes.
constexpr std::array<Predefined, 6> kPredefined = {{
    {"Predefined_DownloadOnly", {true, false, false, false}, Encryption::kNone},
    {"Predefined_ClearStreamingOnly", {false, true, true, true}, Encryption::kNone},
    {"Predefined_DownloadAndClearStreaming", {true, true, true, true}, Encryption::kNone},
    {"Predefined_ClearKey", {false, true, true, true}, Encryption::kEnvelope},
    {"Predefined_MultiDrmCencStreaming", {false, true, false, true}, Encryption::kCommonCenc},
    {"Predefined_MultiDrmStreaming", {false, true, true, true}, Encryption::kCommonCenc},
}};

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

Status check_name(const std::string& what, const std::string& name) {
  if (valid_name(name)) return Status::ok();
  return invalid_argument(what + " name '" + name +
                          "' is invalid: use 1 to 260 letters, digits, '-', '_' or '.'");
}

std::string iso8601(GDateTime* time) {
  gchar* seconds = g_date_time_format(time, "%Y-%m-%dT%H:%M:%S");
  // AMS prints 7 fractional digits (100 ns ticks); GLib keeps microseconds.
  gchar* text = g_strdup_printf("%s.%06d0Z", seconds, g_date_time_get_microsecond(time));
  std::string out = text;
  g_free(text);
  g_free(seconds);
  return out;
}

// Any ISO 8601 time (a zone-less one is UTC), printed as AMS prints times, so that times compare
// as strings.
Result<std::string> normalize_time(const std::string& text) {
  GTimeZone* utc = g_time_zone_new_utc();
  GDateTime* parsed = g_date_time_new_from_iso8601(text.c_str(), utc);
  g_time_zone_unref(utc);
  if (parsed == nullptr) return invalid_argument("'" + text + "' is not an ISO 8601 time");
  GDateTime* in_utc = g_date_time_to_utc(parsed);
  std::string out = iso8601(in_utc);
  g_date_time_unref(in_utc);
  g_date_time_unref(parsed);
  return out;
}

Asset read_asset(const Statement& s) {
  return Asset{s.text(0), s.text(1), s.text(2)};
}

Policy read_policy(const Statement& s) {
  Policy p;
  p.name = s.text(0);
  p.protocols = {s.integer(1) != 0, s.integer(2) != 0, s.integer(3) != 0, s.integer(4) != 0};
  p.encryption = static_cast<Encryption>(s.integer(5));
  p.predefined = s.integer(6) != 0;
  p.created = s.text(7);
  return p;
}

std::vector<std::string> split_names(const std::string& joined) {
  std::vector<std::string> names;
  size_t begin = 0;
  while (begin < joined.size()) {
    size_t end = joined.find(',', begin);
    if (end == std::string::npos) end = joined.size();
    names.push_back(joined.substr(begin, end - begin));
    begin = end + 1;
  }
  return names;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ',';
    joined += name;
  }
  return joined;
}

Locator read_locator(const Statement& s) {
  Locator locator{s.text(0),
                  s.text(1),
                  s.text(2),
                  s.optional_text(3),
                  s.optional_text(4),
                  s.text(5),
                  split_names(s.text(6))};
  locator.content_key_policy = s.text(7);
  return locator;
}

FilterRecord read_filter(const Statement& s) {
  return FilterRecord{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)};
}

ContentKey read_content_key(const Statement& s) {
  return ContentKey{s.text(0), s.text(1), s.text(2), s.text(3), s.blob(4), s.text(5)};
}

// A content key policy's row; policy_of() parses its properties.
struct PolicyRow {
  std::string name;
  std::string id;
  std::string properties;
  std::string created;
  std::string last_modified;
};

PolicyRow read_policy_row(const Statement& s) {
  return PolicyRow{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)};
}

Result<ContentKeyPolicy> policy_of(const PolicyRow& row) {
  Result<ContentKeyPolicy> parsed = parse_content_key_policy(row.properties);
  if (!parsed) {
    return invalid_data("stored content key policy '" + row.name +
                        "': " + parsed.status().message());
  }
  ContentKeyPolicy policy = std::move(*parsed);
  policy.name = row.name;
  policy.id = row.id;
  policy.properties = row.properties;
  policy.created = row.created;
  policy.last_modified = row.last_modified;
  return policy;
}

std::string read_first_text(const Statement& s) {
  return s.text(0);
}

constexpr char kAssetColumns[] = "SELECT name, path, created FROM assets";
constexpr char kPolicyColumns[] =
    "SELECT name, download, dash, hls, smooth_streaming, encryption, predefined, created "
    "FROM policies";
constexpr char kLocatorColumns[] =
    "SELECT id, asset, policy, start_time, end_time, created, filters, "
    "ifnull(content_key_policy, '') FROM locators";
constexpr char kFilterColumns[] =
    "SELECT asset, name, properties, created, last_modified FROM filters";
// A key's policy is its locator's.
constexpr char kContentKeyColumns[] =
    "SELECT k.locator, k.id, k.type, k.label, k.value, ifnull(l.content_key_policy, '') "
    "FROM content_keys k JOIN locators l ON l.id = k.locator";
constexpr char kContentKeyPolicyColumns[] =
    "SELECT name, id, properties, created, last_modified FROM content_key_policies";

// Runs a SELECT, its parameters ?1, ?2... bound to `keys`, and collects every row.
template <typename T>
Result<std::vector<T>> select_all(sqlite3* db, const std::string& sql, T (*read)(const Statement&),
                                  const std::vector<std::string>& keys = {}) {
  AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(db, sql.c_str()));
  for (size_t i = 0; i < keys.size(); ++i) s.bind(static_cast<int>(i + 1), keys[i]);
  std::vector<T> rows;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) rows.push_back(read(s));
  if (rc != SQLITE_DONE) return sqlite_error(db, "select");
  return rows;
}

// Runs a SELECT by key and returns its only row, or kNotFound.
template <typename T>
Result<T> select_one(sqlite3* db, const std::string& sql, T (*read)(const Statement&),
                     const std::string& key, const std::string& what) {
  AMS_ASSIGN_OR_RETURN(std::vector<T> rows, select_all(db, sql, read, {key}));
  if (rows.empty()) return not_found(what + " '" + key + "' does not exist");
  return std::move(rows.front());
}

Status insert_policy(sqlite3* db, const Policy& p) {
  AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(db,
                                                       "INSERT INTO policies VALUES "
                                                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  s.bind(1, std::string_view(p.name))
      .bind(2, int64_t{p.protocols.download})
      .bind(3, int64_t{p.protocols.dash})
      .bind(4, int64_t{p.protocols.hls})
      .bind(5, int64_t{p.protocols.smooth_streaming})
      .bind(6, static_cast<int64_t>(p.encryption))
      .bind(7, int64_t{p.predefined})
      .bind(8, std::string_view(p.created));
  return s.run("policy '" + p.name + "'");
}

// Error messages name a key by its id, never by its value.
Status insert_content_keys(sqlite3* db, const std::vector<ContentKey>& keys,
                           const std::string& created) {
  for (const ContentKey& key : keys) {
    AMS_ASSIGN_OR_RETURN(Statement s,
                         Statement::prepare(db,
                                            "INSERT INTO content_keys (id, locator, type, label, "
                                            "value, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    s.bind(1, key.id)
        .bind(2, key.locator)
        .bind(3, key.type)
        .bind(4, key.label)
        .bind_blob(5, key.value)
        .bind(6, created);
    AMS_RETURN_IF_ERROR(s.run("content key " + key.id));
  }
  return Status::ok();
}

// An envelope (AES-128) locator's keys are delivered through a ClearKey option only.
Status check_envelope_option(const Policy& policy, const ContentKeyPolicy& key_policy) {
  if (policy.encryption != Encryption::kEnvelope || has_clear_key_option(key_policy)) {
    return Status::ok();
  }
  return invalid_argument("content key policy '" + key_policy.name +
                          "' has no ClearKey option (#Microsoft.Media."
                          "ContentKeyPolicyClearKeyConfiguration), which the AES-128 keys of "
                          "streaming policy '" +
                          policy.name + "' need");
}

// Runs `body` (returning Status) in a write transaction: committed when it succeeds, rolled
// back when it fails. Not nested: a Store method runs at most one.
template <typename Body>
Status in_transaction(sqlite3* db, Body&& body) {
  AMS_RETURN_IF_ERROR(exec(db, "BEGIN IMMEDIATE"));
  Status status = std::forward<Body>(body)();
  if (status) status = exec(db, "COMMIT");
  if (!status) (void)exec(db, "ROLLBACK");
  return status;
}

Status create_schema_v1(sqlite3* db) {
  AMS_RETURN_IF_ERROR(exec(db, kSchemaV1));
  std::string created = now_iso8601();
  for (const Predefined& p : kPredefined) {
    AMS_RETURN_IF_ERROR(
        insert_policy(db, Policy{p.name, p.protocols, p.encryption, true, created}));
  }
  return Status::ok();
}

// Locators made before version 3 under the encrypting predefined policies (which served nothing
// then) get the keys a new one would.
Status create_schema_v3(sqlite3* db) {
  AMS_RETURN_IF_ERROR(exec(db, kSchemaV3));
  AMS_ASSIGN_OR_RETURN(std::vector<Policy> policies, select_all(db, kPolicyColumns, read_policy));
  std::string created = now_iso8601();
  for (const Policy& policy : policies) {
    if (policy.encryption == Encryption::kNone) continue;
    AMS_ASSIGN_OR_RETURN(
        std::vector<std::string> ids,
        select_all(db, "SELECT id FROM locators WHERE policy = ?1 ORDER BY created, id",
                   read_first_text, {policy.name}));
    for (const std::string& id : ids) {
      AMS_ASSIGN_OR_RETURN(std::vector<ContentKey> keys, generate_content_keys(policy, id));
      AMS_RETURN_IF_ERROR(insert_content_keys(db, keys, created));
    }
  }
  return Status::ok();
}

// Brings the schema to kSchemaVersion, step by step, inside one write transaction, so two
// processes opening a new database at once do not both create it. A new database takes the same
// steps as an old one.
Status migrate(sqlite3* db) {
  return in_transaction(db, [db]() -> Status {
    AMS_ASSIGN_OR_RETURN(int64_t version, query_integer(db, "PRAGMA user_version"));
    if (version > kSchemaVersion) {
      return unsupported("the database has schema version " + std::to_string(version) +
                         ", newer than this program's " + std::to_string(kSchemaVersion));
    }
    if (version == kSchemaVersion) return Status::ok();
    if (version < 1) AMS_RETURN_IF_ERROR(create_schema_v1(db));
    if (version < 2) AMS_RETURN_IF_ERROR(exec(db, kSchemaV2));
    if (version < 3) AMS_RETURN_IF_ERROR(create_schema_v3(db));
    if (version < 4) AMS_RETURN_IF_ERROR(exec(db, kSchemaV4));
    std::string pragma = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
    return exec(db, pragma.c_str());
  });
}

// How messages name a filter.
std::string describe_filter(const std::string& asset, const std::string& name) {
  if (asset.empty()) return "account filter '" + name + "'";
  return "asset filter '" + name + "' of asset '" + asset + "'";
}

// The filter `name` names for a request to `asset`: its asset filter, else the account filter;
// nullopt when neither exists.
Result<std::optional<FilterRecord>> find_filter(sqlite3* db, const std::string& asset,
                                                const std::string& name) {
  // asset = '' is false (0) for the asset's own filter, which so sorts first.
  AMS_ASSIGN_OR_RETURN(
      std::vector<FilterRecord> rows,
      select_all(db,
                 std::string(kFilterColumns) + " WHERE name = ?2 AND (asset = ?1 OR asset = '')"
                                               " ORDER BY asset = '' LIMIT 1",
                 read_filter, {asset, name}));
  if (rows.empty()) return std::optional<FilterRecord>();
  return std::optional<FilterRecord>(std::move(rows.front()));
}

std::string not_a_filter(const std::string& asset, const std::string& name) {
  if (asset.empty()) return describe_filter(asset, name) + " does not exist";
  return "filter '" + name + "' is neither an asset filter of asset '" + asset +
         "' nor an account filter";
}

}  // namespace

struct Store::Impl {
  sqlite3* db = nullptr;
  int64_t data_version = 0;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() { sqlite3_close_v2(db); }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  int rc =
      sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    return io_error(path + ": " +
                    (impl->db != nullptr ? sqlite3_errmsg(impl->db) : sqlite3_errstr(rc)));
  }
  sqlite3* db = impl->db;
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // WAL lets the server read while `ams locator create` writes.
  AMS_RETURN_IF_ERROR(exec(db, "PRAGMA journal_mode = WAL"));
  AMS_RETURN_IF_ERROR(exec(db, "PRAGMA foreign_keys = ON"));
  AMS_RETURN_IF_ERROR(migrate(db));
  AMS_ASSIGN_OR_RETURN(impl->data_version, query_integer(db, "PRAGMA data_version"));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Status Store::create_asset(const Asset& asset) {
  AMS_RETURN_IF_ERROR(check_name("asset", asset.name));
  if (asset.path.empty() || !g_path_is_absolute(asset.path.c_str())) {
    return invalid_argument("asset path '" + asset.path + "' is not absolute");
  }
  AMS_ASSIGN_OR_RETURN(Statement s,
                       Statement::prepare(impl_->db, "INSERT INTO assets VALUES (?1, ?2, ?3)"));
  s.bind(1, std::string_view(asset.name))
      .bind(2, std::string_view(asset.path))
      .bind(3, asset.created.empty() ? now_iso8601() : asset.created);
  return s.run("asset '" + asset.name + "'");
}

Result<Asset> Store::get_asset(const std::string& name) {
  return select_one(impl_->db, std::string(kAssetColumns) + " WHERE name = ?1", read_asset, name,
                    "asset");
}

Result<std::vector<Asset>> Store::list_assets() {
  return select_all(impl_->db, std::string(kAssetColumns) + " ORDER BY name", read_asset);
}

Status Store::delete_asset(const std::string& name) {
  AMS_ASSIGN_OR_RETURN(Asset asset, get_asset(name));
  AMS_ASSIGN_OR_RETURN(std::vector<Locator> used,
                       select_all(impl_->db, std::string(kLocatorColumns) + " WHERE asset = ?1",
                                  read_locator, {asset.name}));
  if (!used.empty()) {
    return invalid_argument("asset '" + asset.name + "' is published by " +
                            std::to_string(used.size()) +
                            " streaming locator(s); delete them first");
  }
  sqlite3* db = impl_->db;
  return in_transaction(db, [&]() -> Status {
    for (const char* sql :
         {"DELETE FROM filters WHERE asset = ?1", "DELETE FROM assets WHERE name = ?1"}) {
      AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(db, sql));
      s.bind(1, std::string_view(asset.name));
      AMS_RETURN_IF_ERROR(s.run("asset '" + asset.name + "'"));
    }
    return Status::ok();
  });
}

Status Store::create_policy(const Policy& policy) {
  AMS_RETURN_IF_ERROR(check_name("streaming policy", policy.name));
  const Protocols& p = policy.protocols;
  if (!p.download && !p.dash && !p.hls && !p.smooth_streaming) {
    return invalid_argument("streaming policy '" + policy.name + "' enables no protocol");
  }
  if (g_ascii_strncasecmp(policy.name.c_str(), "Predefined_", 11) == 0) {
    return invalid_argument("the Predefined_ prefix is reserved for AMS's own policies");
  }
  Policy stored = policy;
  stored.predefined = false;
  if (stored.created.empty()) stored.created = now_iso8601();
  return insert_policy(impl_->db, stored);
}

Result<Policy> Store::get_policy(const std::string& name) {
  return select_one(impl_->db, std::string(kPolicyColumns) + " WHERE name = ?1", read_policy, name,
                    "streaming policy");
}

Result<std::vector<Policy>> Store::list_policies() {
  return select_all(impl_->db, std::string(kPolicyColumns) + " ORDER BY predefined DESC, name",
                    read_policy);
}

Result<Locator> Store::create_locator(const Locator& request) {
  Locator locator = request;
  if (locator.id.empty()) {
    gchar* id = g_uuid_string_random();  // version 4, lower case
    locator.id = id;
    g_free(id);
  }
  std::optional<std::string> id = url::normalize_guid(locator.id);
  if (!id) return invalid_argument("'" + locator.id + "' is not a GUID");
  locator.id = *id;
  AMS_ASSIGN_OR_RETURN(Asset asset, get_asset(locator.asset));
  AMS_ASSIGN_OR_RETURN(Policy policy, get_policy(locator.policy));
  locator.asset = asset.name;
  locator.policy = policy.name;
  for (std::optional<std::string>* time : {&locator.start_time, &locator.end_time}) {
    if (*time) {
      AMS_ASSIGN_OR_RETURN(*time, normalize_time(**time));
    }
  }
  if (locator.start_time && locator.end_time && *locator.start_time >= *locator.end_time) {
    return invalid_argument("the locator's start time is not before its end time");
  }
  AMS_RETURN_IF_ERROR(check_locator_filters(locator));
  if (!locator.content_key_policy.empty()) {
    AMS_ASSIGN_OR_RETURN(ContentKeyPolicy key_policy,
                         get_content_key_policy(locator.content_key_policy));
    if (policy.encryption == Encryption::kNone) {
      return invalid_argument("streaming policy '" + policy.name +
                              "' encrypts nothing: a content key policy needs an encrypting one");
    }
    AMS_RETURN_IF_ERROR(check_envelope_option(policy, key_policy));
    locator.content_key_policy = key_policy.name;
  }
  if (locator.content_keys.empty()) {
    AMS_ASSIGN_OR_RETURN(locator.content_keys, generate_content_keys(policy, locator.id));
  } else {
    AMS_RETURN_IF_ERROR(check_content_keys(policy, locator.id, locator.content_keys));
  }
  for (ContentKey& key : locator.content_keys) key.policy_name = locator.content_key_policy;
  locator.created = now_iso8601();
  sqlite3* db = impl_->db;
  AMS_RETURN_IF_ERROR(in_transaction(db, [&]() -> Status {
    AMS_ASSIGN_OR_RETURN(Statement s,
                         Statement::prepare(db,
                                            "INSERT INTO locators (id, asset, policy, start_time, "
                                            "end_time, created, filters, content_key_policy) "
                                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    s.bind(1, std::string_view(locator.id))
        .bind(2, std::string_view(locator.asset))
        .bind(3, std::string_view(locator.policy))
        .bind(4, locator.start_time)
        .bind(5, locator.end_time)
        .bind(6, std::string_view(locator.created))
        .bind(7, join_names(locator.filters))
        .bind(8, locator.content_key_policy.empty()
                     ? std::nullopt
                     : std::optional<std::string>(locator.content_key_policy));
    AMS_RETURN_IF_ERROR(s.run("streaming locator " + locator.id));
    return insert_content_keys(db, locator.content_keys, locator.created);
  }));
  return locator;
}

Status Store::check_locator_filters(Locator& locator) {
  if (locator.filters.size() > filter::kMaxLocatorFilters) {
    return invalid_argument("a streaming locator applies at most " +
                            std::to_string(filter::kMaxLocatorFilters) + " filters, not " +
                            std::to_string(locator.filters.size()));
  }
  for (size_t i = 0; i < locator.filters.size(); ++i) {
    std::string& name = locator.filters[i];
    for (size_t j = 0; j < i; ++j) {
      if (g_ascii_strcasecmp(locator.filters[j].c_str(), name.c_str()) == 0) {
        return invalid_argument("filter '" + name + "' is named twice");
      }
    }
    AMS_ASSIGN_OR_RETURN(std::optional<FilterRecord> found,
                         find_filter(impl_->db, locator.asset, name));
    if (!found) return invalid_argument(not_a_filter(locator.asset, name));
    name = found->name;
  }
  return Status::ok();
}

Result<Locator> Store::get_locator(const std::string& id) {
  std::string key = url::normalize_guid(id).value_or(id);
  return select_one(impl_->db, std::string(kLocatorColumns) + " WHERE id = ?1", read_locator, key,
                    "streaming locator");
}

Result<std::vector<Locator>> Store::list_locators() {
  return select_all(impl_->db, std::string(kLocatorColumns) + " ORDER BY created, id",
                    read_locator);
}

Status Store::delete_locator(const std::string& id) {
  AMS_ASSIGN_OR_RETURN(Locator locator, get_locator(id));
  sqlite3* db = impl_->db;
  return in_transaction(db, [&]() -> Status {
    for (const char* sql :
         {"DELETE FROM content_keys WHERE locator = ?1", "DELETE FROM locators WHERE id = ?1"}) {
      AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(db, sql));
      s.bind(1, std::string_view(locator.id));
      AMS_RETURN_IF_ERROR(s.run("streaming locator " + locator.id));
    }
    return Status::ok();
  });
}

Result<std::vector<ContentKey>> Store::content_keys(const std::string& locator_id) {
  AMS_ASSIGN_OR_RETURN(Locator locator, get_locator(locator_id));
  return select_all(impl_->db,
                    std::string(kContentKeyColumns) + " WHERE k.locator = ?1 ORDER BY k.rowid",
                    read_content_key, {locator.id});
}

Result<ContentKey> Store::content_key(const std::string& key_id) {
  std::string key = url::normalize_guid(key_id).value_or(key_id);
  return select_one(impl_->db, std::string(kContentKeyColumns) + " WHERE k.id = ?1",
                    read_content_key, key, "content key");
}

Result<ContentKeyPolicy> Store::put_content_key_policy(const std::string& name,
                                                       const std::string& json) {
  AMS_RETURN_IF_ERROR(check_name("content key policy", name));
  AMS_ASSIGN_OR_RETURN(ContentKeyPolicy parsed, parse_content_key_policy(json));
  sqlite3* db = impl_->db;
  ContentKeyPolicy stored;
  // One transaction, so that no locator starts using the policy between its check and the write.
  Status status = in_transaction(db, [&]() -> Status {
    AMS_ASSIGN_OR_RETURN(std::vector<PolicyRow> rows,
                         select_all(db, std::string(kContentKeyPolicyColumns) + " WHERE name = ?1",
                                    read_policy_row, {name}));
    const std::string now = now_iso8601();
    PolicyRow row{name, "", parsed.properties, now, now};
    if (rows.empty()) {
      gchar* id = g_uuid_string_random();
      row.id = id;
      g_free(id);
    } else {
      row.name = rows.front().name;
      row.id = rows.front().id;
      row.created = rows.front().created;
      parsed.name = row.name;
      // The locators that use it keep working only if it still delivers their keys.
      AMS_ASSIGN_OR_RETURN(
          std::vector<std::string> used,
          select_all(db, "SELECT DISTINCT policy FROM locators WHERE content_key_policy = ?1",
                     read_first_text, {row.name}));
      for (const std::string& policy_name : used) {
        AMS_ASSIGN_OR_RETURN(Policy policy,
                             select_one(db, std::string(kPolicyColumns) + " WHERE name = ?1",
                                        read_policy, policy_name, "streaming policy"));
        AMS_RETURN_IF_ERROR(check_envelope_option(policy, parsed));
      }
    }
    AMS_ASSIGN_OR_RETURN(Statement s,
                         Statement::prepare(db,
                                            "INSERT INTO content_key_policies VALUES "
                                            "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
                                            "properties = excluded.properties, "
                                            "last_modified = excluded.last_modified"));
    s.bind(1, row.name)
        .bind(2, row.id)
        .bind(3, row.properties)
        .bind(4, row.created)
        .bind(5, row.last_modified);
    AMS_RETURN_IF_ERROR(s.run("content key policy '" + row.name + "'"));
    AMS_ASSIGN_OR_RETURN(stored, policy_of(row));
    return Status::ok();
  });
  if (!status) return status;
  return stored;
}

Result<ContentKeyPolicy> Store::get_content_key_policy(const std::string& name) {
  AMS_ASSIGN_OR_RETURN(
      PolicyRow row,
      select_one(impl_->db, std::string(kContentKeyPolicyColumns) + " WHERE name = ?1",
                 read_policy_row, name, "content key policy"));
  return policy_of(row);
}

Result<std::vector<ContentKeyPolicy>> Store::list_content_key_policies() {
  AMS_ASSIGN_OR_RETURN(
      std::vector<PolicyRow> rows,
      select_all(impl_->db, std::string(kContentKeyPolicyColumns) + " ORDER BY name",
                 read_policy_row));
  std::vector<ContentKeyPolicy> policies;
  for (const PolicyRow& row : rows) {
    AMS_ASSIGN_OR_RETURN(ContentKeyPolicy policy, policy_of(row));
    policies.push_back(std::move(policy));
  }
  return policies;
}

Status Store::delete_content_key_policy(const std::string& name) {
  AMS_ASSIGN_OR_RETURN(
      PolicyRow row,
      select_one(impl_->db, std::string(kContentKeyPolicyColumns) + " WHERE name = ?1",
                 read_policy_row, name, "content key policy"));
  sqlite3* db = impl_->db;
  return in_transaction(db, [&]() -> Status {
    AMS_ASSIGN_OR_RETURN(
        std::vector<std::string> used,
        select_all(db, "SELECT id FROM locators WHERE content_key_policy = ?1 ORDER BY created, id",
                   read_first_text, {row.name}));
    if (!used.empty()) {
      return invalid_argument("content key policy '" + row.name + "' is used by " +
                              std::to_string(used.size()) + " streaming locator(s) (" +
                              used.front() + (used.size() > 1 ? ", ..." : "") +
                              "); delete them first");
    }
    AMS_ASSIGN_OR_RETURN(
        Statement s, Statement::prepare(db, "DELETE FROM content_key_policies WHERE name = ?1"));
    s.bind(1, row.name);
    return s.run("content key policy '" + row.name + "'");
  });
}

Result<std::string> Store::filter_owner(const std::string& asset) {
  if (asset.empty()) return std::string();
  AMS_ASSIGN_OR_RETURN(Asset found, get_asset(asset));
  return found.name;
}

Result<FilterRecord> Store::put_filter(const std::string& asset, const std::string& name,
                                       const std::string& json) {
  AMS_RETURN_IF_ERROR(filter::check_name(name));
  AMS_ASSIGN_OR_RETURN(filter::Filter parsed, filter::parse(json));
  std::string properties = filter::to_json(parsed);
  FilterRecord stored;
  // One transaction, so that the asset cannot be deleted between its check and the insert.
  Status status = in_transaction(impl_->db, [&]() -> Status {
    AMS_ASSIGN_OR_RETURN(std::string owner, filter_owner(asset));
    AMS_ASSIGN_OR_RETURN(Statement s,
                         Statement::prepare(impl_->db,
                                            "INSERT INTO filters VALUES (?1, ?2, ?3, ?4, ?4) "
                                            "ON CONFLICT (asset, name) DO UPDATE SET "
                                            "properties = excluded.properties, "
                                            "last_modified = excluded.last_modified"));
    s.bind(1, owner).bind(2, name).bind(3, properties).bind(4, now_iso8601());
    AMS_RETURN_IF_ERROR(s.run(describe_filter(owner, name)));
    AMS_ASSIGN_OR_RETURN(stored, get_filter(owner, name));
    return Status::ok();
  });
  if (!status) return status;
  return stored;
}

Result<FilterRecord> Store::get_filter(const std::string& asset, const std::string& name) {
  AMS_ASSIGN_OR_RETURN(std::string owner, filter_owner(asset));
  AMS_ASSIGN_OR_RETURN(
      std::vector<FilterRecord> rows,
      select_all(impl_->db, std::string(kFilterColumns) + " WHERE asset = ?1 AND name = ?2",
                 read_filter, {owner, name}));
  if (rows.empty()) return not_found(describe_filter(owner, name) + " does not exist");
  return std::move(rows.front());
}

Result<std::vector<FilterRecord>> Store::list_filters(const std::string& asset) {
  AMS_ASSIGN_OR_RETURN(std::string owner, filter_owner(asset));
  return select_all(impl_->db, std::string(kFilterColumns) + " WHERE asset = ?1 ORDER BY name",
                    read_filter, {owner});
}

Status Store::delete_filter(const std::string& asset, const std::string& name) {
  AMS_ASSIGN_OR_RETURN(std::string owner, filter_owner(asset));
  AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(impl_->db,
                                                       "DELETE FROM filters "
                                                       "WHERE asset = ?1 AND name = ?2"));
  s.bind(1, owner).bind(2, name);
  AMS_RETURN_IF_ERROR(s.run(describe_filter(owner, name)));
  if (sqlite3_changes(impl_->db) == 0) {
    return not_found(describe_filter(owner, name) + " does not exist");
  }
  return Status::ok();
}

Result<std::vector<filter::Filter>> Store::resolve_filters(const std::string& asset,
                                                           const std::vector<std::string>& names) {
  std::vector<filter::Filter> filters;
  for (const std::string& name : names) {
    AMS_ASSIGN_OR_RETURN(std::optional<FilterRecord> found, find_filter(impl_->db, asset, name));
    if (!found) return not_found(not_a_filter(asset, name));
    Result<filter::Filter> parsed = filter::parse(found->properties);
    if (!parsed.is_ok()) {
      return invalid_data("stored " + describe_filter(found->asset, found->name) + ": " +
                          parsed.status().message());
    }
    filters.push_back(std::move(parsed).value());
  }
  return filters;
}

bool Store::changed() {
  // data_version moves only for commits by other connections, which is what a server that
  // caches lookups needs to know.
  Result<int64_t> version = query_integer(impl_->db, "PRAGMA data_version");
  if (!version.is_ok() || *version == impl_->data_version) return false;
  impl_->data_version = *version;
  return true;
}

bool is_active(const Locator& locator, const std::string& now) {
  if (locator.start_time && now < *locator.start_time) return false;
  return now < locator.end_time.value_or(kEndOfTime);
}

std::string now_iso8601() {
  GDateTime* now = g_date_time_new_now_utc();
  std::string text = iso8601(now);
  g_date_time_unref(now);
  return text;
}

std::string default_database_path() {
  const char* env = g_getenv("AMS_DB");
  if (env != nullptr && *env != '\0') return env;
  // g_get_user_data_dir() honours $XDG_DATA_HOME and falls back to ~/.local/share.
  gchar* path = g_build_filename(g_get_user_data_dir(), "gst-ams", "ams.db", nullptr);
  std::string out = path;
  g_free(path);
  return out;
}

}  // namespace ams::store
