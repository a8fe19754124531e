// ams account-filter|asset-filter create|show|list|delete: dynamic filters (docs/filters.md), kept
// in the store as AMS keeps them. A locator names them for all its requests (`ams locator create
// --filters`), a URL for its own (`filter=a;b`); `ams serve` applies them.
//
// `create` takes the AMS JSON (--json) or builds it from flags, and hands the text to the store,
// whose filter parser (gst/core/filter) is the one judge of what a filter may say: the flags are
// only checked for their own syntax here.

#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "base/json.h"
#include "commands.h"
#include "filter/filter.h"
#include "store_cli.h"

namespace ams::tools {
namespace {

// Which filters a command works on: the account's, or those of the asset --asset names.
enum class Scope { kAccount, kAsset };

constexpr int64_t kDefaultTimescale = 10000000;  // AMS's PresentationTimeRange default
constexpr int64_t kUnbounded = INT64_MAX;        // what to_json writes for an absent end/window

// The options every filter command takes: --db, and --asset for an asset's filters.
struct Common {
  OptionString db;
  OptionString asset;
  Scope scope;

  explicit Common(Scope s) : scope(s) {}
  std::vector<GOptionEntry> entries() {
    std::vector<GOptionEntry> e{db_option(&db.value)};
    if (scope == Scope::kAsset) {
      e.push_back({"asset", 'a', 0, G_OPTION_ARG_STRING, &asset.value, "The asset", "NAME"});
    }
    return e;
  }
  // Parses argv; nullopt to go on, with argv[1..positional] left.
  std::optional<int> parse(int& argc, char**& argv, std::vector<GOptionEntry> entries,
                           const std::string& parameter, const char* summary, int positional) {
    entries.push_back({nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr});
    std::string usage = parameter + (scope == Scope::kAsset ? " --asset NAME" : "");
    if (auto done = parse_command(argc, argv, entries.data(), usage.c_str(), summary, positional)) {
      return done;
    }
    if (scope == Scope::kAsset && !asset) return usage_error("--asset is required");
    return std::nullopt;
  }
  // The store's key: the asset's name, "" for account filters.
  std::string owner() const { return scope == Scope::kAsset ? asset.value : ""; }
};

Result<int64_t> parse_integer(const char* option, const char* text, int64_t min, int64_t max,
                              const char* what) {
  gint64 value = 0;
  if (!g_ascii_string_to_signed(text, 10, min, max, &value, nullptr)) {
    return invalid_argument(std::string(option) + ": '" + text + "' is not " + what);
  }
  return static_cast<int64_t>(value);
}

// "10", "10.5", ".25" seconds in ticks of `timescale`, exactly (decimal arithmetic, the last
// tick rounded half up).
Result<int64_t> parse_seconds(const char* option, const std::string& text, int64_t timescale) {
  auto refuse = [&](const char* why) {
    return invalid_argument(std::string(option) + ": '" + text + "' " + why);
  };
  size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return s.find_first_not_of("0123456789") == std::string::npos;
  };
  if ((whole.empty() && fraction.empty()) || !digits(whole) || !digits(fraction)) {
    return refuse("is not a number of seconds (such as 10 or 10.5)");
  }
  if (fraction.size() > 9) return refuse("has more than 9 decimals");
  int64_t ticks = 0;
  for (char c : whole) {
    if (__builtin_mul_overflow(ticks, int64_t{10}, &ticks) ||
        __builtin_add_overflow(ticks, int64_t{c - '0'}, &ticks)) {
      return refuse("is too long");
    }
  }
  if (__builtin_mul_overflow(ticks, timescale, &ticks)) return refuse("is too long");
  int64_t numerator = 0;
  int64_t denominator = 1;
  for (char c : fraction) {
    numerator = numerator * 10 + (c - '0');
    denominator *= 10;
  }
  int64_t part = 0;
  if (__builtin_mul_overflow(numerator, timescale, &part)) return refuse("is too precise");
  part = (part + denominator / 2) / denominator;
  if (__builtin_add_overflow(ticks, part, &ticks)) return refuse("is too long");
  return ticks;
}

std::string trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") + 1 - begin);
}

