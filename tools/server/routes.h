// Routing as data: each URL kind (ams::url::Kind) has one row saying how it is answered, whether a
// locator and which streaming protocol it needs, and whether its text may be gzipped. For the
// kinds a pipeline answers, plan() turns a request into the pipeline that makes its bytes, after
// checking against the (cached) presentation model that the track, bitrate and fragment exist, so
// an unknown fragment is a 404 before any pipeline is built.
#pragma once

#include <optional>
#include <string>

#include "catalog.h"
#include "errors.h"
#include "manifest/manifest.h"
#include "url/request.h"

namespace ams::server {

enum class Handler { kStaticFile, kDownload, kPipeline };
enum class Protocol { kNone, kSmooth, kDash, kHls, kDownload };

struct Route {
  url::Kind kind;
  Handler handler;
  bool needs_locator;
  bool compressible;  // text: gzip when the client accepts it
};

const Route& route_for(url::Kind kind);

// The protocol a request uses: its format's (Smooth, DASH, HLS), or download.
Protocol protocol_of(const url::Request& request, std::optional<manifest::Format> format);
const char* protocol_name(Protocol protocol);  // "SmoothStreaming", "Dash", "Hls", "Download"
bool policy_enables(const store::Protocols& protocols, Protocol protocol);

// What a pipeline's output is taken from.
enum class Output {
  kManifestMessage,  // the `ams-manifest` element message of amsmanifestsink
  kInitSegment,      // appsink: the buffers flagged HEADER
  kMediaSegment,     // appsink: every other buffer (one fragment or one TS segment)
};

struct Plan {
  std::string pipeline;  // gst_parse_launch description; the sink is named "out"
  Output output = Output::kMediaSegment;
  std::string content_type;  // of the 200 answer
  std::string etag;          // strong, from the locator, the request and the asset files
};

// Runs on a worker thread: reads the .ism and the MP4 indexes (through the shared caches) and
// stats the asset files. On failure fills `error` (404 for what does not exist).
Result<Plan> plan(const url::Request& request, manifest::Format format, const Published& published,
                  HttpError* error);

}  // namespace ams::server
