#include "routes.h"

#include <sys/stat.h>

#include <set>

#include "base/path.h"
#include "http.h"
#include "model/builder.h"

namespace ams::server {
namespace {

using manifest::Format;
using model::Presentation;
using model::Track;
using model::TrackType;
using url::Kind;

constexpr Route kRoutes[] = {
    {Kind::kManifest, Handler::kPipeline, true, true},
    {Kind::kMediaPlaylist, Handler::kPipeline, true, true},
    {Kind::kFragment, Handler::kPipeline, true, false},
    {Kind::kKeyFrame, Handler::kPipeline, true, false},
    {Kind::kDownload, Handler::kDownload, true, false},
    {Kind::kCrossDomain, Handler::kStaticFile, false, true},
    {Kind::kClientAccessPolicy, Handler::kStaticFile, false, true},
};

bool is_ts(Format f) {
  return f == Format::kHlsV3 || f == Format::kHlsV4;
}

// A value for gst_parse_launch, quoted so that spaces, commas and '!' in paths and track names
// stay inside it.
std::string quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* cmaf_mode(Format f) {
  if (f == Format::kDashCsf) return "dash";
  if (manifest::is_smooth(f)) return "smooth";
  return "cmaf";
}

std::string selector(const Track& t) {
  return t.name + "@" + std::to_string(t.bitrate);
}

// "path:size:mtime" of every file whose bytes make the answer: the .ism and the MP4s it names.
std::string file_identity(const std::string& ism, const std::string& folder,
                          const Presentation& p) {
  std::set<std::string> paths = {ism};
  for (const Track& t : p.tracks) {
    if (!t.file.empty()) paths.insert(t.file.front() == '/' ? t.file : folder + "/" + t.file);
  }
  std::string identity;
  for (const std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    identity += path + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
                "." + std::to_string(st.st_mtim.tv_nsec) + "\n";
  }
  return identity;
}

HttpError track_missing(const url::Request& r) {
  return http_error(404, hresult::kTrackNotFound,
                    "no track " + r.track + "@" + std::to_string(r.bitrate.value_or(0)));
}

Result<Plan> plan_manifest(const url::Request& r, Format format, const Presentation& p,
                           const std::string& source, HttpError* error) {
  Plan out;
  out.output = Output::kManifestMessage;
  out.content_type = manifest::content_type(format);
  out.pipeline =
      source + " ! amsmanifestsink name=out format=" + std::string(manifest::format_name(format)) +
      " audio-only=" + (r.audio_only ? "true" : "false");
  if (!r.audio_track.empty()) out.pipeline += " audio-track=" + quoted(r.audio_track);
  if (r.kind == Kind::kMediaPlaylist) {
    const Track* track = p.find(r.track, r.bitrate);
    if (track == nullptr) return fail(error, track_missing(r));
    if (r.keyframes && track->type != TrackType::kVideo) {
      return fail(error, http_error(404, hresult::kTrackNotFound,
                                    "key frames of a track that is not video"));
    }
    out.pipeline += " track=" + quoted(track->name) + " bitrate=" + std::to_string(track->bitrate) +
                    " keyframes=" + (r.keyframes ? "true" : "false");
  }
  return out;
}

// The fragments a Fragments()/KeyFrames() URL names: [first, first + count) of `track`.
Status find_fragments(const url::Request& r, Format format, const Presentation& p,
                      const Track& track, size_t* first, size_t* count) {
  if (r.init) {
    if (!manifest::is_dash(format) && format != Format::kHlsCmaf) {
      return not_found("the format has no init segment");
    }
    if (track.fragments.empty()) return not_found("the track has no fragments");
    *first = 0;
    *count = 1;
    return Status::ok();
  }
  int64_t time = r.time.value_or(-1);
  if (is_ts(format) && r.kind == Kind::kFragment) {
    for (const manifest::HlsSegment& s : manifest::hls_segments(p, track, format)) {
      if (s.start_10mhz != time) continue;
      *first = s.first_fragment;
      *count = s.fragment_count;
      return Status::ok();
    }
    return not_found("no segment starts at " + std::to_string(time));
  }
  std::optional<size_t> index = track.fragment_at(time);
  if (!index) return not_found("no fragment starts at " + std::to_string(time));
  *first = *index;
  *count = 1;
  return Status::ok();
}

Result<Plan> plan_media(const url::Request& r, Format format, const Presentation& p,
                        const std::string& ism, HttpError* error) {
  const Track* track = p.find(r.track, r.bitrate);
  if (track == nullptr || track->type == TrackType::kText) {
    return fail(error, track_missing(r));
  }
  bool keyframes = r.kind == Kind::kKeyFrame;
  if (keyframes && (!is_ts(format) || track->type != TrackType::kVideo)) {
    return fail(error,
                http_error(404, hresult::kFragmentNotFound, "key frames: HLS TS video only"));
  }
  size_t first = 0;
  size_t count = 0;
  if (Status s = find_fragments(r, format, p, *track, &first, &count); !s) {
    *error = http_error(404, hresult::kFragmentNotFound, s.message());
    return s;
  }
  std::string tracks = selector(*track);
  // HLS v3 muxes the audio track into the video segments (audiotrack=, else the first).
  if (format == Format::kHlsV3 && track->type == TrackType::kVideo) {
    std::vector<const Track*> audio = p.tracks_of(TrackType::kAudio);
    const Track* a = r.audio_track.empty() ? (audio.empty() ? nullptr : audio.front())
                                           : p.find(r.audio_track, std::nullopt);
    if (!r.audio_track.empty() && (a == nullptr || a->type != TrackType::kAudio)) {
      return fail(error,
                  http_error(404, hresult::kTrackNotFound, "no audio track " + r.audio_track));
    }
    if (a != nullptr) tracks += "," + selector(*a);
  }
  Plan out;
  out.output = r.init ? Output::kInitSegment : Output::kMediaSegment;
  std::string demux = "filesrc location=" + quoted(ism) +
                      " ! amsdemux name=d tracks=" + quoted(tracks) +
                      " fragment-time=" + std::to_string(track->fragment_start_10mhz(first)) +
                      " fragment-count=" + std::to_string(count);
  std::string sink = " ! appsink name=out sync=false buffer-list=true";
  if (is_ts(format)) {
    out.content_type = "video/mp2t";
    out.pipeline = demux + (keyframes ? " key-units-only=true" : "") +
                   " amstsmux name=mux fragments-per-segment=" + std::to_string(count) + sink;
    size_t inputs = tracks.find(',') == std::string::npos ? 1 : 2;
    for (size_t i = 0; i < inputs; ++i) out.pipeline += " d. ! queue ! mux.";
  } else {
    out.content_type = track->type == TrackType::kVideo ? "video/mp4" : "audio/mp4";
    // An init request reads no sample: amscmafmux init-only tells amsdemux it needs no payload.
    out.pipeline = demux + " ! amscmafmux format=" + cmaf_mode(format) +
                   (r.init ? " init-only=true" : "") + sink;
  }
  return out;
}

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

Result<Plan> plan(const url::Request& r, Format format, const Published& published,
                  HttpError* error) {
  const std::string& folder = published.asset.path;
  Result<std::string> ism = resolve_inside(folder, r.manifest + ".ism");
  if (!ism) {
    *error = http_error(404, hresult::kAssetNotFound, ism.status().to_string());
    return ism.status();
  }
  auto presentation = model::build_presentation(*ism);
  if (!presentation) {
    *error = from_status(presentation.status(), hresult::kAssetNotFound);
    return presentation.status();
  }
  const Presentation& p = **presentation;
  bool playlist = r.kind == Kind::kMediaPlaylist || r.kind == Kind::kKeyFrame;
  if (playlist && !manifest::is_hls(format)) {
    return fail(error, http_error(400, hresult::kBadRequest,
                                  "media playlists and key frames are HLS only"));
  }
  Result<Plan> out =
      r.kind == Kind::kManifest || r.kind == Kind::kMediaPlaylist
          ? plan_manifest(r, format, p, "filesrc location=" + quoted(*ism) + " ! amsdemux", error)
          : plan_media(r, format, p, *ism, error);
  if (!out) return out;
  out->etag = make_etag(published.locator.id + "\n" + url::print(r) + "\n" +
                        file_identity(*ism, folder, p));
  return out;
}

}  // namespace ams::server
