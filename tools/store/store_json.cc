// The JSON documents of the store, in the shapes of the AMS REST API: listPaths (reference 4.3),
// streaming policies (reference 4.1), filters and listContentKeys.

#include <glib.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/json.h"
#include "base/path.h"
#include "store.h"
#include "url/request.h"

namespace ams::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIsm = ".ism";
// Media and caption files (never the server manifests, JSON or hidden files).
constexpr std::string_view kDownloadExtensions[] = {".mp4",  ".m4a", ".mp4a", ".m4v", ".ismv",
                                                    ".isma", ".vtt", ".ttml", ".dfxp"};
const std::string kAnyLocator = "00000000-0000-0000-0000-000000000000";

struct Folder {
  std::vector<std::string> manifests;  // "{name}" of each "{name}.ism"
  std::vector<std::string> downloads;
};

Result<Folder> scan_folder(const std::string& path) {
  std::error_code ec;
  fs::directory_iterator it(path, ec);
  if (ec) return not_found("asset folder " + path + ": " + ec.message());
  Folder folder;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return io_error("asset folder " + path + ": " + ec.message());
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    std::string name = it->path().filename().string();
    if (name.size() > kIsm.size() && name.ends_with(kIsm) && name[0] != '.') {
      folder.manifests.push_back(name.substr(0, name.size() - kIsm.size()));
    } else if (is_downloadable(name)) {
      folder.downloads.push_back(name);
    }
  }
  std::sort(folder.manifests.begin(), folder.manifests.end());
  std::sort(folder.downloads.begin(), folder.downloads.end());
  return folder;
}

// One streamingPaths entry: a protocol, a scheme and the manifest URL of each .ism per format.
struct Entry {
  const char* protocol;
  const char* scheme;
  std::vector<const char*> formats;  // "" for Smooth's bare manifest
  const char* encryption;            // "" in the clear
};

std::vector<Entry> entries_for(const Policy& policy) {
  const Protocols& p = policy.protocols;
  std::vector<Entry> entries;
  auto add = [&](bool enabled, Entry entry) {
    if (enabled) entries.push_back(std::move(entry));
  };
  switch (policy.encryption) {
    case Encryption::kNone:
      // AMS lists m3u8-aapl and mpd-time-csf; the CMAF forms follow them (docs/server.md).
      add(p.hls, {"Hls", "NoEncryption", {"m3u8-aapl", "m3u8-cmaf"}, ""});
      add(p.dash, {"Dash", "NoEncryption", {"mpd-time-csf", "mpd-time-cmaf"}, ""});
      add(p.smooth_streaming, {"SmoothStreaming", "NoEncryption", {""}, ""});
      break;
    case Encryption::kEnvelope:
      add(p.hls, {"Hls", "EnvelopeEncryption", {"m3u8-aapl"}, "cbc"});
      add(p.dash, {"Dash", "EnvelopeEncryption", {"mpd-time-csf"}, "cbc"});
      add(p.smooth_streaming, {"SmoothStreaming", "EnvelopeEncryption", {""}, "cbc"});
      break;
    case Encryption::kCommonCenc:
      add(p.dash, {"Dash", "CommonEncryptionCenc", {"mpd-time-csf"}, "cenc"});
      add(p.smooth_streaming, {"SmoothStreaming", "CommonEncryptionCenc", {""}, "cenc"});
      // Predefined_MultiDrmStreaming: FairPlay (CBCS) for HLS beside CENC.
      add(p.hls, {"Hls", "CommonEncryptionCbcs", {"m3u8-aapl"}, "cbcs-aapl"});
      break;
    case Encryption::kCommonCbcs:
      add(p.hls, {"Hls", "CommonEncryptionCbcs", {"m3u8-aapl"}, "cbcs-aapl"});
      break;
  }
  return entries;
}

std::string manifest_path(const std::string& locator, const std::string& manifest,
                          const char* format, const char* encryption) {
  url::Request r;
  r.kind = url::Kind::kManifest;
  r.locator_id = locator;
  r.manifest = manifest;
  r.format = format;
  r.encryption = encryption;
  return url::print(r);
}

std::string download_path(const std::string& locator, const std::string& file) {
  url::Request r;
  r.kind = url::Kind::kDownload;
  r.locator_id = locator;
  r.file = file;
  return url::print(r);
}

