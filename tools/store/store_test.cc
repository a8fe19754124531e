#include "store.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace ams::store {
namespace {

namespace fs = std::filesystem;

constexpr char kLocator[] = "3e4570a3-977a-432e-87bf-57bf505e400e";

// A fresh folder per test holding the database and the asset folders.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gchar* dir = g_dir_make_tmp("ams-store-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    g_free(dir);
    db_path_ = (dir_ / "ams.db").string();
    store_ = open();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Store> open() {
    Result<std::unique_ptr<Store>> store = Store::open(db_path_);
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    return store.is_ok() ? std::move(store).value() : nullptr;
  }

  // Makes an asset folder holding empty files with these names.
  std::string make_folder(const std::string& name, std::initializer_list<const char*> files) {
    fs::path folder = dir_ / name;
    fs::create_directories(folder);
    for (const char* file : files) std::ofstream(folder / file) << "x";
    return folder.string();
  }

  void add_asset(const std::string& name, const std::string& path) {
    ASSERT_TRUE(store_->create_asset(Asset{name, path, ""}).is_ok());
  }

  Locator add_locator(const std::string& asset, const std::string& policy,
                      const std::string& id = "") {
    Result<Locator> locator = store_->create_locator(Locator{id, asset, policy, {}, {}, ""});
    EXPECT_TRUE(locator.is_ok()) << locator.status().to_string();
    return locator.is_ok() ? *locator : Locator{};
  }

  fs::path dir_;
  std::string db_path_;
  std::unique_ptr<Store> store_;
};

std::string strip_spaces(std::string s) {
  std::erase_if(s, [](char c) { return c == ' ' || c == '\n'; });
  return s;
}

std::optional<std::string> read_fixture(const char* name) {
  const char* root = std::getenv("AMS_SOURCE_ROOT");
  if (root == nullptr) return std::nullopt;
  std::ifstream in(fs::path(root) / ".." / "shared" / "reference" / "examples" / name);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(StoreTest, OpenCreatesTheSchemaAndThePredefinedPolicies) {
  Result<std::vector<Policy>> policies = store_->list_policies();
  ASSERT_TRUE(policies.is_ok());
  ASSERT_EQ(policies->size(), 6u);
  Result<Policy> both = store_->get_policy("Predefined_DownloadAndClearStreaming");
  ASSERT_TRUE(both.is_ok());
  EXPECT_TRUE(both->predefined);
  EXPECT_TRUE(both->protocols.download && both->protocols.dash && both->protocols.hls &&
              both->protocols.smooth_streaming);
  Result<Policy> clear = store_->get_policy("predefined_clearstreamingonly");  // any case
  ASSERT_TRUE(clear.is_ok());
  EXPECT_EQ(clear->name, "Predefined_ClearStreamingOnly");
  EXPECT_FALSE(clear->protocols.download);
  EXPECT_EQ(store_->get_policy("Predefined_DownloadOnly")->protocols.dash, false);
  EXPECT_EQ(store_->get_policy("Predefined_ClearKey")->encryption, Encryption::kEnvelope);
  EXPECT_EQ(store_->get_policy("Predefined_MultiDrmCencStreaming")->protocols.hls, false);
  EXPECT_EQ(store_->get_policy("Predefined_MultiDrmStreaming")->encryption,
            Encryption::kCommonCenc);

  // Reopening neither duplicates them nor loses data; the file is a WAL database at version 4.
  store_.reset();
  store_ = open();
  EXPECT_EQ(store_->list_policies()->size(), 6u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
    sqlite3_step(s);
    std::string value = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return value;
  };
  EXPECT_EQ(pragma("PRAGMA user_version"), "4");
  EXPECT_EQ(pragma("PRAGMA journal_mode"), "wal");
  sqlite3_close(db);
}

TEST_F(StoreTest, RefusesADatabaseFromANewerVersion) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(Store::open(db_path_).status().code(), StatusCode::kUnsupported);
}