// One --track: `Property=Value` or `Property!=Value` conditions, separated by ';'.
Status write_selection(JsonWriter& w, const std::string& text) {
  static constexpr filter::Property kProperties[] = {
      filter::Property::kType, filter::Property::kName, filter::Property::kLanguage,
      filter::Property::kFourCC, filter::Property::kBitrate};
  auto refuse = [&](const std::string& why) {
    return invalid_argument("--track '" + text + "': " + why);
  };
  w.begin_object().key("trackSelections").begin_array();
  gchar** parts = g_strsplit(text.c_str(), ";", -1);
  std::vector<std::string> conditions;
  for (gchar** p = parts; *p != nullptr; ++p) {
    std::string condition = trim(*p);
    if (!condition.empty()) conditions.push_back(condition);
  }
  g_strfreev(parts);
  if (conditions.empty()) return refuse("no condition (Property=Value or Property!=Value)");
  for (const std::string& condition : conditions) {
    size_t equals = condition.find('=');
    bool not_equal = equals != std::string::npos && equals > 0 && condition[equals - 1] == '!';
    std::string property = trim(condition.substr(0, not_equal ? equals - 1 : equals));
    std::string value = equals == std::string::npos ? "" : trim(condition.substr(equals + 1));
    if (equals == std::string::npos || property.empty() || value.empty()) {
      return refuse("'" + condition + "' is not Property=Value or Property!=Value");
    }
    const char* known = nullptr;
    for (filter::Property p : kProperties) {
      if (g_ascii_strcasecmp(property.c_str(), filter::property_name(p)) == 0) {
        known = filter::property_name(p);
      }
    }
    if (known == nullptr) {
      return refuse("unknown property '" + property +
                    "' (Type, Name, Language, FourCC or Bitrate)");
    }
    w.begin_object();
    w.key("property").value(known);
    w.key("operation")
        .value(filter::operation_name(not_equal ? filter::Operation::kNotEqual
                                                : filter::Operation::kEqual));
    w.key("value").value(value);
    w.end_object();
  }
  w.end_array().end_object();
  return Status::ok();
}

struct Flags {
  OptionString start, end, timescale, first_quality;
  OptionStrings tracks;

  bool any() const { return start || end || timescale || tracks || first_quality; }
};

// The AMS JSON the flags describe; kInvalidArgument (a usage error) for a malformed flag.
Result<std::string> json_of(const Flags& f) {
  JsonWriter w(/*pretty=*/false);
  w.begin_object().key("properties").begin_object();
  if (f.start || f.end || f.timescale) {
    int64_t timescale = kDefaultTimescale;
    if (f.timescale) {
      AMS_ASSIGN_OR_RETURN(timescale, parse_integer("--timescale", f.timescale.value, 1, INT64_MAX,
                                                    "a positive integer"));
    }
    w.key("presentationTimeRange").begin_object();
    if (f.start) {
      AMS_ASSIGN_OR_RETURN(int64_t start, parse_seconds("--start", f.start.value, timescale));
      w.key("startTimestamp").value(start);
    }
    if (f.end) {
      AMS_ASSIGN_OR_RETURN(int64_t end, parse_seconds("--end", f.end.value, timescale));
      w.key("endTimestamp").value(end);
    }
    w.key("timescale").value(timescale);
    w.end_object();
  }
  if (f.first_quality) {
    AMS_ASSIGN_OR_RETURN(int64_t bitrate, parse_integer("--first-quality", f.first_quality.value, 1,
                                                        UINT32_MAX, "a bitrate in bits/s"));
    w.key("firstQuality").begin_object().key("bitrate").value(bitrate).end_object();
  }
  if (f.tracks) {
    w.key("tracks").begin_array();
    for (gchar** t = f.tracks.value; *t != nullptr; ++t) {
      AMS_RETURN_IF_ERROR(write_selection(w, *t));
    }
    w.end_array();
  }
  w.end_object().end_object();
  return w.str();
}