void write_protocols(JsonWriter& w, const Protocols& p) {
  w.key("enabledProtocols").begin_object();
  w.key("download").value(p.download);
  w.key("dash").value(p.dash);
  w.key("hls").value(p.hls);
  w.key("smoothStreaming").value(p.smooth_streaming);
  w.end_object();
}

void write_scheme(JsonWriter& w, const char* scheme, const Protocols& p) {
  w.key(scheme).begin_object();
  write_protocols(w, p);
  w.end_object();
}

}  // namespace

bool is_downloadable(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  bool media = false;
  for (std::string_view ext : kDownloadExtensions) {
    media = media || (name.size() > ext.size() && iends_with(name, ext));
  }
  if (!media) return false;
  // Only names the URL grammar routes back to this very file (no control characters).
  std::string file(name);
  Result<url::Request> routed = url::parse(download_path(kAnyLocator, file));
  return routed.is_ok() && routed->kind == url::Kind::kDownload && routed->file == file;
}

Result<std::string> Store::list_paths_json(const std::string& locator_id) {
  AMS_ASSIGN_OR_RETURN(Locator locator, get_locator(locator_id));
  AMS_ASSIGN_OR_RETURN(Asset asset, get_asset(locator.asset));
  AMS_ASSIGN_OR_RETURN(Policy policy, get_policy(locator.policy));
  AMS_ASSIGN_OR_RETURN(Folder folder, scan_folder(asset.path));

  JsonWriter w;
  w.begin_object().key("streamingPaths").begin_array();
  if (!folder.manifests.empty()) {
    for (const Entry& entry : entries_for(policy)) {
      w.begin_object();
      w.key("streamingProtocol").value(entry.protocol);
      w.key("encryptionScheme").value(entry.scheme);
      w.key("paths").begin_array();
      // Format by format, so the first paths are those AMS itself would list.
      for (const char* format : entry.formats) {
        for (const std::string& manifest : folder.manifests) {
          w.value(manifest_path(locator.id, manifest, format, entry.encryption));
        }
      }
      w.end_array().end_object();
    }
  }
  w.end_array().key("downloadPaths").begin_array();
  if (policy.protocols.download && policy.encryption == Encryption::kNone) {
    for (const std::string& file : folder.downloads) w.value(download_path(locator.id, file));
  }
  w.end_array().end_object();
  return w.str() + "\n";
}

std::string policy_json(const Policy& policy) {
  JsonWriter w;
  w.begin_object().key("name").value(policy.name).key("properties").begin_object();
  w.key("created").value(policy.created);
  Protocols p = policy.protocols;
  switch (policy.encryption) {
    case Encryption::kNone:
      write_scheme(w, "noEncryption", p);
      break;
    case Encryption::kEnvelope:
      write_scheme(w, "envelopeEncryption", p);
      break;
    case Encryption::kCommonCenc: {
      Protocols cenc = p;
      cenc.hls = false;
      write_scheme(w, "commonEncryptionCenc", cenc);
      if (p.hls) write_scheme(w, "commonEncryptionCbcs", Protocols{false, false, true, false});
      break;
    }
    case Encryption::kCommonCbcs:
      write_scheme(w, "commonEncryptionCbcs", p);
      break;
  }
  w.end_object().end_object();
  return w.str() + "\n";
}

std::string content_keys_json(const std::vector<ContentKey>& keys, bool with_secrets) {
  JsonWriter w;
  w.begin_object().key("contentKeys").begin_array();
  for (const ContentKey& key : keys) {
    w.begin_object();
    w.key("id").value(key.id);
    w.key("type").value(key.type);
    w.key("labelReferenceInStreamingPolicy").value(key.label);
    if (with_secrets) {
      gchar* value =
          g_base64_encode(reinterpret_cast<const guchar*>(key.value.data()), key.value.size());
      w.key("value").value(value);
      g_free(value);
    }
    w.key("policyName").value(key.policy_name);
    w.key("tracks").begin_array().end_array();
    w.end_object();
  }
  w.end_array().end_object();
  return w.str() + "\n";
}

std::string filter_json(const FilterRecord& filter) {
  // The stored properties are filter::to_json's text: re-indented, keys in their stored order.
  using Json = nlohmann::ordered_json;
  Json properties = Json::parse(filter.properties, nullptr, /*allow_exceptions=*/false);
  if (properties.is_discarded()) properties = Json::object();
  Json out = Json::object();
  out["name"] = filter.name;
  out["properties"] = std::move(properties);
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace ams::store
