#include "smil/ism.h"

#include "base/xml.h"

#include <glib.h>

#include <array>
#include <memory>
#include <unordered_set>

#include "base/path.h"

namespace ams::smil {
namespace {

constexpr std::string_view kSmilNamespace = "http://www.w3.org/2001/SMIL20/Language";
// Deeper than any real .ism (5); bounds the work on a hostile one.
constexpr size_t kMaxDepth = 64;

// The params that IsmTrack carries in fields, in the order the AMS encoder writes them.
enum KnownParam { kSystemBitrate, kTrackId, kTrackName, kSystemLanguage, kAccessibility, kRole };
constexpr std::array<const char*, 6> kKnownParams = {"systemBitrate",  "trackID",       "trackName",
                                                     "systemLanguage", "accessibility", "role"};

enum KnownMeta { kClientManifest, kFormats, kFragmentsPerHls };
constexpr std::array<const char*, 3> kKnownMetas = {"clientManifestRelativePath", "formats",
                                                    "fragmentsPerHLSSegment"};

// Names match case-insensitively (hand-written files vary); -1 when `name` is not in `table`.
template <size_t N>
int index_of(const std::array<const char*, N>& table, const char* name) {
  for (size_t i = 0; i < N; ++i) {
    if (g_ascii_strcasecmp(table[i], name) == 0) return static_cast<int>(i);
  }
  return -1;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return std::nullopt;
  s = s.substr(first, s.find_last_not_of(kSpace) - first + 1);
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > UINT32_MAX) return std::nullopt;
  }
  return static_cast<uint32_t>(v);
}

// An unsafe path in the .ism is bad data in the .ism, whatever check_relative_path calls it.
Status check_src(std::string_view path, const std::string& where) {
  Status s = check_relative_path(path);
  if (s.is_ok()) return s;
  return invalid_data(where + ": " + s.message());
}

const char* find_attribute(const gchar** names, const gchar** values, const char* wanted) {
  for (size_t i = 0; names[i] != nullptr; ++i) {
    if (g_strcmp0(names[i], wanted) == 0) return values[i];
  }
  return nullptr;
}

// GMarkup keeps the first of two equal attributes; XML forbids them, and a reader that kept the
// last would see another file.
const char* duplicate_attribute(const gchar** names) {
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; names[i] != nullptr; ++i) {
    if (!seen.insert(names[i]).second) return names[i];
  }
  return nullptr;
}

bool is_track_element(std::string_view name) {
  return name == "video" || name == "audio" || name == "textstream";
}

// What an open element means to the parser.
enum class Scope { kSmil, kHead, kBody, kSwitch, kTrack, kIgnored };

// A track while its element is open: the attributes, and the known params until they are merged.
struct OpenTrack {
  IsmTrack track;
  std::string element;
  bool has_src = false;
  std::optional<std::string> bitrate_attribute;
  std::array<std::optional<std::string>, kKnownParams.size()> known;
};

struct Parser {
  Ism ism;
  Status status;  // why parsing stopped, when this parser stopped it
  std::vector<Scope> scopes;
  bool seen_root = false;
  std::array<bool, kKnownMetas.size()> seen_meta{};
  OpenTrack open;

  std::string track_label() const {
    return "track " + std::to_string(ism.tracks.size() + 1) + " <" + open.element + ">";
  }

  Status start(std::string_view name, const gchar** names, const gchar** values);
  Status end();
  Status meta(const gchar** names, const gchar** values);
  Status param(const gchar** names, const gchar** values);
  Status finish_track();
};

