// What `ams encode` will produce, decided before any pipeline runs: the H.264 ladder, the file
// names of the AMS encoder and the .ism that lists them. Pure functions, no GStreamer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "smil/ism.h"

namespace ams::tools {

// One requested rung: a height and, optionally, a video bitrate ("720" or "720:3000").
struct RungRequest {
  int height = 0;
  std::optional<uint32_t> video_kbps;
};

// One encoded rung: square pixels, even dimensions.
struct Rung {
  int width = 0;
  int height = 0;
  uint32_t video_kbps = 0;
};

// Parses "1080,720,540" or "720:3000,360:1100". Heights must be even, 2..4320; bitrates
// 1..100000 kbit/s.
Result<std::vector<RungRequest>> parse_ladder(std::string_view text);

// The AMS "AdaptiveStreaming"-like bitrate for a height in the default ladder (1080: 6000,
// 720: 3400, 540: 2250, 360: 1250, 270: 720, 180: 380 kbit/s); other sizes scale 720p's rate by
// (pixels / 1280x720)^0.75, rounded to 10 kbit/s.
uint32_t default_video_kbps(int width, int height);

// Keeps the requested rungs that are not taller than the source, highest first, without
// duplicates; widths follow the source's display aspect ratio (width * par_n / par_d : height),
// rounded to even. A source shorter than every request gets one rung at its own (even) height.
std::vector<Rung> plan_ladder(const std::vector<RungRequest>& requests, int source_width,
                              int source_height, int par_n, int par_d);

// A language code as the .ism and the MP4 carry it: three lower-case letters ("eng", "und").
bool is_valid_language(std::string_view code);

// Parses "eng,fre": valid codes, no duplicates, at least one.
Result<std::vector<std::string>> parse_languages(std::string_view text);

// A file name stem: 1..200 bytes, no '/', no control character, not "." or "..".
bool is_valid_base(std::string_view base);

struct AudioPlan {
  uint32_t kbps = 128;
  // languages[0] is muxed into every video MP4 (track 2); each further language gets an
  // audio-only MP4 (track 1).
  std::vector<std::string> languages;
};

struct AssetPlan {
  std::string base;  // file name stem: "{base}.ism", "{base}_1280x720_AACAudio_3528.mp4"
  std::vector<Rung> rungs;
  std::optional<AudioPlan> audio;  // absent: the source has no audio, the MP4s are video-only
};

// "{base}_{W}x{H}_AACAudio_{video+audio kbps}.mp4", or "{base}_{W}x{H}_{kbps}.mp4" without audio.
std::string rung_file_name(const AssetPlan& plan, const Rung& rung);

// "{base}_AACAudio_{lang}_{kbps}.mp4": the audio-only file of an additional language.
std::string extra_audio_file_name(const AssetPlan& plan, const std::string& language);

// The AMS encoder's audio track name {codec}_{lang}_{channels}_{bitrate}_{trackID}_{n}:
// "aac_und_2_128000_2_1".
std::string audio_track_name(const std::string& language, int channels, uint32_t bitrate,
                             uint32_t track_id, int n);

// The .ism of the AMS v3 encoder: formats "mp4-v3", the audio first (track 2 of the highest
// rung's file, then one per additional language), then one <video> per rung (track 1, named
// "video"). No clientManifestRelativePath: no .ismc is written.
smil::Ism make_ism(const AssetPlan& plan);

}  // namespace ams::tools