TEST_F(StoreTest, AssetsCreateListDelete) {
  std::string folder = make_folder("a", {});
  add_asset("movie-1", folder);
  add_asset("Alpha_2.0", folder);
  Result<std::vector<Asset>> assets = store_->list_assets();
  ASSERT_TRUE(assets.is_ok());
  ASSERT_EQ(assets->size(), 2u);
  EXPECT_EQ((*assets)[0].name, "Alpha_2.0");
  EXPECT_EQ((*assets)[1].path, folder);
  EXPECT_TRUE(std::regex_match((*assets)[1].created,
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z)")));
  EXPECT_EQ(store_->create_asset(Asset{"MOVIE-1", folder, ""}).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->delete_asset("movie-1").is_ok());
  EXPECT_EQ(store_->get_asset("movie-1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->delete_asset("movie-1").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->list_assets()->size(), 1u);
}

TEST_F(StoreTest, NamesFollowTheAmsRules) {
  std::string folder = make_folder("a", {});
  for (const std::string& bad :
       {std::string(), std::string("a b"), std::string("a/b"), std::string("caf\xC3\xA9"),
        std::string("x;drop"), std::string(261, 'a')}) {
    EXPECT_EQ(store_->create_asset(Asset{bad, folder, ""}).code(), StatusCode::kInvalidArgument)
        << bad;
    EXPECT_EQ(store_->create_policy(Policy{bad, {true, false, false, false}}).code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(store_->create_asset(Asset{std::string(260, 'a'), folder, ""}).is_ok());
  EXPECT_EQ(store_->create_asset(Asset{"rel", "relative/path", ""}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, CustomPolicies) {
  ASSERT_TRUE(store_->create_policy(Policy{"hlsOnly", {false, false, true, false}}).is_ok());
  Result<Policy> p = store_->get_policy("hlsOnly");
  ASSERT_TRUE(p.is_ok());
  EXPECT_TRUE(p->protocols.hls);
  EXPECT_FALSE(p->protocols.dash);
  EXPECT_FALSE(p->predefined);
  EXPECT_EQ(store_->create_policy(Policy{"HLSONLY", {true, false, false, false}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->create_policy(Policy{"none", {}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->create_policy(Policy{"Predefined_Mine", {true, false, false, false}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->get_policy("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, LocatorsWithGeneratedAndExplicitIds) {
  add_asset("movie", make_folder("a", {}));
  Locator generated = add_locator("movie", "Predefined_ClearStreamingOnly");
  EXPECT_TRUE(std::regex_match(
      generated.id,
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << generated.id;
  EXPECT_NE(add_locator("movie", "Predefined_ClearStreamingOnly").id, generated.id);

  Locator given =
      add_locator("MOVIE", "predefined_downloadonly", "3E4570A3-977A-432E-87BF-57BF505E400E");
  EXPECT_EQ(given.id, kLocator);
  EXPECT_EQ(given.asset, "movie");  // the stored spelling
  EXPECT_EQ(given.policy, "Predefined_DownloadOnly");
  EXPECT_EQ(given.end_time, std::nullopt);
  Result<Locator> fetched = store_->get_locator("3E4570A3-977A-432E-87BF-57BF505E400E");
  ASSERT_TRUE(fetched.is_ok());
  EXPECT_EQ(fetched->policy, "Predefined_DownloadOnly");
  EXPECT_EQ(fetched->created, given.created);

  auto create = [&](std::string id, std::string asset, std::string policy) {
    return store_->create_locator(Locator{id, asset, policy, {}, {}, ""}).status().code();
  };
  EXPECT_EQ(create(kLocator, "movie", "Predefined_DownloadOnly"), StatusCode::kInvalidArgument);
  EXPECT_EQ(create("not-a-guid", "movie", "Predefined_DownloadOnly"), StatusCode::kInvalidArgument);
  EXPECT_EQ(create("", "nope", "Predefined_DownloadOnly"), StatusCode::kNotFound);
  EXPECT_EQ(create("", "movie", "nope"), StatusCode::kNotFound);
  EXPECT_EQ(store_->list_locators()->size(), 3u);
}

TEST_F(StoreTest, DeletingAnAssetWithLocatorsIsRefused) {
  add_asset("movie", make_folder("a", {}));
  Locator locator = add_locator("movie", "Predefined_ClearStreamingOnly");
  Status refused = store_->delete_asset("movie");
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("locator"), std::string::npos) << refused.message();
  EXPECT_TRUE(store_->get_asset("movie").is_ok());
  ASSERT_TRUE(store_->delete_locator(locator.id).is_ok());
  EXPECT_EQ(store_->delete_locator(locator.id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->delete_asset("movie").is_ok());
}

TEST_F(StoreTest, LocatorTimesAreNormalisedToUtc) {
  add_asset("movie", make_folder("a", {}));
  Result<Locator> l =
      store_->create_locator(Locator{"", "movie", "Predefined_ClearStreamingOnly",
                                     "2026-01-01T01:00:00+01:00", "2026-02-01T00:00:00.5Z", ""});
  ASSERT_TRUE(l.is_ok()) << l.status().to_string();
  EXPECT_EQ(l->start_time, "2026-01-01T00:00:00.0000000Z");
  EXPECT_EQ(l->end_time, "2026-02-01T00:00:00.5000000Z");
  EXPECT_EQ(store_->get_locator(l->id)->end_time, "2026-02-01T00:00:00.5000000Z");
  EXPECT_FALSE(is_active(*l, "2025-12-31T23:59:59.9999999Z"));
  EXPECT_TRUE(is_active(*l, "2026-01-01T00:00:00.0000000Z"));
  EXPECT_FALSE(is_active(*l, "2026-02-01T00:00:00.5000000Z"));
  EXPECT_TRUE(is_active(Locator{}, now_iso8601()));

  auto create = [&](const char* start, const char* end) {
    return store_
        ->create_locator(Locator{"", "movie", "Predefined_ClearStreamingOnly",
                                 start ? std::optional<std::string>(start) : std::nullopt,
                                 end ? std::optional<std::string>(end) : std::nullopt, ""})
        .status()
        .code();
  };
  EXPECT_EQ(create("yesterday", nullptr), StatusCode::kInvalidArgument);
  EXPECT_EQ(create("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"), StatusCode::kInvalidArgument);
  EXPECT_EQ(create(nullptr, "2026-01-01T00:00:00"), StatusCode::kOk);  // no zone: UTC
}

TEST_F(StoreTest, ChangedSeesWritesOfAnotherConnectionOnly) {
  std::unique_ptr<Store> other = open();
  ASSERT_TRUE(other);
  EXPECT_FALSE(store_->changed());
  ASSERT_TRUE(other->create_asset(Asset{"movie", make_folder("a", {}), ""}).is_ok());
  EXPECT_TRUE(store_->changed());
  EXPECT_FALSE(store_->changed());  // once per change
  EXPECT_TRUE(store_->get_asset("movie").is_ok());
  ASSERT_TRUE(store_->create_policy(Policy{"mine", {true, false, false, false}}).is_ok());
  EXPECT_FALSE(store_->changed());  // its own write
  EXPECT_TRUE(other->changed());
}

constexpr char kVideoOnly[] =
    R"json({"properties": {"tracks": [{"trackSelections": [
      {"property": "Type", "operation": "Equal", "value": "Video"}]}]}})json";
constexpr char kFirstTenSeconds[] =
    R"json({"presentationTimeRange": {"startTimestamp": 0, "endTimestamp": 100000000}})json";

// The filter text the store keeps for `json`.
std::string canonical(const char* json) {
  Result<filter::Filter> f = filter::parse(json);
  EXPECT_TRUE(f.is_ok()) << f.status().to_string();
  return f.is_ok() ? filter::to_json(*f) : "";
}

// The filter resolve_filters() gives back for `json`: read from the stored text, so with the
// defaults to_json fills in.
filter::Filter stored(const char* json) {
  Result<filter::Filter> f = filter::parse(canonical(json));
  EXPECT_TRUE(f.is_ok()) << f.status().to_string();
  return f.is_ok() ? *f : filter::Filter{};
}

TEST_F(StoreTest, AccountFiltersCreateOrUpdateListDelete) {
  Result<FilterRecord> created = store_->put_filter("", "videoOnly", kVideoOnly);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  EXPECT_EQ(created->asset, "");
  EXPECT_EQ(created->name, "videoOnly");
  EXPECT_EQ(created->properties, canonical(kVideoOnly));
  EXPECT_TRUE(
      std::regex_match(created->created, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z)")));
  EXPECT_EQ(created->last_modified, created->created);
  ASSERT_TRUE(store_->put_filter("", "first10s", kFirstTenSeconds).is_ok());

  // createOrUpdate: the same name in any case replaces the properties, keeping the first
  // spelling and the creation time.
  g_usleep(2000);
  Result<FilterRecord> updated = store_->put_filter("", "VIDEOONLY", kFirstTenSeconds);
  ASSERT_TRUE(updated.is_ok()) << updated.status().to_string();
  EXPECT_EQ(updated->name, "videoOnly");
  EXPECT_EQ(updated->properties, canonical(kFirstTenSeconds));
  EXPECT_EQ(updated->created, created->created);
  EXPECT_GT(updated->last_modified, created->last_modified);

  Result<std::vector<FilterRecord>> listed = store_->list_filters("");
  ASSERT_TRUE(listed.is_ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "first10s");
  EXPECT_EQ((*listed)[1].name, "videoOnly");
  EXPECT_EQ((*listed)[1].properties, canonical(kFirstTenSeconds));
  EXPECT_EQ(store_->get_filter("", "videoonly")->properties, canonical(kFirstTenSeconds));

  ASSERT_TRUE(store_->delete_filter("", "VideoOnly").is_ok());
  Status again = store_->delete_filter("", "videoOnly");
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(), "account filter 'videoOnly' does not exist");
  EXPECT_EQ(store_->get_filter("", "videoOnly").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->list_filters("")->size(), 1u);
}

TEST_F(StoreTest, AssetFiltersBelongToTheirAsset) {
  add_asset("movie", make_folder("a", {}));
  add_asset("other", make_folder("b", {}));
  Result<FilterRecord> mine = store_->put_filter("MOVIE", "videoOnly", kVideoOnly);
  ASSERT_TRUE(mine.is_ok()) << mine.status().to_string();
  EXPECT_EQ(mine->asset, "movie");  // the stored spelling
  // The same name: another asset's filter, and an account filter, are other filters.
  ASSERT_TRUE(store_->put_filter("other", "videoOnly", kFirstTenSeconds).is_ok());
  ASSERT_TRUE(store_->put_filter("", "videoOnly", kFirstTenSeconds).is_ok());
  EXPECT_EQ(store_->get_filter("movie", "videoOnly")->properties, canonical(kVideoOnly));
  EXPECT_EQ(store_->get_filter("other", "videoOnly")->properties, canonical(kFirstTenSeconds));
  ASSERT_EQ(store_->list_filters("movie")->size(), 1u);
  EXPECT_EQ(store_->list_filters("")->size(), 1u);

  Result<FilterRecord> no_asset = store_->put_filter("nope", "f", kVideoOnly);
  EXPECT_EQ(no_asset.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_asset.status().message(), "asset 'nope' does not exist");
  EXPECT_EQ(store_->list_filters("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->get_filter("movie", "absent").status().message(),
            "asset filter 'absent' of asset 'movie' does not exist");

  ASSERT_TRUE(store_->delete_filter("other", "videoOnly").is_ok());
  EXPECT_TRUE(store_->get_filter("movie", "videoOnly").is_ok());
  EXPECT_TRUE(store_->get_filter("", "videoOnly").is_ok());
}

TEST_F(StoreTest, BadFiltersAreRefusedWithTheCoreMessages) {
  for (const std::string& bad : {std::string(), std::string("a b"), std::string("a;b"),
                                 std::string("a,b"), std::string(261, 'a')}) {
    Result<FilterRecord> refused = store_->put_filter("", bad, kVideoOnly);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(refused.status().message(), filter::check_name(bad).message()) << bad;
  }
  EXPECT_TRUE(store_->put_filter("", "a.b~c_d-1", kVideoOnly).is_ok());
  for (const char* bad : {"", "not json", "[]", R"({"properties": {"colour": "red"}})",
                          R"({"tracks": [{"trackSelections": [{"property": "Type",
                              "operation": "Like", "value": "video"}]}]})",
                          R"({"presentationTimeRange": {"startTimestamp": 20,
                              "endTimestamp": 10}})"}) {
    Result<FilterRecord> refused = store_->put_filter("", "f", bad);
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(refused.status().message(), filter::parse(bad).status().message()) << bad;
    EXPECT_FALSE(refused.status().message().empty());
  }
  EXPECT_EQ(store_->get_filter("", "f").status().code(), StatusCode::kNotFound);
  // A refused update leaves the filter as it was.
  ASSERT_TRUE(store_->put_filter("", "f", kVideoOnly).is_ok());
  EXPECT_FALSE(store_->put_filter("", "f", "{").is_ok());
  EXPECT_EQ(store_->get_filter("", "f")->properties, canonical(kVideoOnly));
}

TEST_F(StoreTest, AssetFiltersOverrideAccountFiltersOfTheSameName) {
  add_asset("movie", make_folder("a", {}));
  add_asset("other", make_folder("b", {}));
  ASSERT_TRUE(store_->put_filter("", "short", kFirstTenSeconds).is_ok());
  ASSERT_TRUE(store_->put_filter("", "video", kVideoOnly).is_ok());
  ASSERT_TRUE(store_->put_filter("movie", "SHORT", kVideoOnly).is_ok());
  filter::Filter video = stored(kVideoOnly);
  filter::Filter ten_seconds = stored(kFirstTenSeconds);

  Result<std::vector<filter::Filter>> movie = store_->resolve_filters("movie", {"short", "video"});
  ASSERT_TRUE(movie.is_ok()) << movie.status().to_string();
  EXPECT_EQ(*movie, (std::vector<filter::Filter>{video, video}));
  // Another asset, and a request without an asset, see the account filter.
  EXPECT_EQ(*store_->resolve_filters("other", {"short"}), std::vector<filter::Filter>{ten_seconds});
  EXPECT_EQ(*store_->resolve_filters("", {"Short"}), std::vector<filter::Filter>{ten_seconds});
  EXPECT_TRUE(store_->resolve_filters("movie", {})->empty());

  Result<std::vector<filter::Filter>> missing =
      store_->resolve_filters("movie", {"video", "nope", "gone"});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "filter 'nope' is neither an asset filter of asset 'movie' nor an account filter");
  EXPECT_EQ(store_->resolve_filters("", {"nope"}).status().message(),
            "account filter 'nope' does not exist");

  // Without the asset filter, the account filter of that name applies again.
  ASSERT_TRUE(store_->delete_filter("movie", "short").is_ok());
  EXPECT_EQ(*store_->resolve_filters("movie", {"short"}), std::vector<filter::Filter>{ten_seconds});
}

TEST_F(StoreTest, LocatorFiltersAreCheckedAndReturned) {
  add_asset("movie", make_folder("a", {}));
  add_asset("other", make_folder("b", {}));
  ASSERT_TRUE(store_->put_filter("", "Account", kFirstTenSeconds).is_ok());
  ASSERT_TRUE(store_->put_filter("movie", "Mine", kVideoOnly).is_ok());
  ASSERT_TRUE(store_->put_filter("other", "Theirs", kVideoOnly).is_ok());
  auto create = [&](std::vector<std::string> filters) {
    Locator request{"", "movie", "Predefined_ClearStreamingOnly", {}, {}, "", std::move(filters)};
    return store_->create_locator(request);
  };
  Result<Locator> created = create({"mine", "account"});
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  std::vector<std::string> expected{"Mine", "Account"};  // order kept, stored spellings
  EXPECT_EQ(created->filters, expected);
  EXPECT_EQ(store_->get_locator(created->id)->filters, expected);
  Result<std::vector<Locator>> all = store_->list_locators();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().filters, expected);
  EXPECT_EQ(add_locator("movie", "Predefined_ClearStreamingOnly").filters,
            std::vector<std::string>{});

  Result<Locator> theirs = create({"Mine", "Theirs"});
  EXPECT_EQ(theirs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(theirs.status().message(),
            "filter 'Theirs' is neither an asset filter of asset 'movie' nor an account filter");
  Result<Locator> twice = create({"Mine", "MINE"});
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(twice.status().message(), "filter 'MINE' is named twice");
  for (int i = 0; i < 11; ++i) {
    ASSERT_TRUE(store_->put_filter("", "f" + std::to_string(i), kVideoOnly).is_ok());
  }
  std::vector<std::string> ten;
  for (int i = 0; i < 10; ++i) ten.push_back("f" + std::to_string(i));
  EXPECT_TRUE(create(ten).is_ok());
  ten.push_back("f10");
  Result<Locator> eleven = create(ten);
  EXPECT_EQ(eleven.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(eleven.status().message(), "a streaming locator applies at most 10 filters, not 11");
  EXPECT_EQ(store_->list_locators()->size(), 3u);
}

TEST_F(StoreTest, DeletingAFilterThatALocatorNamesIsAllowed) {
  add_asset("movie", make_folder("a", {}));
  ASSERT_TRUE(store_->put_filter("", "short", kFirstTenSeconds).is_ok());
  Result<Locator> locator = store_->create_locator(
      Locator{"", "movie", "Predefined_ClearStreamingOnly", {}, {}, "", {"short"}});
  ASSERT_TRUE(locator.is_ok()) << locator.status().to_string();
  ASSERT_TRUE(store_->delete_filter("", "short").is_ok());
  // The locator stays; its requests are the server's to refuse (404 MPE_EGRESS_FILTER_NOT_FOUND).
  Result<Locator> kept = store_->get_locator(locator->id);
  ASSERT_TRUE(kept.is_ok());
  EXPECT_EQ(kept->filters, std::vector<std::string>{"short"});
  EXPECT_EQ(store_->resolve_filters("movie", kept->filters).status().code(), StatusCode::kNotFound);
  // A filter of that name, here the asset's own, serves it again.
  ASSERT_TRUE(store_->put_filter("movie", "short", kVideoOnly).is_ok());
  EXPECT_EQ(*store_->resolve_filters("movie", kept->filters),
            std::vector<filter::Filter>{stored(kVideoOnly)});
}

TEST_F(StoreTest, DeletingAnAssetDeletesItsFilters) {
  add_asset("movie", make_folder("a", {}));
  add_asset("other", make_folder("b", {}));
  ASSERT_TRUE(store_->put_filter("movie", "f", kVideoOnly).is_ok());
  ASSERT_TRUE(store_->put_filter("movie", "g", kVideoOnly).is_ok());
  ASSERT_TRUE(store_->put_filter("other", "f", kVideoOnly).is_ok());
  ASSERT_TRUE(store_->put_filter("", "f", kVideoOnly).is_ok());
  ASSERT_TRUE(store_->delete_asset("movie").is_ok());
  // An asset of the same name starts without filters.
  add_asset("movie", make_folder("a", {}));
  EXPECT_TRUE(store_->list_filters("movie")->empty());
  EXPECT_EQ(store_->list_filters("other")->size(), 1u);
  EXPECT_EQ(store_->list_filters("")->size(), 1u);
}

TEST_F(StoreTest, ChangedSeesFilterWritesOfAnotherConnection) {
  std::unique_ptr<Store> other = open();
  ASSERT_TRUE(other);
  EXPECT_FALSE(store_->changed());
  ASSERT_TRUE(other->put_filter("", "short", kFirstTenSeconds).is_ok());
  EXPECT_TRUE(store_->changed());
  EXPECT_FALSE(store_->changed());
  ASSERT_TRUE(other->put_filter("", "short", kVideoOnly).is_ok());  // an update
  EXPECT_TRUE(store_->changed());
  ASSERT_TRUE(other->delete_filter("", "short").is_ok());
  EXPECT_TRUE(store_->changed());
}

const std::regex kV4Guid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

std::vector<std::string> types_of(const std::vector<ContentKey>& keys) {
  std::vector<std::string> types;
  for (const ContentKey& key : keys) types.push_back(key.type);
  return types;
}

// A key as a caller gives it: 16 bytes unless `value` says otherwise.
ContentKey given_key(const char* type, const char* id, std::string value = std::string(16, 'k')) {
  return ContentKey{"", id, type, "", std::move(value)};
}

constexpr char kKeyId[] = "9259eb06-eeee-4f77-987f-48f4ea5c649f";
constexpr char kOtherKeyId[] = "06bfeff1-2bb6-4f58-af27-a2767f058bca";

TEST_F(StoreTest, ClearKeyLocatorsGetOneRandomEnvelopeKey) {
  add_asset("movie", make_folder("a", {}));
  Locator locator = add_locator("movie", "Predefined_ClearKey");
  Result<std::vector<ContentKey>> keys = store_->content_keys(locator.id);
  ASSERT_TRUE(keys.is_ok()) << keys.status().to_string();
  ASSERT_EQ(keys->size(), 1u);
  const ContentKey& key = (*keys)[0];
  EXPECT_EQ(key.locator, locator.id);
  EXPECT_EQ(key.type, "EnvelopeEncryption");
  EXPECT_EQ(key.label, "");
  EXPECT_TRUE(std::regex_match(key.id, kV4Guid)) << key.id;
  EXPECT_NE(key.id, locator.id);
  EXPECT_EQ(key.value.size(), 16u);
  // create_locator returns what it stored.
  ASSERT_EQ(locator.content_keys.size(), 1u);
  EXPECT_EQ(locator.content_keys[0].id, key.id);
  EXPECT_EQ(locator.content_keys[0].value, key.value);
  // get_locator does not read keys.
  EXPECT_TRUE(store_->get_locator(locator.id)->content_keys.empty());
}

TEST_F(StoreTest, LocatorsGetAKeyPerSchemeOfTheirPolicy) {
  add_asset("movie", make_folder("a", {}));
  Locator multi = add_locator("movie", "Predefined_MultiDrmStreaming");
  EXPECT_EQ(types_of(*store_->content_keys(multi.id)),
            (std::vector<std::string>{"CommonEncryptionCenc", "CommonEncryptionCbcs"}));
  Locator cenc = add_locator("movie", "Predefined_MultiDrmCencStreaming");
  EXPECT_EQ(types_of(*store_->content_keys(cenc.id)),
            std::vector<std::string>{"CommonEncryptionCenc"});
  ASSERT_TRUE(store_
                  ->create_policy(
                      Policy{"fairPlayOnly", {false, false, true, false}, Encryption::kCommonCbcs})
                  .is_ok());
  Locator cbcs = add_locator("movie", "fairPlayOnly");
  EXPECT_EQ(types_of(*store_->content_keys(cbcs.id)),
            std::vector<std::string>{"CommonEncryptionCbcs"});
  for (const char* clear : {"Predefined_ClearStreamingOnly", "Predefined_DownloadOnly"}) {
    Locator locator = add_locator("movie", clear);
    EXPECT_TRUE(locator.content_keys.empty()) << clear;
    Result<std::vector<ContentKey>> none = store_->content_keys(locator.id);
    ASSERT_TRUE(none.is_ok()) << clear;
    EXPECT_TRUE(none->empty()) << clear;
  }
  EXPECT_EQ(store_->content_keys("00000000-0000-4000-8000-000000000000").status().code(),
            StatusCode::kNotFound);
}

TEST_F(StoreTest, EveryKeyIsDifferent) {
  add_asset("movie", make_folder("a", {}));
  std::vector<ContentKey> keys = add_locator("movie", "Predefined_MultiDrmStreaming").content_keys;
  for (const ContentKey& key : add_locator("movie", "Predefined_MultiDrmStreaming").content_keys) {
    keys.push_back(key);
  }
  ASSERT_EQ(keys.size(), 4u);
  for (size_t i = 0; i < keys.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      EXPECT_NE(keys[i].id, keys[j].id);
      EXPECT_NE(keys[i].value, keys[j].value);
    }
  }
}

TEST_F(StoreTest, GivenKeysAreKeptAndFoundByTheirId) {
  add_asset("movie", make_folder("a", {}));
  Locator request{"", "movie", "Predefined_ClearKey", {}, {}, ""};
  request.content_keys = {
      given_key("envelopeencryption", "9259EB06-EEEE-4F77-987F-48F4EA5C649F", "0123456789abcdef")};
  Result<Locator> created = store_->create_locator(request);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  Result<std::vector<ContentKey>> keys = store_->content_keys(created->id);
  ASSERT_TRUE(keys.is_ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].id, kKeyId);
  EXPECT_EQ((*keys)[0].type, "EnvelopeEncryption");
  EXPECT_EQ((*keys)[0].value, "0123456789abcdef");

  Result<ContentKey> found = store_->content_key("9259EB06-eeee-4f77-987f-48f4ea5c649f");
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_EQ(found->locator, created->id);
  EXPECT_EQ(found->value, "0123456789abcdef");
  EXPECT_EQ(store_->content_key(kOtherKeyId).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->content_key("not-a-guid").status().code(), StatusCode::kNotFound);

  // Two keys of one type need different labels.
  Locator multi{"", "movie", "Predefined_MultiDrmStreaming", {}, {}, ""};
  multi.content_keys = {given_key(kCommonEncryptionCenc, kOtherKeyId),
                        given_key(kCommonEncryptionCbcs, "799e78a0-ed6b-4cb4-a9a4-1b3bfa4e2a5d"),
                        given_key(kCommonEncryptionCenc, "11111111-2222-4333-8444-555555555555")};
  multi.content_keys[2].label = "audio";
  Result<Locator> labelled = store_->create_locator(multi);
  ASSERT_TRUE(labelled.is_ok()) << labelled.status().to_string();
  Result<std::vector<ContentKey>> three = store_->content_keys(labelled->id);
  ASSERT_TRUE(three.is_ok());
  EXPECT_EQ(types_of(*three),
            (std::vector<std::string>{kCommonEncryptionCenc, kCommonEncryptionCbcs,
                                      kCommonEncryptionCenc}));
  EXPECT_EQ((*three)[2].label, "audio");
}

TEST_F(StoreTest, BadGivenKeysAreRefusedAndNothingIsStored) {
  add_asset("movie", make_folder("a", {}));
  Locator first{"", "movie", "Predefined_ClearKey", {}, {}, ""};
  first.content_keys = {given_key(kEnvelopeEncryption, kKeyId)};
  ASSERT_TRUE(store_->create_locator(first).is_ok());

  // A value no message may show.
  const std::string secret = "SECRET-KEY-BYTES!";  // 17 bytes
  struct Case {
    const char* policy;
    std::vector<ContentKey> keys;
    const char* message;  // a part of the refusal
  };
  const Case cases[] = {
      {"Predefined_ClearKey", {given_key(kEnvelopeEncryption, "not-a-guid")}, "not a GUID"},
      {"Predefined_ClearKey", {given_key(kEnvelopeEncryption, kOtherKeyId, secret)}, "17 bytes"},
      {"Predefined_ClearKey",
       {given_key(kEnvelopeEncryption, kOtherKeyId, secret.substr(0, 15))},
       "15 bytes"},
      {"Predefined_ClearKey", {given_key("AesCbc", kOtherKeyId)}, "'AesCbc' is not"},
      {"Predefined_ClearKey", {given_key(kCommonEncryptionCbcs, kOtherKeyId)}, "uses no"},
      {"Predefined_ClearStreamingOnly", {given_key(kEnvelopeEncryption, kOtherKeyId)}, "uses no"},
      {"Predefined_MultiDrmStreaming",
       {given_key(kCommonEncryptionCenc, kOtherKeyId)},
       "needs a CommonEncryptionCbcs"},
      {"Predefined_MultiDrmStreaming",
       {given_key(kCommonEncryptionCenc, kOtherKeyId),
        given_key(kCommonEncryptionCbcs, "06BFEFF1-2BB6-4F58-AF27-A2767F058BCA")},
       "given twice"},
      {"Predefined_MultiDrmStreaming",
       {given_key(kCommonEncryptionCenc, kOtherKeyId),
        given_key(kCommonEncryptionCenc, "11111111-2222-4333-8444-555555555555"),
        given_key(kCommonEncryptionCbcs, "799e78a0-ed6b-4cb4-a9a4-1b3bfa4e2a5d")},
       "labelled ''"},
      // Passes every check of its own and fails at the insert: the locator is rolled back.
      {"Predefined_ClearKey", {given_key(kEnvelopeEncryption, kKeyId)}, kKeyId},
  };
  for (const Case& c : cases) {
    Locator request{kLocator, "movie", c.policy, {}, {}, ""};
    request.content_keys = c.keys;
    Status refused = store_->create_locator(request).status();
    EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(refused.message().find(c.message), std::string::npos) << refused.message();
    EXPECT_EQ(refused.message().find("SECRET"), std::string::npos) << refused.message();
    EXPECT_EQ(store_->get_locator(kLocator).status().code(), StatusCode::kNotFound) << c.message;
  }
  EXPECT_EQ(store_->list_locators()->size(), 1u);
}

TEST_F(StoreTest, DeletingALocatorDeletesItsKeys) {
  add_asset("movie", make_folder("a", {}));
  Locator doomed = add_locator("movie", "Predefined_MultiDrmStreaming");
  Locator kept = add_locator("movie", "Predefined_ClearKey");
  ASSERT_EQ(doomed.content_keys.size(), 2u);
  ASSERT_TRUE(store_->content_key(doomed.content_keys[0].id).is_ok());
  ASSERT_TRUE(store_->delete_locator(doomed.id).is_ok());
  for (const ContentKey& key : doomed.content_keys) {
    EXPECT_EQ(store_->content_key(key.id).status().code(), StatusCode::kNotFound);
  }
  EXPECT_EQ(store_->content_keys(doomed.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->content_keys(kept.id)->size(), 1u);
  // None is left behind in the file.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM content_keys", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(s, 0), 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
  // The id of a deleted key is free again.
  Locator again{"", "movie", "Predefined_ClearKey", {}, {}, ""};
  again.content_keys = {given_key(kEnvelopeEncryption, doomed.content_keys[0].id.c_str())};
  EXPECT_TRUE(store_->create_locator(again).is_ok());
}

TEST_F(StoreTest, ContentKeysJsonShowsValuesOnlyWithSecrets) {
  // AMS's listContentKeys example key.
  const std::string value("\x42\x98\xaa\x79\x04\x4e\x74\xde\x71\x6a\x69\xdf\x50\x5d\x96\x77", 16);
  std::vector<ContentKey> keys = {
      ContentKey{kLocator, kKeyId, kEnvelopeEncryption, "aesDefaultKey", value}};
  EXPECT_EQ(content_keys_json(keys, false), R"json({
  "contentKeys": [
    {
      "id": "9259eb06-eeee-4f77-987f-48f4ea5c649f",
      "type": "EnvelopeEncryption",
      "labelReferenceInStreamingPolicy": "aesDefaultKey",
      "policyName": "",
      "tracks": []
    }
  ]
}
)json");
  EXPECT_EQ(content_keys_json(keys, true), R"json({
  "contentKeys": [
    {
      "id": "9259eb06-eeee-4f77-987f-48f4ea5c649f",
      "type": "EnvelopeEncryption",
      "labelReferenceInStreamingPolicy": "aesDefaultKey",
      "value": "QpiqeQROdN5xamnfUF2Wdw==",
      "policyName": "",
      "tracks": []
    }
  ]
}
)json");
  EXPECT_EQ(strip_spaces(content_keys_json({}, true)), R"json({"contentKeys":[]})json");
}

// A database as the previous release (schema version 1) left it, made with its own SQL.
TEST_F(StoreTest, MigratesAVersion1Database) {
  store_.reset();
  fs::remove(db_path_);
  std::string folder = make_folder("a", {});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  std::string v1 = R"sql(
PRAGMA journal_mode = WAL;
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
INSERT INTO policies VALUES
  ('Predefined_ClearStreamingOnly', 0, 1, 1, 1, 0, 1, '2025-01-01T00:00:00.0000000Z');
INSERT INTO assets VALUES ('movie', '@FOLDER@', '2025-01-01T00:00:00.0000000Z');
INSERT INTO locators VALUES ('3e4570a3-977a-432e-87bf-57bf505e400e', 'movie',
  'Predefined_ClearStreamingOnly', NULL, '2099-01-01T00:00:00.0000000Z',
  '2025-01-02T00:00:00.0000000Z');
PRAGMA user_version = 1;
)sql";
  v1.replace(v1.find("@FOLDER@"), 8, folder);
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  sqlite3_close(db);

  store_ = open();
  ASSERT_TRUE(store_);
  Result<Locator> locator = store_->get_locator(kLocator);
  ASSERT_TRUE(locator.is_ok()) << locator.status().to_string();
  EXPECT_EQ(locator->asset, "movie");
  EXPECT_EQ(locator->end_time, "2099-01-01T00:00:00.0000000Z");
  EXPECT_EQ(locator->created, "2025-01-02T00:00:00.0000000Z");
  EXPECT_TRUE(locator->filters.empty());
  EXPECT_EQ(store_->get_asset("movie")->created, "2025-01-01T00:00:00.0000000Z");
  EXPECT_EQ(store_->list_policies()->size(), 1u);  // migration adds no policy
  EXPECT_TRUE(store_->list_filters("")->empty());
  ASSERT_TRUE(store_->put_filter("movie", "short", kFirstTenSeconds).is_ok());
  Result<Locator> filtered = store_->create_locator(
      Locator{"", "movie", "Predefined_ClearStreamingOnly", {}, {}, "", {"short"}});
  ASSERT_TRUE(filtered.is_ok()) << filtered.status().to_string();
  EXPECT_EQ(store_->get_locator(filtered->id)->filters, std::vector<std::string>{"short"});

  // Reopened, the migrated database stays at the current version with its data.
  store_.reset();
  store_ = open();
  ASSERT_TRUE(store_);
  EXPECT_TRUE(store_->get_filter("movie", "short").is_ok());
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(s, 0), 4);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

