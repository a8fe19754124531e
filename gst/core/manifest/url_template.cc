#include "manifest/url_template.h"

namespace ams::manifest::url {
namespace {

std::string quality_levels(std::string_view bitrate) {
  std::string s(kQualityLevels);
  s += '(';
  s += bitrate;
  s += ")/";
  return s;
}

// Fragments(track=time,format=F[,audiotrack=A]) or KeyFrames(...)
std::string fragment(std::string_view resource, std::string_view track, std::string_view time,
                     std::string_view format, std::string_view audio_track) {
  std::string s(resource);
  s += '(';
  s += track;
  s += '=';
  s += time;
  if (!format.empty()) {
    s += ',';
    s += kFormatArg;
    s += '=';
    s += format;
  }
  if (!audio_track.empty()) {
    s += ',';
    s += kAudioTrackArg;
    s += '=';
    s += audio_track;
  }
  s += ')';
  return s;
}

}  // namespace

std::string smooth_fragment_template(std::string_view track) {
  return quality_levels(kSmoothBitrate) + fragment(kFragments, track, kSmoothStartTime, {}, {});
}

std::string hls_playlist(uint32_t bitrate, std::string_view track, std::string_view format,
                         std::string_view audio_track, bool keyframes) {
  std::string s = quality_levels(std::to_string(bitrate));
  s += kManifest;
  s += '(';
  s += track;
  s += ',';
  s += kFormatArg;
  s += '=';
  s += format;
  if (!audio_track.empty()) {
    s += ',';
    s += kAudioTrackArg;
    s += '=';
    s += audio_track;
  }
  if (keyframes) {
    s += ',';
    s += kTypeArg;
    s += '=';
    s += kKeyFramesType;
  }
  s += ')';
  return s;
}

std::string hls_segment(std::string_view track, int64_t time_10mhz, std::string_view format,
                        std::string_view audio_track) {
  return fragment(kFragments, track, std::to_string(time_10mhz), format, audio_track);
}

std::string hls_init(std::string_view track, std::string_view format) {
  return fragment(kFragments, track, kInitTime, format, {});
}

std::string hls_keyframe(std::string_view track, int64_t time_10mhz, std::string_view format) {
  return fragment(kKeyFrames, track, std::to_string(time_10mhz), format, {});
}

std::string dash_media_template(std::string_view track, std::string_view format) {
  return quality_levels(kDashBandwidth) + fragment(kFragments, track, kDashTime, format, {});
}

std::string dash_init_template(std::string_view track, std::string_view format) {
  return quality_levels(kDashBandwidth) + fragment(kFragments, track, kInitTime, format, {});
}

}  // namespace ams::manifest::url