// `ticks` of `timescale` in seconds, as --start takes them ("10.5"; at most 7 decimals).
std::string seconds(int64_t ticks, int64_t timescale) {
  std::string out = std::to_string(ticks / timescale);
  int64_t rest = ticks % timescale;
  std::string decimals;
  for (int i = 0; i < 7 && rest != 0 && rest <= INT64_MAX / 10; ++i) {
    rest *= 10;
    decimals += static_cast<char>('0' + rest / timescale);
    rest %= timescale;
  }
  while (!decimals.empty() && decimals.back() == '0') decimals.pop_back();
  return decimals.empty() ? out : out + "." + decimals;
}

// One line for `list`, in the words of create's flags: "start=10s end=20.5s
// track=Type=video;Bitrate=0-1500000 first-quality=1500000"; "all" for a filter that keeps
// everything.
std::string summary(const store::FilterRecord& record) {
  Result<filter::Filter> parsed = filter::parse(record.properties);
  if (!parsed.is_ok()) return "(unreadable: " + parsed.status().message() + ")";
  const filter::Filter& f = *parsed;
  std::vector<std::string> parts;
  if (f.range) {
    const filter::TimeRange& r = *f.range;
    auto time = [&](const char* name, const std::optional<int64_t>& ticks, int64_t absent) {
      if (ticks && *ticks != absent) parts.push_back(name + seconds(*ticks, r.timescale) + "s");
    };
    time("start=", r.start, 0);
    time("end=", r.end, kUnbounded);
    time("window=", r.presentation_window, kUnbounded);
    time("backoff=", r.live_backoff, 0);
    if (r.force_end) parts.push_back("force-end");
  }
  for (const filter::TrackSelection& s : f.tracks) {
    std::string track = "track=";
    for (size_t i = 0; i < s.conditions.size(); ++i) {
      const filter::Condition& c = s.conditions[i];
      if (i > 0) track += ';';
      track += filter::property_name(c.property);
      track += c.operation == filter::Operation::kEqual ? "=" : "!=";
      track += c.value;
    }
    parts.push_back(track);
  }
  if (f.first_quality) parts.push_back("first-quality=" + std::to_string(*f.first_quality));
  if (parts.empty()) return "all";
  std::string line;
  for (const std::string& part : parts) line += (line.empty() ? "" : " ") + part;
  return line;
}

