#include "routes.h"

namespace ams::server {
namespace {

using manifest::Format;
using url::Kind;

constexpr Route kRoutes[] = {
    {Kind::kManifest, Handler::kProduct, true},
    {Kind::kMediaPlaylist, Handler::kProduct, true},
    {Kind::kFragment, Handler::kProduct, true},
    {Kind::kKeyFrame, Handler::kProduct, true},
    {Kind::kDownload, Handler::kDownload, true},
    {Kind::kCrossDomain, Handler::kStaticFile, false},
    {Kind::kClientAccessPolicy, Handler::kStaticFile, false},
};

}  // namespace

const Route& route_for(url::Kind kind) {
  for (const Route& route : kRoutes) {
    if (route.kind == kind) return route;
  }
  return kRoutes[0];  // unreachable: every Kind has a row
}

Protocol protocol_of(const url::Request& request, std::optional<Format> format) {
  if (request.kind == Kind::kDownload) return Protocol::kDownload;
  if (request.kind == Kind::kCrossDomain || request.kind == Kind::kClientAccessPolicy || !format) {
    return Protocol::kNone;
  }
  if (manifest::is_hls(*format)) return Protocol::kHls;
  if (manifest::is_dash(*format)) return Protocol::kDash;
  return Protocol::kSmooth;
}

const char* protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kSmooth:
      return "SmoothStreaming";
    case Protocol::kDash:
      return "Dash";
    case Protocol::kHls:
      return "Hls";
    case Protocol::kDownload:
      return "Download";
    case Protocol::kNone:
      break;
  }
  return "None";
}

bool policy_enables(const store::Protocols& p, Protocol protocol) {
  switch (protocol) {
    case Protocol::kSmooth:
      return p.smooth_streaming;
    case Protocol::kDash:
      return p.dash;
    case Protocol::kHls:
      return p.hls;
    case Protocol::kDownload:
      return p.download;
    case Protocol::kNone:
      break;
  }
  return true;
}

}  // namespace ams::server