// A database as the filters release (schema version 2) left it, made with its own SQL, holding
// a locator under Predefined_ClearKey (which served nothing then) and a clear one.
TEST_F(StoreTest, MigratesAVersion2DatabaseAndGivesEncryptedLocatorsKeys) {
  store_.reset();
  fs::remove(db_path_);
  std::string folder = make_folder("a", {});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  std::string v2 = R"sql(
PRAGMA journal_mode = WAL;
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
CREATE TABLE filters (
  asset TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL COLLATE NOCASE,
  properties TEXT NOT NULL,
  created TEXT NOT NULL,
  last_modified TEXT NOT NULL,
  PRIMARY KEY (asset, name));
ALTER TABLE locators ADD COLUMN filters TEXT NOT NULL DEFAULT '';
INSERT INTO policies VALUES
  ('Predefined_ClearStreamingOnly', 0, 1, 1, 1, 0, 1, '2025-01-01T00:00:00.0000000Z'),
  ('Predefined_ClearKey', 0, 1, 1, 1, 1, 1, '2025-01-01T00:00:00.0000000Z');
INSERT INTO assets VALUES ('movie', '@FOLDER@', '2025-01-01T00:00:00.0000000Z');
INSERT INTO locators VALUES ('3e4570a3-977a-432e-87bf-57bf505e400e', 'movie',
  'Predefined_ClearKey', NULL, NULL, '2025-01-02T00:00:00.0000000Z', '');
INSERT INTO locators VALUES ('00000000-0000-4000-8000-000000000001', 'movie',
  'Predefined_ClearStreamingOnly', NULL, NULL, '2025-01-02T00:00:00.0000000Z', '');
PRAGMA user_version = 2;
)sql";
  v2.replace(v2.find("@FOLDER@"), 8, folder);
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, v2.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
  sqlite3_close(db);

  store_ = open();
  ASSERT_TRUE(store_);
  Result<std::vector<ContentKey>> keys = store_->content_keys(kLocator);
  ASSERT_TRUE(keys.is_ok()) << keys.status().to_string();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].type, kEnvelopeEncryption);
  EXPECT_EQ((*keys)[0].value.size(), 16u);
  EXPECT_TRUE(store_->content_keys("00000000-0000-4000-8000-000000000001")->empty());
  EXPECT_EQ(store_->get_locator(kLocator)->created, "2025-01-02T00:00:00.0000000Z");

  // Reopened, the keys stay as they are: the migration ran once.
  store_.reset();
  store_ = open();
  ASSERT_TRUE(store_);
  Result<std::vector<ContentKey>> again = store_->content_keys(kLocator);
  ASSERT_TRUE(again.is_ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].id, (*keys)[0].id);
  EXPECT_EQ((*again)[0].value, (*keys)[0].value);
  // New locators get keys, and deleting the migrated one deletes its key.
  add_asset("other", folder);
  EXPECT_EQ(add_locator("other", "Predefined_ClearKey").content_keys.size(), 1u);
  ASSERT_TRUE(store_->delete_locator(kLocator).is_ok());
  EXPECT_EQ(store_->content_key((*keys)[0].id).status().code(), StatusCode::kNotFound);
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(s, 0), 4);
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(StoreTest, FilterJsonInTheAmsShape) {
  Result<FilterRecord> f =
      store_->put_filter("", "mobile",
                         R"json({"properties": {"firstQuality": {"bitrate": 128000},
          "tracks": [{"trackSelections": [{"property": "Type", "operation": "Equal",
          "value": "Audio"}, {"property": "FourCC", "operation": "NotEqual", "value": "EC-3"}]}]}})json");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ(filter_json(*f), R"json({
  "name": "mobile",
  "properties": {
    "firstQuality": {
      "bitrate": 128000
    },
    "tracks": [
      {
        "trackSelections": [
          {
            "operation": "Equal",
            "property": "Type",
            "value": "Audio"
          },
          {
            "operation": "NotEqual",
            "property": "FourCC",
            "value": "EC-3"
          }
        ]
      }
    ]
  }
}
)json");
  // What it prints, the store takes back unchanged.
  ASSERT_TRUE(store_->put_filter("", "copy", filter_json(*f)).is_ok());
  EXPECT_EQ(store_->get_filter("", "copy")->properties, f->properties);
}

