// The AMS sub-resource URL shapes, in one place: the manifest writers print them and the URL
// parser (gst/core/url) reads the same names. All paths are relative to `.../{name}.ism/`, except
// HLS segment URIs, which are relative to their media playlist
// (`.../{name}.ism/QualityLevels(N)/`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ams::manifest::url {

inline constexpr std::string_view kQualityLevels = "QualityLevels";
inline constexpr std::string_view kFragments = "Fragments";
inline constexpr std::string_view kKeyFrames = "KeyFrames";
inline constexpr std::string_view kManifest = "Manifest";
inline constexpr std::string_view kFormatArg = "format";
inline constexpr std::string_view kAudioTrackArg = "audiotrack";
inline constexpr std::string_view kTypeArg = "type";
inline constexpr std::string_view kFilterArg = "filter";
inline constexpr std::string_view kKeyFramesType = "keyframes";
inline constexpr std::string_view kInitTime = "i";  // Fragments(video=i,...): the init segment
// Placeholders that Smooth clients and DASH clients fill in.
inline constexpr std::string_view kSmoothBitrate = "{bitrate}";
inline constexpr std::string_view kSmoothStartTime = "{start time}";
inline constexpr std::string_view kDashBandwidth = "$Bandwidth$";
inline constexpr std::string_view kDashTime = "$Time$";

// `args` (every function): further arguments, formatted as they follow the others
// (",filter=a;b,encryption=cbc", Options::url_args()): what the request asked that its children
// must ask too (a player's requests stay inside the filters and get encrypted media); "": none.

// QualityLevels({bitrate})/Fragments(aac_eng_2_128041_2_1={start time}[ARGS])
std::string smooth_fragment_template(std::string_view track, std::string_view args = {});

// QualityLevels(381048)/Manifest(video,format=m3u8-aapl[,audiotrack=A][,type=keyframes][ARGS])
std::string hls_playlist(uint32_t bitrate, std::string_view track, std::string_view format,
                         std::string_view audio_track = {}, bool keyframes = false,
                         std::string_view args = {});

// Fragments(video=60000000,format=m3u8-aapl[,audiotrack=A]); relative to the media playlist.
std::string hls_segment(std::string_view track, int64_t time_10mhz, std::string_view format,
                        std::string_view audio_track = {}, std::string_view args = {});
// Fragments(video=i,format=m3u8-cmaf); relative to the media playlist.
std::string hls_init(std::string_view track, std::string_view format, std::string_view args = {});
// KeyFrames(video=60000000,format=m3u8-aapl): a TS holding the fragment's first key frame only.
std::string hls_keyframe(std::string_view track, int64_t time_10mhz, std::string_view format,
                         std::string_view args = {});

// QualityLevels($Bandwidth$)/Fragments(video=$Time$,format=mpd-time-csf); `quality` replaces
// $Bandwidth$ when given (a text track's bitrate, 0 for a side-car: players leave $Bandwidth$
// unresolved for a bandwidth of 0).
std::string dash_media_template(std::string_view track, std::string_view format,
                                std::string_view args = {}, std::string_view quality = {});
// QualityLevels($Bandwidth$)/Fragments(video=i,format=mpd-time-csf)
std::string dash_init_template(std::string_view track, std::string_view format,
                               std::string_view args = {}, std::string_view quality = {});

}  // namespace ams::manifest::url