Status Parser::start(std::string_view name, const gchar** names, const gchar** values) {
  if (scopes.size() >= kMaxDepth) {
    return resource_limit("elements nested deeper than " + std::to_string(kMaxDepth));
  }
  std::string element(name);
  if (const char* dup = duplicate_attribute(names)) {
    return invalid_data("<" + element + "> has two " + dup + " attributes");
  }
  if (scopes.empty()) {
    if (seen_root) return invalid_data("a second root element <" + element + ">");
    if (name != "smil") return invalid_data("the root element is <" + element + ">, not <smil>");
    seen_root = true;
    scopes.push_back(Scope::kSmil);
    return Status::ok();
  }
  Scope parent = scopes.back();
  Scope scope = Scope::kIgnored;
  if (is_track_element(name) && parent != Scope::kSwitch) {
    return invalid_data("<" + element + "> is not inside <smil><body><switch>");
  }
  switch (parent) {
    case Scope::kSmil:
      if (name == "head") scope = Scope::kHead;
      if (name == "body") scope = Scope::kBody;
      break;
    case Scope::kHead:
      if (name == "meta") AMS_RETURN_IF_ERROR(meta(names, values));
      break;
    case Scope::kBody:
      if (name == "switch") scope = Scope::kSwitch;
      break;
    case Scope::kSwitch: {
      if (!is_track_element(name)) {
        return unsupported("<switch> child <" + element + "> is not supported");
      }
      if (ism.tracks.size() >= kMaxIsmTracks) {
        return resource_limit("more than " + std::to_string(kMaxIsmTracks) + " tracks");
      }
      open = OpenTrack();
      open.element = element;
      open.track.kind = name == "video"   ? IsmTrackKind::kVideo
                        : name == "audio" ? IsmTrackKind::kAudio
                                          : IsmTrackKind::kText;
      if (const char* src = find_attribute(names, values, "src")) {
        open.has_src = true;
        open.track.src = src;
      }
      if (const char* bitrate = find_attribute(names, values, "systemBitrate")) {
        open.bitrate_attribute = bitrate;
      }
      if (const char* lang = find_attribute(names, values, "systemLanguage")) {
        open.track.system_language = lang;
      }
      scope = Scope::kTrack;
      break;
    }
    case Scope::kTrack:
      if (name == "param") AMS_RETURN_IF_ERROR(param(names, values));
      break;
    case Scope::kIgnored:
      break;
  }
  scopes.push_back(scope);
  return Status::ok();
}

Status Parser::end() {
  Scope scope = scopes.back();
  scopes.pop_back();
  if (scope == Scope::kTrack) return finish_track();
  return Status::ok();
}

Status Parser::meta(const gchar** names, const gchar** values) {
  const char* name = find_attribute(names, values, "name");
  if (name == nullptr) return Status::ok();
  int which = index_of(kKnownMetas, name);
  if (which < 0) return Status::ok();  // AMS ignores metas it does not know, so do we
  if (seen_meta[which]) return invalid_data(std::string("meta ") + name + " given twice");
  seen_meta[which] = true;
  const char* found = find_attribute(names, values, "content");
  std::string content = found ? found : "";
  switch (which) {
    case kClientManifest:
      if (!content.empty()) {
        AMS_RETURN_IF_ERROR(check_src(content, "meta " + std::string(name)));
      }
      ism.client_manifest_relative_path = content;
      break;
    case kFormats:
      ism.formats = content;
      break;
    case kFragmentsPerHls: {
      std::optional<uint32_t> n = parse_u32(content);
      if (!n || *n < 1 || *n > 100) {
        return invalid_data(std::string("meta ") + name + " \"" + content +
                            "\" is not an integer from 1 to 100");
      }
      ism.fragments_per_hls_segment = n;
      break;
    }
  }
  return Status::ok();
}

Status Parser::param(const gchar** names, const gchar** values) {
  const char* name = find_attribute(names, values, "name");
  if (name == nullptr || *name == '\0')
    return invalid_data(track_label() + ": <param> without a name");
  const char* found = find_attribute(names, values, "value");
  std::string value = found ? found : "";
  int which = index_of(kKnownParams, name);
  if (which >= 0) {
    if (open.known[which]) {
      return invalid_data(track_label() + ": param " + kKnownParams[which] + " given twice");
    }
    open.known[which] = std::move(value);
    return Status::ok();
  }
  if (open.track.params.size() >= kMaxIsmParamsPerTrack) {
    return resource_limit(track_label() + ": more than " + std::to_string(kMaxIsmParamsPerTrack) +
                          " params");
  }
  open.track.params.emplace_back(name, std::move(value));
  return Status::ok();
}

