// Runs the built `ams` binary ($AMS_BUILD_ROOT/tools/ams) through the asset, policy, locator and
// filter commands, as a user would, without a shell: exit statuses, stdout and stderr.

#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

class StoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* build = g_getenv("AMS_BUILD_ROOT");
    if (build == nullptr) GTEST_FAIL() << "AMS_BUILD_ROOT is not set (run through meson test)";
    ams_ = (fs::path(build) / "tools" / "ams").string();
    ASSERT_TRUE(g_file_test(ams_.c_str(), G_FILE_TEST_IS_EXECUTABLE)) << ams_;
    gchar* dir = g_dir_make_tmp("ams-cli-XXXXXX", nullptr);
    ASSERT_NE(dir, nullptr);
    dir_ = dir;
    g_free(dir);
    db_ = (dir_ / "db" / "ams.db").string();
    fs::create_directories(dir_ / "media");
    for (const char* file : {"ignite.ism", "ignite_720.mp4"}) {
      std::ofstream(dir_ / "media" / file) << "x";
    }
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Runs `ams ARGS... --db DB` in the test folder.
  Outcome ams(std::vector<std::string> args, bool with_db = true, gchar** env = nullptr) {
    std::vector<std::string> all{ams_};
    all.insert(all.end(), args.begin(), args.end());
    if (with_db) all.insert(all.end(), {"--db", db_});
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    Outcome run;
    gchar* out = nullptr;
    gchar* err = nullptr;
    int wait_status = 0;
    GError* error = nullptr;
    std::string cwd = dir_.string();
    bool spawned = g_spawn_sync(cwd.c_str(), argv.data(), env, G_SPAWN_DEFAULT, nullptr, nullptr,
                                &out, &err, &wait_status, &error);
    EXPECT_TRUE(spawned) << (error != nullptr ? error->message : "");
    g_clear_error(&error);
    if (spawned && WIFEXITED(wait_status)) run.status = WEXITSTATUS(wait_status);
    run.out = out != nullptr ? out : "";
    run.err = err != nullptr ? err : "";
    g_free(out);
    g_free(err);
    return run;
  }

  std::string ams_;
  fs::path dir_;
  std::string db_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(StoreCliTest, CreatePublishListPathsAndDelete) {
  // A relative --path is stored absolute.
  Outcome created = ams({"asset", "create", "ignite", "--path", "media"});
  ASSERT_EQ(created.status, 0) << created.err;
  Outcome assets = ams({"asset", "list"});
  ASSERT_EQ(assets.status, 0);
  EXPECT_TRUE(assets.out.starts_with("ignite\t" + (dir_ / "media").string() + "\t")) << assets.out;

  ASSERT_EQ(ams({"policy", "create", "hlsAndDash", "--protocols", "hls,DASH"}).status, 0);
  Outcome shown = ams({"policy", "show", "hlsAndDash"});
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_TRUE(contains(shown.out, "\"name\": \"hlsAndDash\"")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "\"noEncryption\": {")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "\"hls\": true")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "\"download\": false")) << shown.out;
  Outcome policies = ams({"policy", "list"});
  EXPECT_TRUE(contains(policies.out,
                       "Predefined_ClearKey\tdash,hls,smoothStreaming\tenvelope\t"
                       "predefined\n"))
      << policies.out;
  EXPECT_TRUE(contains(policies.out, "hlsAndDash\tdash,hls\tnone\tcustom\n")) << policies.out;

  Outcome locator = ams({"locator", "create", "--asset", "ignite", "--policy",
                         "Predefined_DownloadAndClearStreaming"});
  ASSERT_EQ(locator.status, 0) << locator.err;
  ASSERT_TRUE(std::regex_match(locator.out, std::regex("[0-9a-f-]{36}\n"))) << locator.out;
  std::string id = locator.out.substr(0, 36);
  Outcome explicit_id =
      ams({"locator", "create", "--asset", "ignite", "--policy", "hlsAndDash", "--id",
           "3E4570A3-977A-432E-87BF-57BF505E400E", "--end", "2099-01-01T00:00:00Z"});
  ASSERT_EQ(explicit_id.status, 0) << explicit_id.err;
  EXPECT_EQ(explicit_id.out, "3e4570a3-977a-432e-87bf-57bf505e400e\n");

  Outcome listed = ams({"locator", "list"});
  EXPECT_TRUE(contains(listed.out, id + "\tignite\tPredefined_DownloadAndClearStreaming\t\t"
                                        "9999-12-31T23:59:59.9999999Z\t"))
      << listed.out;
  EXPECT_TRUE(contains(listed.out,
                       "3e4570a3-977a-432e-87bf-57bf505e400e\tignite\thlsAndDash\t\t"
                       "2099-01-01T00:00:00.0000000Z\t"))
      << listed.out;

  Outcome paths = ams({"locator", "paths", id});
  ASSERT_EQ(paths.status, 0) << paths.err;
  EXPECT_TRUE(contains(paths.out, "\"/" + id + "/ignite.ism/manifest(format=m3u8-aapl)\""));
  EXPECT_TRUE(contains(paths.out, "\"/" + id + "/ignite.ism/manifest\""));
  EXPECT_TRUE(contains(paths.out, "\"downloadPaths\": [\n    \"/" + id + "/ignite_720.mp4\"\n"))
      << paths.out;

  Outcome refused = ams({"asset", "delete", "ignite"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_TRUE(contains(refused.err, "locator")) << refused.err;

  EXPECT_EQ(ams({"locator", "delete", id}).status, 0);
  EXPECT_EQ(ams({"locator", "delete", "3e4570a3-977a-432e-87bf-57bf505e400e"}).status, 0);
  Outcome gone = ams({"locator", "paths", id});
  EXPECT_EQ(gone.status, 1);
  EXPECT_TRUE(gone.out.empty());
  EXPECT_EQ(ams({"asset", "delete", "ignite"}).status, 0);
  EXPECT_EQ(ams({"asset", "list"}).out, "");
}

TEST_F(StoreCliTest, ErrorsExit1AndBadUsageExits2) {
  ASSERT_EQ(ams({"asset", "create", "ignite", "--path", "media"}).status, 0);
  struct Case {
    std::vector<std::string> args;
    int status;
  };
  const Case cases[] = {
      {{"asset"}, 2},
      {{"asset", "frobnicate"}, 2},
      {{"asset", "create"}, 2},
      {{"asset", "create", "x"}, 2},
      {{"asset", "create", "x", "y", "--path", "media"}, 2},
      {{"asset", "list", "--bogus"}, 2},
      {{"policy", "create", "p", "--protocols", "ftp"}, 2},
      {{"policy", "create", "p"}, 2},
      {{"locator", "create", "--asset", "ignite"}, 2},
      {{"locator", "paths"}, 2},
      {{"asset", "create", "x", "--path", "/nonexistent/folder"}, 1},
      {{"asset", "create", "x", "--path", "media/ignite.ism"}, 1},
      {{"asset", "create", "bad name", "--path", "media"}, 1},
      {{"asset", "create", "IGNITE", "--path", "media"}, 1},
      {{"asset", "delete", "nope"}, 1},
      {{"policy", "show", "nope"}, 1},
      {{"policy", "create", "Predefined_ClearKey", "--protocols", "hls"}, 1},
      {{"locator", "create", "--asset", "nope", "--policy", "Predefined_DownloadOnly"}, 1},
      {{"locator", "create", "--asset", "ignite", "--policy", "nope"}, 1},
      {{"locator", "create", "--asset", "ignite", "--policy", "Predefined_DownloadOnly", "--id",
        "not-a-guid"},
       1},
      {{"locator", "create", "--asset", "ignite", "--policy", "Predefined_DownloadOnly", "--start",
        "tomorrow"},
       1},
      {{"locator", "delete", "3e4570a3-977a-432e-87bf-57bf505e400e"}, 1},
  };
  for (const Case& c : cases) {
    Outcome run = ams(c.args);
    std::string line;
    for (const std::string& a : c.args) line += a + " ";
    EXPECT_EQ(run.status, c.status) << line << "\n" << run.err;
    EXPECT_FALSE(run.err.empty()) << line;
    EXPECT_TRUE(run.out.empty()) << line << run.out;
  }
  Outcome help = ams({"locator", "--help"}, false);
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.out, "ams locator paths ID")) << help.out;
}

