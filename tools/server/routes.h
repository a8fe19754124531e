// Routing as data: each URL kind (ams::url::Kind) has one row saying how it is answered and
// whether it needs a locator; the products of a presentation (plan.h) have a table of their own
// saying which a pipeline makes and which the answer cache keeps.
#pragma once

#include <optional>
#include <string>

#include "manifest/manifest.h"
#include "store/store.h"
#include "url/request.h"

namespace ams::server {

enum class Handler { kStaticFile, kDownload, kProduct };
enum class Protocol { kNone, kSmooth, kDash, kHls, kDownload };

struct Route {
  url::Kind kind;
  Handler handler;
  bool needs_locator;
};

const Route& route_for(url::Kind kind);

// The protocol a request uses: its format's (Smooth, DASH, HLS), or download.
Protocol protocol_of(const url::Request& request, std::optional<manifest::Format> format);
const char* protocol_name(Protocol protocol);  // "SmoothStreaming", "Dash", "Hls", "Download"
bool policy_enables(const store::Protocols& protocols, Protocol protocol);

}  // namespace ams::server