Status Parser::finish_track() {
  IsmTrack& t = open.track;
  std::string label = track_label();
  if (!open.has_src) return invalid_data(label + " has no src");
  AMS_RETURN_IF_ERROR(check_src(t.src, label + " src"));

  // The attributes are what SMIL readers see; the params fill in what they lack.
  const std::optional<std::string>& bitrate_param = open.known[kSystemBitrate];
  if (bitrate_param && !parse_u32(*bitrate_param)) {
    return invalid_data(label + ": param systemBitrate \"" + *bitrate_param + "\" is not a number");
  }
  if (open.bitrate_attribute) {
    std::optional<uint32_t> v = parse_u32(*open.bitrate_attribute);
    if (!v) {
      return invalid_data(label + ": systemBitrate \"" + *open.bitrate_attribute +
                          "\" is not a number");
    }
    t.system_bitrate = *v;
  } else if (bitrate_param) {
    t.system_bitrate = *parse_u32(*bitrate_param);
  }
  if (t.system_language.empty() && open.known[kSystemLanguage]) {
    t.system_language = *open.known[kSystemLanguage];
  }
  if (const std::optional<std::string>& id = open.known[kTrackId]) {
    t.track_id = parse_u32(*id);
    if (!t.track_id) return invalid_data(label + ": param trackID \"" + *id + "\" is not a number");
  }
  if (open.known[kTrackName]) t.track_name = *open.known[kTrackName];
  if (open.known[kAccessibility]) t.accessibility = *open.known[kAccessibility];
  if (open.known[kRole]) t.role = *open.known[kRole];
  ism.tracks.push_back(std::move(t));
  return Status::ok();
}

// GMarkup callbacks: a failure is kept in the Parser and GMarkup is told to stop.
void on_start(GMarkupParseContext*, const gchar* name, const gchar** names, const gchar** values,
              gpointer data, GError** error) {
  auto* p = static_cast<Parser*>(data);
  p->status = p->start(name, names, values);
  if (!p->status.is_ok()) {
    g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "stopped");
  }
}

void on_end(GMarkupParseContext*, const gchar*, gpointer data, GError** error) {
  auto* p = static_cast<Parser*>(data);
  p->status = p->end();
  if (!p->status.is_ok()) {
    g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT, "stopped");
  }
}

struct ContextDeleter {
  void operator()(GMarkupParseContext* c) const { g_markup_parse_context_free(c); }
};
struct ErrorDeleter {
  void operator()(GError* e) const { g_error_free(e); }
};
struct GFreeDeleter {
  void operator()(gchar* p) const { g_free(p); }
};

// UTF-16 with a byte order mark becomes UTF-8; a UTF-8 byte order mark is dropped.
Status to_utf8(std::string_view& xml, std::unique_ptr<gchar, GFreeDeleter>& storage) {
  auto starts = [&](std::string_view prefix) { return xml.substr(0, prefix.size()) == prefix; };
  if (starts("\xEF\xBB\xBF")) {
    xml.remove_prefix(3);
    return Status::ok();
  }
  const char* from = starts("\xFF\xFE") ? "UTF-16LE" : starts("\xFE\xFF") ? "UTF-16BE" : nullptr;
  if (from == nullptr) return Status::ok();
  gsize written = 0;
  GError* raw_error = nullptr;
  storage.reset(g_convert(xml.data() + 2, static_cast<gssize>(xml.size() - 2), "UTF-8", from,
                          nullptr, &written, &raw_error));
  std::unique_ptr<GError, ErrorDeleter> error(raw_error);
  if (!storage) {
    return invalid_data(std::string("not valid ") + from + ": " +
                        (error ? error->message : "conversion failed"));
  }
  xml = std::string_view(storage.get(), written);
  return Status::ok();
}

void append_attribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += "=\"";
  append_xml_escaped(out, value);
  out += '"';
}

void append_meta(std::string& out, std::string_view name, std::string_view content) {
  out += "    <meta";
  append_attribute(out, "name", name);
  append_attribute(out, "content", content);
  out += " />\n";
}