int create(int argc, char** argv, Scope scope) {
  Common common(scope);
  OptionString json;
  Flags flags;
  std::vector<GOptionEntry> entries = common.entries();
  entries.insert(
      entries.end(),
      {
          {"json", 0, 0, G_OPTION_ARG_FILENAME, &json.value,
           "The filter as AMS JSON, {\"properties\": {...}} or the properties object ('-': "
           "standard input)",
           "FILE"},
          {"start", 0, 0, G_OPTION_ARG_STRING, &flags.start.value, "Where the presentation starts",
           "SECONDS"},
          {"end", 0, 0, G_OPTION_ARG_STRING, &flags.end.value, "Where the presentation ends",
           "SECONDS"},
          {"timescale", 0, 0, G_OPTION_ARG_STRING, &flags.timescale.value,
           "The ticks per second the time range is stored in (default 10000000)", "N"},
          {"track", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.tracks.value,
           "Keep the tracks meeting every condition, Property=Value or Property!=Value separated "
           "by ';' (Type, Name, Language, FourCC, Bitrate), e.g. 'Type=video;Bitrate=0-1500000'; "
           "repeated, a track any of them selects is kept",
           "SELECTION"},
          {"first-quality", 0, 0, G_OPTION_ARG_STRING, &flags.first_quality.value,
           "The bitrate of the video rendition HLS master playlists list first", "BITRATE"},
      });
  if (auto done = common.parse(argc, argv, entries, "NAME [--json FILE | FLAGS]",
                               "Creates a filter, or replaces the filter of that name (AMS's "
                               "createOrUpdate), from --json or from the flags; prints it as "
                               "JSON. --start and --end are seconds from the start of the "
                               "asset's timeline (10.5), stored in ticks of --timescale.",
                               1)) {
    return *done;
  }
  if (json && flags.any()) {
    return usage_error("--json and the flags that build a filter exclude each other");
  }
  if (!json && !flags.any()) {
    return usage_error(
        "give the filter: --json FILE, or --start, --end, --timescale, --track, "
        "--first-quality");
  }
  std::string text;
  if (json) {
    AMS_ASSIGN_OR_RETURN_EXIT(text, read_input(json.value));
  } else {
    Result<std::string> built = json_of(flags);
    if (!built.is_ok()) return usage_error(built.status().message());
    text = *built;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(common.db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(store::FilterRecord stored,
                            store->put_filter(common.owner(), argv[1], text));
  std::fputs(store::filter_json(stored).c_str(), stdout);
  return 0;
}

int show(int argc, char** argv, Scope scope) {
  Common common(scope);
  if (auto done = common.parse(argc, argv, common.entries(), "NAME",
                               "Prints a filter as the AMS REST API does (JSON).", 1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(common.db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(store::FilterRecord filter, store->get_filter(common.owner(), argv[1]));
  std::fputs(store::filter_json(filter).c_str(), stdout);
  return 0;
}

int list(int argc, char** argv, Scope scope) {
  Common common(scope);
  if (auto done = common.parse(argc, argv, common.entries(), "",
                               "Lists the filters by name: name and a summary in the words of "
                               "create's flags (start=10s end=20.5s track=Type=video "
                               "first-quality=1500000; all: keeps everything), tab-separated.",
                               0)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(common.db.value));
  AMS_ASSIGN_OR_RETURN_EXIT(std::vector<store::FilterRecord> filters,
                            store->list_filters(common.owner()));
  for (const store::FilterRecord& f : filters) {
    std::printf("%s\t%s\n", f.name.c_str(), summary(f).c_str());
  }
  return 0;
}

int remove(int argc, char** argv, Scope scope) {
  Common common(scope);
  if (auto done = common.parse(argc, argv, common.entries(), "NAME",
                               "Deletes a filter. Locators that name it stay; their requests "
                               "fail (404) until a filter of that name exists again.",
                               1)) {
    return *done;
  }
  AMS_ASSIGN_OR_RETURN_EXIT(std::unique_ptr<store::Store> store, open_store(common.db.value));
  Status status = store->delete_filter(common.owner(), argv[1]);
  return status ? 0 : fail(status);
}

constexpr char kCreateUsage[] =
    "NAME [--json FILE | [--start SECONDS] [--end SECONDS] [--timescale N] "
    "[--track SELECTION]... [--first-quality BITRATE]]";

constexpr SubCommand kAccountCommands[] = {
    {"create", kCreateUsage, [](int c, char** v) { return create(c, v, Scope::kAccount); }},
    {"show", "NAME", [](int c, char** v) { return show(c, v, Scope::kAccount); }},
    {"list", "", [](int c, char** v) { return list(c, v, Scope::kAccount); }},
    {"delete", "NAME", [](int c, char** v) { return remove(c, v, Scope::kAccount); }},
};

constexpr char kAssetCreateUsage[] =
    "NAME --asset NAME [--json FILE | [--start SECONDS] [--end SECONDS] [--timescale N] "
    "[--track SELECTION]... [--first-quality BITRATE]]";

constexpr SubCommand kAssetCommands[] = {
    {"create", kAssetCreateUsage, [](int c, char** v) { return create(c, v, Scope::kAsset); }},
    {"show", "NAME --asset NAME", [](int c, char** v) { return show(c, v, Scope::kAsset); }},
    {"list", "--asset NAME", [](int c, char** v) { return list(c, v, Scope::kAsset); }},
    {"delete", "NAME --asset NAME", [](int c, char** v) { return remove(c, v, Scope::kAsset); }},
};

}  // namespace

int account_filter_main(int argc, char** argv) {
  return dispatch(kAccountCommands, std::size(kAccountCommands), argc, argv);
}

int asset_filter_main(int argc, char** argv) {
  return dispatch(kAssetCommands, std::size(kAssetCommands), argc, argv);
}

}  // namespace ams::tools