TEST_F(StoreTest, ListPathsGolden) {
  add_asset("ignite", make_folder("ignite", {"ignite.ism", "ignite.ismc", "ignite_720.mp4",
                                             "ignite_180.mp4", "ignite.vtt", "ignite_manifest.json",
                                             ".hidden.mp4", "my video.mp4"}));
  add_locator("ignite", "Predefined_DownloadAndClearStreaming", kLocator);
  Result<std::string> json = store_->list_paths_json(kLocator);
  ASSERT_TRUE(json.is_ok()) << json.status().to_string();
  EXPECT_EQ(*json, R"json({
  "streamingPaths": [
    {
      "streamingProtocol": "Hls",
      "encryptionScheme": "NoEncryption",
      "paths": [
        "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.ism/manifest(format=m3u8-aapl)",
        "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.ism/manifest(format=m3u8-cmaf)"
      ]
    },
    {
      "streamingProtocol": "Dash",
      "encryptionScheme": "NoEncryption",
      "paths": [
        "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.ism/manifest(format=mpd-time-csf)",
        "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.ism/manifest(format=mpd-time-cmaf)"
      ]
    },
    {
      "streamingProtocol": "SmoothStreaming",
      "encryptionScheme": "NoEncryption",
      "paths": [
        "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.ism/manifest"
      ]
    }
  ],
  "downloadPaths": [
    "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.vtt",
    "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite_180.mp4",
    "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite_720.mp4",
    "/3e4570a3-977a-432e-87bf-57bf505e400e/my%20video.mp4"
  ]
}
)json");
}