void append_param(std::string& out, std::string_view name, std::string_view value) {
  out += "        <param";
  append_attribute(out, "name", name);
  append_attribute(out, "value", value);
  out += " valuetype=\"data\" />\n";
}

}  // namespace

const char* ism_track_kind_element(IsmTrackKind kind) {
  switch (kind) {
    case IsmTrackKind::kVideo:
      return "video";
    case IsmTrackKind::kAudio:
      return "audio";
    case IsmTrackKind::kText:
      return "textstream";
  }
  return "video";
}

Result<Ism> parse_ism(std::string_view xml) {
  if (xml.size() > kMaxIsmBytes) {
    return resource_limit(".ism is " + std::to_string(xml.size()) + " bytes, more than " +
                          std::to_string(kMaxIsmBytes));
  }
  std::unique_ptr<gchar, GFreeDeleter> converted;
  AMS_RETURN_IF_ERROR(to_utf8(xml, converted));
  if (xml.find('\0') != std::string_view::npos) return invalid_data(".ism contains a NUL byte");
  if (xml.empty()) return invalid_data(".ism is empty");

  static const GMarkupParser kCallbacks = {on_start, on_end, nullptr, nullptr, nullptr};
  Parser parser;
  std::unique_ptr<GMarkupParseContext, ContextDeleter> context(
      g_markup_parse_context_new(&kCallbacks, static_cast<GMarkupParseFlags>(0), &parser, nullptr));
  GError* raw_error = nullptr;
  bool ok = g_markup_parse_context_parse(context.get(), xml.data(), static_cast<gssize>(xml.size()),
                                         &raw_error) &&
            g_markup_parse_context_end_parse(context.get(), &raw_error);
  std::unique_ptr<GError, ErrorDeleter> error(raw_error);
  if (!parser.status.is_ok()) return parser.status;
  if (!ok) return invalid_data(std::string("malformed XML: ") + (error ? error->message : "?"));
  if (parser.ism.tracks.empty()) return invalid_data(".ism has no track in <smil><body><switch>");
  return std::move(parser.ism);
}

std::string write_ism(const Ism& ism) {
  std::string out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<smil";
  append_attribute(out, "xmlns", kSmilNamespace);
  out += ">\n  <head>\n";
  if (!ism.client_manifest_relative_path.empty()) {
    append_meta(out, kKnownMetas[kClientManifest], ism.client_manifest_relative_path);
  }
  if (!ism.formats.empty()) append_meta(out, kKnownMetas[kFormats], ism.formats);
  if (ism.fragments_per_hls_segment) {
    append_meta(out, kKnownMetas[kFragmentsPerHls], std::to_string(*ism.fragments_per_hls_segment));
  }
  out += "  </head>\n  <body>\n    <switch>\n";
  for (const IsmTrack& t : ism.tracks) {
    const char* element = ism_track_kind_element(t.kind);
    out += "      <";
    out += element;
    append_attribute(out, "src", t.src);
    append_attribute(out, "systemBitrate", std::to_string(t.system_bitrate));
    if (!t.system_language.empty()) append_attribute(out, "systemLanguage", t.system_language);
    out += ">\n";
    append_param(out, kKnownParams[kSystemBitrate], std::to_string(t.system_bitrate));
    if (t.track_id) append_param(out, kKnownParams[kTrackId], std::to_string(*t.track_id));
    if (!t.track_name.empty()) append_param(out, kKnownParams[kTrackName], t.track_name);
    if (!t.system_language.empty()) {
      append_param(out, kKnownParams[kSystemLanguage], t.system_language);
    }
    if (!t.accessibility.empty()) append_param(out, kKnownParams[kAccessibility], t.accessibility);
    if (!t.role.empty()) append_param(out, kKnownParams[kRole], t.role);
    for (const auto& [name, value] : t.params) {
      // A param that a field carries, or one without a name, would not read back: leave it out.
      if (name.empty() || index_of(kKnownParams, name.c_str()) >= 0) continue;
      append_param(out, name, value);
    }
    out += "      </";
    out += element;
    out += ">\n";
  }
  out += "    </switch>\n  </body>\n</smil>\n";
  return out;
}

}  // namespace ams::smil