// The name-independent part of `show`'s JSON.
std::string without_name(const std::string& json) {
  return std::regex_replace(json, std::regex(R"("name": "[^"]*")"), "\"name\": \"\"");
}

TEST_F(StoreCliTest, FilterFlagsAndJsonStoreTheSameFilter) {
  Outcome by_flags = ams({"account-filter", "create", "byFlags", "--start", "10.5", "--end", "20",
                          "--track", "Type=video;Bitrate=0-1500000", "--track",
                          " type = audio ; Language!=fr ;", "--first-quality", "1500000"});
  ASSERT_EQ(by_flags.status, 0) << by_flags.err;
  EXPECT_TRUE(contains(by_flags.out, "\"name\": \"byFlags\"")) << by_flags.out;
  EXPECT_TRUE(contains(by_flags.out, "\"startTimestamp\": 105000000")) << by_flags.out;

  std::ofstream(dir_ / "filter.json") << R"json({"properties": {
    "presentationTimeRange": {"startTimestamp": 105000000, "endTimestamp": 200000000,
                              "timescale": 10000000},
    "firstQuality": {"bitrate": 1500000},
    "tracks": [
      {"trackSelections": [{"property": "Type", "operation": "Equal", "value": "video"},
                           {"property": "Bitrate", "operation": "Equal", "value": "0-1500000"}]},
      {"trackSelections": [{"property": "Type", "operation": "Equal", "value": "audio"},
                           {"property": "Language", "operation": "NotEqual", "value": "fr"}]}]}})json";
  Outcome by_json = ams({"account-filter", "create", "byJson", "--json", "filter.json"});
  ASSERT_EQ(by_json.status, 0) << by_json.err;
  EXPECT_EQ(without_name(by_json.out), without_name(by_flags.out));
  Outcome shown = ams({"account-filter", "show", "BYFLAGS"});
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_EQ(shown.out, by_flags.out);
  EXPECT_EQ(without_name(ams({"account-filter", "show", "byJson"}).out), without_name(shown.out));

  // Another timescale: the same seconds, other ticks.
  Outcome ms = ams({"account-filter", "create", "ms", "--timescale", "1000", "--end", "2.0005"});
  ASSERT_EQ(ms.status, 0) << ms.err;
  EXPECT_TRUE(contains(ms.out, "\"endTimestamp\": 2001")) << ms.out;  // half a tick rounds up
  EXPECT_TRUE(contains(ms.out, "\"timescale\": 1000")) << ms.out;

  Outcome listed = ams({"account-filter", "list"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  const std::string summary =
      "start=10.5s end=20s track=Type=video;Bitrate=0-1500000 track=Type=audio;Language!=fr "
      "first-quality=1500000";
  EXPECT_EQ(listed.out, "byFlags\t" + summary + "\nbyJson\t" + summary + "\nms\tend=2.001s\n");

  // create on an existing name replaces it.
  Outcome updated = ams({"account-filter", "create", "byjson", "--track", "FourCC!=ec-3"});
  ASSERT_EQ(updated.status, 0) << updated.err;
  EXPECT_TRUE(contains(updated.out, "\"name\": \"byJson\"")) << updated.out;
  EXPECT_FALSE(contains(updated.out, "presentationTimeRange")) << updated.out;
  EXPECT_TRUE(contains(ams({"account-filter", "list"}).out, "byJson\ttrack=FourCC!=ec-3\n"));

  EXPECT_EQ(ams({"account-filter", "delete", "byFlags"}).status, 0);
  EXPECT_EQ(ams({"account-filter", "list"}).out, "byJson\ttrack=FourCC!=ec-3\nms\tend=2.001s\n");
}

TEST_F(StoreCliTest, AssetFiltersAndLocatorFilters) {
  ASSERT_EQ(ams({"asset", "create", "ignite", "--path", "media"}).status, 0);
  Outcome created = ams({"asset-filter", "create", "short", "--asset", "ignite", "--end", "10"});
  ASSERT_EQ(created.status, 0) << created.err;
  ASSERT_EQ(ams({"account-filter", "create", "short", "--track", "Type=video"}).status, 0);
  ASSERT_EQ(ams({"account-filter", "create", "sd", "--track", "Bitrate=0-1000000"}).status, 0);
  EXPECT_EQ(ams({"asset-filter", "list", "--asset", "IGNITE"}).out, "short\tend=10s\n");
  EXPECT_TRUE(contains(ams({"asset-filter", "show", "short", "--asset", "ignite"}).out,
                       "\"endTimestamp\": 100000000"));

  Outcome locator = ams({"locator", "create", "--asset", "ignite", "--policy",
                         "Predefined_ClearStreamingOnly", "--filters", "SD, short"});
  ASSERT_EQ(locator.status, 0) << locator.err;
  std::string id = locator.out.substr(0, 36);
  Outcome plain =
      ams({"locator", "create", "--asset", "ignite", "--policy", "Predefined_ClearStreamingOnly"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  Outcome listed = ams({"locator", "list"});
  EXPECT_TRUE(std::regex_search(listed.out, std::regex(id + "\tignite\t[^\n]*\tsd,short\n")))
      << listed.out;
  EXPECT_TRUE(
      std::regex_search(listed.out, std::regex(plain.out.substr(0, 36) + "\tignite\t[^\t\n]*\t\t"
                                                                         "[^\t\n]*\t[^\t\n]*\t\n")))
      << listed.out;

  Outcome missing = ams({"locator", "create", "--asset", "ignite", "--policy",
                         "Predefined_ClearStreamingOnly", "--filters", "short,nope"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(contains(missing.err,
                       "filter 'nope' is neither an asset filter of asset 'ignite' "
                       "nor an account filter"))
      << missing.err;

  // Deleting a filter a locator names is allowed.
  EXPECT_EQ(ams({"account-filter", "delete", "sd"}).status, 0);
  EXPECT_TRUE(contains(ams({"locator", "list"}).out, "\tsd,short\n"));
  EXPECT_EQ(ams({"asset-filter", "delete", "short", "--asset", "ignite"}).status, 0);
  EXPECT_EQ(ams({"asset-filter", "list", "--asset", "ignite"}).out, "");
  EXPECT_EQ(ams({"account-filter", "list"}).out, "short\ttrack=Type=video\n");
}

TEST_F(StoreCliTest, FilterErrorsExit1AndBadUsageExits2) {
  ASSERT_EQ(ams({"asset", "create", "ignite", "--path", "media"}).status, 0);
  std::ofstream(dir_ / "f.json") << R"({"properties": {}})";
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string message;  // a part of stderr
  };
  const Case cases[] = {
      {{"account-filter", "create", "f", "--track", "Type"},
       2,
       "--track 'Type': 'Type' is not Property=Value or Property!=Value"},
      {{"account-filter", "create", "f", "--track", "Type=video;=x"},
       2,
       "--track 'Type=video;=x': '=x' is not Property=Value or Property!=Value"},
      {{"account-filter", "create", "f", "--track", ";"}, 2, "--track ';': no condition"},
      {{"account-filter", "create", "f", "--track", "Colour=red"},
       2,
       "--track 'Colour=red': unknown property 'Colour' (Type, Name, Language, FourCC or "
       "Bitrate)"},
      {{"account-filter", "create", "f"}, 2, "give the filter"},
      {{"account-filter", "create", "f", "--json", "f.json", "--start", "1"},
       2,
       "--json and the flags that build a filter exclude each other"},
      {{"account-filter", "create", "f", "--start", "ten"},
       2,
       "--start: 'ten' is not a number of seconds"},
      {{"account-filter", "create", "f", "--end", "1e3"}, 2, "--end: '1e3' is not a number"},
      {{"account-filter", "create", "f", "--end", "99999999999999999"}, 2, "is too long"},
      {{"account-filter", "create", "f", "--timescale", "0", "--end", "1"},
       2,
       "--timescale: '0' is not a positive integer"},
      {{"account-filter", "create", "f", "--first-quality", "fast"},
       2,
       "--first-quality: 'fast' is not a bitrate"},
      {{"asset-filter", "create", "f", "--end", "1"}, 2, "--asset is required"},
      {{"account-filter", "show"}, 2, "missing arguments"},
      {{"account-filter", "list", "extra"}, 2, "too many arguments"},
      {{"locator", "create", "--asset", "ignite", "--policy", "Predefined_ClearStreamingOnly",
        "--filters", "a,,b"},
       2,
       "bad --filters 'a,,b'"},
      {{"account-filter", "create", "bad name", "--end", "1"}, 1, "a filter name holds"},
      {{"account-filter", "create", "f", "--start", "20", "--end", "10"}, 1, ""},
      {{"account-filter", "create", "f", "--json", "missing.json"}, 1, "missing.json"},
      {{"account-filter", "show", "nope"}, 1, "account filter 'nope' does not exist"},
      {{"account-filter", "delete", "nope"}, 1, "account filter 'nope' does not exist"},
      {{"asset-filter", "create", "f", "--asset", "nope", "--end", "1"},
       1,
       "asset 'nope' does not exist"},
      {{"asset-filter", "list", "--asset", "nope"}, 1, "asset 'nope' does not exist"},
  };
  for (const Case& c : cases) {
    Outcome run = ams(c.args);
    std::string line;
    for (const std::string& a : c.args) line += a + " ";
    EXPECT_EQ(run.status, c.status) << line << "\n" << run.err;
    EXPECT_FALSE(run.err.empty()) << line;
    EXPECT_TRUE(contains(run.err, c.message)) << line << "\n" << run.err;
    EXPECT_TRUE(run.out.empty()) << line << run.out;
  }
  EXPECT_EQ(ams({"account-filter", "list"}).out, "");  // none was made
  Outcome help = ams({"--help"}, false);
  EXPECT_TRUE(contains(help.out, "  account-filter   ")) << help.out;
  Outcome sub_help = ams({"asset-filter", "--help"}, false);
  EXPECT_EQ(sub_help.status, 0);
  EXPECT_TRUE(contains(sub_help.out, "ams asset-filter list --asset NAME")) << sub_help.out;
}

TEST_F(StoreCliTest, LocatorContentKeysWithAndWithoutSecrets) {
  ASSERT_EQ(ams({"asset", "create", "ignite", "--path", "media"}).status, 0);
  // A key given on the command line (AMS's listContentKeys example key).
  Outcome given = ams({"locator", "create", "--asset", "ignite", "--policy", "Predefined_ClearKey",
                       "--content-key",
                       "EnvelopeEncryption:9259EB06-EEEE-4F77-987F-48F4EA5C649F:"
                       "QpiqeQROdN5xamnfUF2Wdw=="});
  ASSERT_EQ(given.status, 0) << given.err;
  std::string id = given.out.substr(0, 36);
  Outcome hidden = ams({"locator", "content-keys", id});
  ASSERT_EQ(hidden.status, 0) << hidden.err;
  EXPECT_EQ(hidden.out, R"json({
  "contentKeys": [
    {
      "id": "9259eb06-eeee-4f77-987f-48f4ea5c649f",
      "type": "EnvelopeEncryption",
      "labelReferenceInStreamingPolicy": "",
      "policyName": "",
      "tracks": []
    }
  ]
}
)json");
  Outcome shown = ams({"locator", "content-keys", id, "--with-secrets"});
  ASSERT_EQ(shown.status, 0) << shown.err;
  EXPECT_TRUE(contains(shown.out,
                       "\"labelReferenceInStreamingPolicy\": \"\",\n"
                       "      \"value\": \"QpiqeQROdN5xamnfUF2Wdw==\",\n"))
      << shown.out;

  // Generated keys: one per scheme, values only with --with-secrets.
  Outcome multi =
      ams({"locator", "create", "--asset", "ignite", "--policy", "Predefined_MultiDrmStreaming"});
  ASSERT_EQ(multi.status, 0) << multi.err;
  std::string multi_id = multi.out.substr(0, 36);
  Outcome generated = ams({"locator", "content-keys", multi_id});
  ASSERT_EQ(generated.status, 0) << generated.err;
  EXPECT_TRUE(contains(generated.out, "\"type\": \"CommonEncryptionCenc\"")) << generated.out;
  EXPECT_TRUE(contains(generated.out, "\"type\": \"CommonEncryptionCbcs\"")) << generated.out;
  EXPECT_FALSE(contains(generated.out, "\"value\"")) << generated.out;
  std::string secrets = ams({"locator", "content-keys", multi_id, "--with-secrets"}).out;
  std::regex value("\"value\": \"[A-Za-z0-9+/]{22}==\"");
  EXPECT_EQ(std::distance(std::sregex_iterator(secrets.begin(), secrets.end(), value),
                          std::sregex_iterator()),
            2)
      << secrets;
  Outcome clear =
      ams({"locator", "create", "--asset", "ignite", "--policy", "Predefined_ClearStreamingOnly"});
  ASSERT_EQ(clear.status, 0) << clear.err;
  EXPECT_EQ(ams({"locator", "content-keys", clear.out.substr(0, 36)}).out,
            "{\n  \"contentKeys\": []\n}\n");

  // Errors: 1 for what the store refuses, 2 for bad usage; stderr never shows a key.
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string message;
  };
  const std::string policy = "Predefined_ClearKey";
  const Case cases[] = {
      {{"locator", "content-keys"}, 2, "missing arguments"},
      {{"locator", "content-keys", "00000000-0000-4000-8000-000000000000"}, 1, "does not exist"},
      {{"locator", "create", "--asset", "ignite", "--policy", policy, "--content-key",
        "EnvelopeEncryption:06bfeff1-2bb6-4f58-af27-a2767f058bca"},
       2,
       "TYPE:GUID:VALUE"},
      {{"locator", "create", "--asset", "ignite", "--policy", policy, "--content-key",
        "EnvelopeEncryption:06bfeff1-2bb6-4f58-af27-a2767f058bca:Zm9v!!"},
       2,
       "base64"},
      {{"locator", "create", "--asset", "ignite", "--policy", policy, "--content-key",
        "EnvelopeEncryption:06bfeff1-2bb6-4f58-af27-a2767f058bca:U0VDUkVUU0VDUkVU"},
       1,
       "12 bytes, not 16"},
      {{"locator", "create", "--asset", "ignite", "--policy", policy, "--content-key",
        "CommonEncryptionCbcs:06bfeff1-2bb6-4f58-af27-a2767f058bca:QpiqeQROdN5xamnfUF2Wdw=="},
       1,
       "uses no CommonEncryptionCbcs keys"},
      {{"locator", "create", "--asset", "ignite", "--policy", policy, "--content-key",
        "EnvelopeEncryption:9259eb06-eeee-4f77-987f-48f4ea5c649f:QpiqeQROdN5xamnfUF2Wdw=="},
       1,
       "9259eb06-eeee-4f77-987f-48f4ea5c649f"},
  };
  for (const Case& c : cases) {
    Outcome run = ams(c.args);
    std::string line;
    for (const std::string& a : c.args) line += a + " ";
    EXPECT_EQ(run.status, c.status) << line << "\n" << run.err;
    EXPECT_TRUE(contains(run.err, c.message)) << line << "\n" << run.err;
    EXPECT_FALSE(contains(run.err, "QpiqeQROdN5xamnfUF2Wdw==")) << run.err;
    EXPECT_FALSE(contains(run.err, "U0VDUkVU")) << run.err;
    EXPECT_TRUE(run.out.empty()) << line << run.out;
  }
  std::string listed = ams({"locator", "list"}).out;
  EXPECT_EQ(std::count(listed.begin(), listed.end(), '\n'), 3) << listed;  // none was made
}

TEST_F(StoreCliTest, ContentKeyPoliciesFromFlagsAndJson) {
  ASSERT_EQ(ams({"asset", "create", "ignite", "--path", "media"}).status, 0);
  const std::string key = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=";  // 32 bytes
  std::ofstream(dir_ / "key.txt") << key << "\n";
  // The key from a file (@FILE), a required claim with a value and one without.
  Outcome made = ams({"content-key-policy", "create", "tokens", "--token-hs256", "@key.txt",
                      "--issuer", "urn:issuer", "--audience", "urn:audience", "--require-key-id",
                      "--require-claim", "tier=gold", "--description", "by flags"});
  ASSERT_EQ(made.status, 0) << made.err;
  EXPECT_TRUE(contains(made.out, "\"keyValue\": \"\"")) << made.out;
  EXPECT_FALSE(contains(made.out, key)) << made.out;
  Outcome shown = ams({"content-key-policy", "show", "TOKENS"});
  EXPECT_FALSE(contains(shown.out, key)) << shown.out;
  EXPECT_TRUE(
      contains(shown.out, "\"claimType\": \"tier\",\n              \"claimValue\": \"gold\""))
      << shown.out;
  Outcome secrets = ams({"content-key-policy", "show", "tokens", "--with-secrets"});
  ASSERT_EQ(secrets.status, 0) << secrets.err;
  EXPECT_TRUE(contains(secrets.out, "\"keyValue\": \"" + key + "\"")) << secrets.out;
  // `show --with-secrets` is a valid --json: the same options again.
  std::ofstream(dir_ / "p.json") << secrets.out;
  ASSERT_EQ(ams({"content-key-policy", "create", "copy", "--json", "p.json"}).status, 0);
  Outcome copy = ams({"content-key-policy", "show", "copy", "--with-secrets"});
  EXPECT_EQ(copy.out.substr(copy.out.find("\"options\"")),
            secrets.out.substr(secrets.out.find("\"options\"")));
  ASSERT_EQ(ams({"content-key-policy", "create", "anyone", "--open"}).status, 0);
  Outcome listed = ams({"content-key-policy", "list"});
  EXPECT_TRUE(std::regex_search(
      listed.out, std::regex("^anyone\t[0-9a-f-]{36}\tClearKey:open\t[^\t]+\t\n"
                             "copy\t[^\n]*\ntokens\t[0-9a-f-]{36}\tClearKey:token\t[^\t]+\tby "
                             "flags\n$")))
      << listed.out;

  // A locator's keys take its policy; the policy cannot go while the locator is there.
  Outcome locator = ams({"locator", "create", "--asset", "ignite", "--policy",
                         "Predefined_ClearKey", "--content-key-policy", "Tokens"});
  ASSERT_EQ(locator.status, 0) << locator.err;
  const std::string id = locator.out.substr(0, 36);
  EXPECT_TRUE(contains(ams({"locator", "content-keys", id}).out, "\"policyName\": \"tokens\""));
  Outcome in_use = ams({"content-key-policy", "delete", "tokens"});
  EXPECT_EQ(in_use.status, 1);
  EXPECT_TRUE(contains(in_use.err, "is used by 1 streaming locator(s) (" + id)) << in_use.err;
  ASSERT_EQ(ams({"locator", "delete", id}).status, 0);
  EXPECT_EQ(ams({"content-key-policy", "delete", "tokens"}).status, 0);

  struct Case {
    std::vector<std::string> args;
    int status;
    std::string message;
  };
  const Case cases[] = {
      {{"content-key-policy", "create", "p"}, 2, "give the policy"},
      {{"content-key-policy", "create", "p", "--open", "--token-hs256", key}, 2, "give --open"},
      {{"content-key-policy", "create", "p", "--token-hs256", key}, 2, "--issuer and --audience"},
      {{"content-key-policy", "create", "p", "--open", "--require-key-id"}, 2, "no token options"},
      {{"content-key-policy", "create", "p", "--json", "p.json", "--open"},
       2,
       "exclude each other"},
      {{"content-key-policy", "create", "p", "--token-hs256", "c2hvcnQ=", "--issuer", "i",
        "--audience", "a"},
       1,
       "5 bytes: at least 16"},
      {{"content-key-policy", "create", "p", "--token-rs256-pem", "key.txt", "--issuer", "i",
        "--audience", "a"},
       1,
       "not a PEM public key"},
      {{"content-key-policy", "show", "nope"}, 1, "does not exist"},
      {{"locator", "create", "--asset", "ignite", "--policy", "Predefined_ClearKey",
        "--content-key-policy", "nope"},
       1,
       "content key policy 'nope' does not exist"},
      {{"locator", "create", "--asset", "ignite", "--policy", "Predefined_ClearStreamingOnly",
        "--content-key-policy", "anyone"},
       1,
       "encrypts nothing"},
  };
  for (const Case& c : cases) {
    Outcome run = ams(c.args);
    std::string line;
    for (const std::string& a : c.args) line += a + " ";
    EXPECT_EQ(run.status, c.status) << line << "\n" << run.err;
    EXPECT_TRUE(contains(run.err, c.message)) << line << "\n" << run.err;
    EXPECT_FALSE(contains(run.err, key)) << run.err;
  }
}

TEST_F(StoreCliTest, DefaultDatabaseComesFromAmsDbAndItsFolderIsMade) {
  fs::path db = dir_ / "deep" / "er" / "ams.db";
  gchar** env = g_environ_setenv(g_get_environ(), "AMS_DB", db.c_str(), TRUE);
  Outcome created = ams({"asset", "create", "ignite", "--path", "media"}, false, env);
  EXPECT_EQ(created.status, 0) << created.err;
  EXPECT_TRUE(fs::exists(db));
  EXPECT_TRUE(contains(ams({"asset", "list"}, false, env).out, "ignite\t"));
  EXPECT_EQ(ams({"asset", "list"}).out, "");  // --db names another database
  g_strfreev(env);
}

}  // namespace
