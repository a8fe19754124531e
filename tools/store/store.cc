#include "store.h"

#include <glib.h>

#include <array>

#include "sqlite_util.h"
#include "url/request.h"

namespace ams::store {
namespace {

// PRAGMA user_version: bump it and add a step to migrate() when the schema changes.
constexpr int64_t kSchemaVersion = 1;
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

Locator read_locator(const Statement& s) {
  return Locator{s.text(0),          s.text(1),          s.text(2),
                 s.optional_text(3), s.optional_text(4), s.text(5)};
}

constexpr char kAssetColumns[] = "SELECT name, path, created FROM assets";
constexpr char kPolicyColumns[] =
    "SELECT name, download, dash, hls, smooth_streaming, encryption, predefined, created "
    "FROM policies";
constexpr char kLocatorColumns[] =
    "SELECT id, asset, policy, start_time, end_time, created FROM locators";

// Runs a SELECT and collects every row.
template <typename T>
Result<std::vector<T>> select_all(sqlite3* db, const std::string& sql, T (*read)(const Statement&),
                                  const std::string& key = {}) {
  AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(db, sql.c_str()));
  if (!key.empty()) s.bind(1, std::string_view(key));
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
  AMS_ASSIGN_OR_RETURN(std::vector<T> rows, select_all(db, sql, read, key));
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

Status create_schema(sqlite3* db) {
  AMS_RETURN_IF_ERROR(exec(db, kSchemaV1));
  std::string created = now_iso8601();
  for (const Predefined& p : kPredefined) {
    AMS_RETURN_IF_ERROR(
        insert_policy(db, Policy{p.name, p.protocols, p.encryption, true, created}));
  }
  return exec(db, "PRAGMA user_version = 1");
}

// Brings the schema to kSchemaVersion inside one write transaction, so two processes opening a
// new database at once do not both create it.
Status migrate(sqlite3* db) {
  AMS_RETURN_IF_ERROR(exec(db, "BEGIN IMMEDIATE"));
  Result<int64_t> version = query_integer(db, "PRAGMA user_version");
  Status status = version.status();
  if (status && *version > kSchemaVersion) {
    status = unsupported("the database has schema version " + std::to_string(*version) +
                         ", newer than this program's " + std::to_string(kSchemaVersion));
  } else if (status && *version == 0) {
    status = create_schema(db);
  }
  if (!status) {
    (void)exec(db, "ROLLBACK");
    return status;
  }
  return exec(db, "COMMIT");
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
                                  read_locator, asset.name));
  if (!used.empty()) {
    return invalid_argument("asset '" + asset.name + "' is published by " +
                            std::to_string(used.size()) +
                            " streaming locator(s); delete them first");
  }
  AMS_ASSIGN_OR_RETURN(Statement s,
                       Statement::prepare(impl_->db, "DELETE FROM assets WHERE name = ?1"));
  s.bind(1, std::string_view(asset.name));
  return s.run("asset '" + name + "'");
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
  locator.created = now_iso8601();
  AMS_ASSIGN_OR_RETURN(Statement s, Statement::prepare(impl_->db,
                                                       "INSERT INTO locators VALUES "
                                                       "(?1, ?2, ?3, ?4, ?5, ?6)"));
  s.bind(1, std::string_view(locator.id))
      .bind(2, std::string_view(locator.asset))
      .bind(3, std::string_view(locator.policy))
      .bind(4, locator.start_time)
      .bind(5, locator.end_time)
      .bind(6, std::string_view(locator.created));
  AMS_RETURN_IF_ERROR(s.run("streaming locator " + locator.id));
  return locator;
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
  AMS_ASSIGN_OR_RETURN(Statement s,
                       Statement::prepare(impl_->db, "DELETE FROM locators WHERE id = ?1"));
  s.bind(1, std::string_view(locator.id));
  return s.run("streaming locator " + locator.id);
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