TEST_F(StoreTest, ListPathsFollowsThePolicy) {
  add_asset("ignite", make_folder("ignite", {"ignite.ism", "ignite.mp4"}));
  add_locator("ignite", "Predefined_DownloadOnly", kLocator);
  EXPECT_EQ(*store_->list_paths_json(kLocator), R"json({
  "streamingPaths": [],
  "downloadPaths": [
    "/3e4570a3-977a-432e-87bf-57bf505e400e/ignite.mp4"
  ]
}
)json");
  Locator clear = add_locator("ignite", "Predefined_ClearStreamingOnly");
  std::string clear_json = *store_->list_paths_json(clear.id);
  EXPECT_NE(clear_json.find("\"Hls\""), std::string::npos);
  EXPECT_NE(clear_json.find("\"downloadPaths\": []"), std::string::npos);
  EXPECT_EQ(store_->list_paths_json("00000000-0000-4000-8000-000000000000").status().code(),
            StatusCode::kNotFound);
}

TEST_F(StoreTest, ListPathsMatchesTheAmsFixtures) {
  std::optional<std::string> clear = read_fixture("rest_listpaths_clear_with_download.json");
  std::optional<std::string> secure = read_fixture("rest_listpaths_secure.json");
  if (!clear || !secure) GTEST_FAIL() << "AMS fixtures absent (AMS_SOURCE_ROOT)";
  add_asset("videos",
            make_folder("v", {"videoManifest1.ism", "videoManifest2.ism", "videoManifest3.ism",
                              "textTrack.vtt", "video1.mp4", "video2.mp4", "video3.mp4"}));
  add_locator("videos", "Predefined_DownloadAndClearStreaming", kLocator);
  // Without the CMAF paths this project adds, the document is AMS's, key for key.
  std::string ours = strip_spaces(*store_->list_paths_json(kLocator));
  ours = std::regex_replace(ours, std::regex(R"re(,"[^"]*format=(m3u8|mpd-time)-cmaf\)")re"), "");
  EXPECT_EQ(ours, strip_spaces(*clear));

  // The secure fixture is one policy with all three schemes; ClearKey and MultiDrmStreaming
  // each produce their part of it, in its order.
  std::string secure_text = strip_spaces(*secure);
  const std::string secure_id = "75177b56-66c4-4043-9ec9-37c325e5fd6c";
  secure_text = std::regex_replace(secure_text, std::regex(secure_id), kLocator);
  for (const char* policy : {"Predefined_ClearKey", "Predefined_MultiDrmStreaming"}) {
    std::string id = add_locator("videos", policy).id;
    std::string json = strip_spaces(*store_->list_paths_json(id));
    json = std::regex_replace(json, std::regex(id), kLocator);
    std::string prefix = "{\"streamingPaths\":[";
    ASSERT_EQ(json.rfind(prefix, 0), 0u) << json;
    std::string entries =
        json.substr(prefix.size(), json.find("],\"downloadPaths\"") - prefix.size());
    EXPECT_NE(secure_text.find(entries), std::string::npos) << policy << ": " << entries;
    EXPECT_NE(json.find("\"downloadPaths\":[]"), std::string::npos);
  }
}

TEST_F(StoreTest, PolicyJsonInTheAmsShape) {
  EXPECT_EQ(policy_json(Policy{"clearStreamingPolicy",
                               {true, true, true, true},
                               Encryption::kNone,
                               false,
                               "2018-08-08T18:29:30.8501486Z"}),
            R"json({
  "name": "clearStreamingPolicy",
  "properties": {
    "created": "2018-08-08T18:29:30.8501486Z",
    "noEncryption": {
      "enabledProtocols": {
        "download": true,
        "dash": true,
        "hls": true,
        "smoothStreaming": true
      }
    }
  }
}
)json");
  std::string multi =
      strip_spaces(policy_json(*store_->get_policy("Predefined_MultiDrmStreaming")));
  EXPECT_NE(
      multi.find(
          R"json("commonEncryptionCenc":{"enabledProtocols":{"download":false,"dash":true,"hls":false,"smoothStreaming":true}})json"),
      std::string::npos)
      << multi;
  EXPECT_NE(
      multi.find(
          R"json("commonEncryptionCbcs":{"enabledProtocols":{"download":false,"dash":false,"hls":true,"smoothStreaming":false}})json"),
      std::string::npos)
      << multi;
}

TEST(StoreFiles, Downloadable) {
  EXPECT_TRUE(is_downloadable("video1.mp4"));
  EXPECT_TRUE(is_downloadable("VIDEO.MP4"));
  EXPECT_TRUE(is_downloadable("textTrack.vtt"));
  EXPECT_TRUE(is_downloadable("audio.m4a"));
  EXPECT_FALSE(is_downloadable("x.ism"));
  EXPECT_FALSE(is_downloadable("x.ismc"));
  EXPECT_FALSE(is_downloadable("x_manifest.json"));
  EXPECT_FALSE(is_downloadable(".hidden.mp4"));
  EXPECT_FALSE(is_downloadable(".mp4"));
  EXPECT_FALSE(is_downloadable("bad\nname.mp4"));
}

TEST(StorePaths, DefaultDatabasePathHonoursAmsDb) {
  g_setenv("AMS_DB", "/tmp/somewhere/my.db", TRUE);
  EXPECT_EQ(default_database_path(), "/tmp/somewhere/my.db");
  g_unsetenv("AMS_DB");
  EXPECT_TRUE(default_database_path().ends_with("/gst-ams/ams.db"));
}

}  // namespace
}  // namespace ams::store
