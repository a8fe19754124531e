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

// ",key=value", nothing for an empty value.
void append_arg(std::string& s, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  s += ',';
  s += key;
  s += '=';
  s += value;
}

// Fragments(track=time,format=F[,audiotrack=A]ARGS) or KeyFrames(...)
std::string fragment(std::string_view resource, std::string_view track, std::string_view time,
                     std::string_view format, std::string_view audio_track, std::string_view args) {
  std::string s(resource);
  s += '(';
  s += track;
  s += '=';
  s += time;
  append_arg(s, kFormatArg, format);
  append_arg(s, kAudioTrackArg, audio_track);
  s += args;
  s += ')';
  return s;
}

}  // namespace

std::string smooth_fragment_template(std::string_view track, std::string_view args) {
  return quality_levels(kSmoothBitrate) +
         fragment(kFragments, track, kSmoothStartTime, {}, {}, args);
}

std::string hls_playlist(uint32_t bitrate, std::string_view track, std::string_view format,
                         std::string_view audio_track, bool keyframes, std::string_view args) {
  std::string s = quality_levels(std::to_string(bitrate));
  s += kManifest;
  s += '(';
  s += track;
  append_arg(s, kFormatArg, format);
  append_arg(s, kAudioTrackArg, audio_track);
  if (keyframes) append_arg(s, kTypeArg, kKeyFramesType);
  s += args;
  s += ')';
  return s;
}

std::string hls_segment(std::string_view track, int64_t time_10mhz, std::string_view format,
                        std::string_view audio_track, std::string_view args) {
  return fragment(kFragments, track, std::to_string(time_10mhz), format, audio_track, args);
}

std::string hls_init(std::string_view track, std::string_view format, std::string_view args) {
  return fragment(kFragments, track, kInitTime, format, {}, args);
}

std::string hls_keyframe(std::string_view track, int64_t time_10mhz, std::string_view format,
                         std::string_view args) {
  return fragment(kKeyFrames, track, std::to_string(time_10mhz), format, {}, args);
}

std::string dash_media_template(std::string_view track, std::string_view format,
                                std::string_view args, std::string_view quality) {
  return quality_levels(quality.empty() ? kDashBandwidth : quality) +
         fragment(kFragments, track, kDashTime, format, {}, args);
}

std::string dash_init_template(std::string_view track, std::string_view format,
                               std::string_view args, std::string_view quality) {
  return quality_levels(quality.empty() ? kDashBandwidth : quality) +
         fragment(kFragments, track, kInitTime, format, {}, args);
}

}  // namespace ams::manifest::url
