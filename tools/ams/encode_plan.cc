#include "encode_plan.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace ams::tools {
namespace {

constexpr int kAudioChannels = 2;

// Video bitrates of the default ladder, after AMS's AdaptiveStreaming preset at 1080p.
struct DefaultRate {
  int height;
  uint32_t kbps;
};
constexpr DefaultRate kDefaultRates[] = {
    {1080, 6000}, {720, 3400}, {540, 2250}, {360, 1250}, {270, 720}, {180, 380},
};

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::optional<uint32_t> parse_uint(std::string_view text) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

int round_to_even(double value) {
  return std::max(2, static_cast<int>(std::lround(value / 2)) * 2);
}

}  // namespace

Result<std::vector<RungRequest>> parse_ladder(std::string_view text) {
  std::vector<RungRequest> requests;
  for (std::string_view item : split(text, ',')) {
    RungRequest request;
    size_t colon = item.find(':');
    std::optional<uint32_t> height = parse_uint(item.substr(0, colon));
    if (!height || *height < 2 || *height > 4320 || *height % 2 != 0) {
      return invalid_argument("ladder: '" + std::string(item) +
                              "': a height must be an even number from 2 to 4320");
    }
    request.height = static_cast<int>(*height);
    if (colon != std::string_view::npos) {
      std::optional<uint32_t> kbps = parse_uint(item.substr(colon + 1));
      if (!kbps || *kbps < 1 || *kbps > 100000) {
        return invalid_argument("ladder: '" + std::string(item) +
                                "': a bitrate must be 1 to 100000 kbit/s");
      }
      request.video_kbps = *kbps;
    }
    requests.push_back(request);
  }
  return requests;
}

uint32_t default_video_kbps(int width, int height) {
  for (const DefaultRate& rate : kDefaultRates) {
    if (rate.height == height) return rate.kbps;
  }
  double pixels = static_cast<double>(width) * height / (1280.0 * 720.0);
  double kbps = 3400.0 * std::pow(pixels, 0.75);
  return std::max<uint32_t>(10, static_cast<uint32_t>(std::lround(kbps / 10)) * 10);
}

std::vector<Rung> plan_ladder(const std::vector<RungRequest>& requests, int source_width,
                              int source_height, int par_n, int par_d) {
  double aspect = static_cast<double>(source_width) * std::max(par_n, 1) /
                  (static_cast<double>(source_height) * std::max(par_d, 1));
  auto rung_for = [aspect](int height, std::optional<uint32_t> kbps) {
    Rung rung;
    rung.height = height;
    rung.width = round_to_even(height * aspect);
    rung.video_kbps = kbps ? *kbps : default_video_kbps(rung.width, rung.height);
    return rung;
  };
  std::vector<Rung> rungs;
  std::set<int> heights;
  for (const RungRequest& request : requests) {
    if (request.height > source_height || !heights.insert(request.height).second) continue;
    rungs.push_back(rung_for(request.height, request.video_kbps));
  }
  if (rungs.empty()) rungs.push_back(rung_for(std::max(2, source_height / 2 * 2), std::nullopt));
  std::stable_sort(rungs.begin(), rungs.end(),
                   [](const Rung& a, const Rung& b) { return a.height > b.height; });
  return rungs;
}

bool is_valid_language(std::string_view code) {
  return code.size() == 3 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

Result<std::vector<std::string>> parse_languages(std::string_view text) {
  std::vector<std::string> languages;
  for (std::string_view code : split(text, ',')) {
    if (!is_valid_language(code)) {
      return invalid_argument("language '" + std::string(code) +
                              "': expected an ISO 639-2 code of three lower-case letters");
    }
    if (std::find(languages.begin(), languages.end(), code) != languages.end()) {
      return invalid_argument("language '" + std::string(code) + "' given twice");
    }
    languages.emplace_back(code);
  }
  return languages;
}

bool is_valid_base(std::string_view base) {
  if (base.empty() || base.size() > 200 || base == "." || base == "..") return false;
  return std::none_of(base.begin(), base.end(), [](char c) {
    return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

std::string rung_file_name(const AssetPlan& plan, const Rung& rung) {
  std::string name =
      plan.base + "_" + std::to_string(rung.width) + "x" + std::to_string(rung.height) + "_";
  if (plan.audio) {
    return name + "AACAudio_" + std::to_string(rung.video_kbps + plan.audio->kbps) + ".mp4";
  }
  return name + std::to_string(rung.video_kbps) + ".mp4";
}

std::string extra_audio_file_name(const AssetPlan& plan, const std::string& language) {
  uint32_t kbps = plan.audio ? plan.audio->kbps : 0;
  return plan.base + "_AACAudio_" + language + "_" + std::to_string(kbps) + ".mp4";
}

std::string audio_track_name(const std::string& language, int channels, uint32_t bitrate,
                             uint32_t track_id, int n) {
  return "aac_" + language + "_" + std::to_string(channels) + "_" + std::to_string(bitrate) + "_" +
         std::to_string(track_id) + "_" + std::to_string(n);
}

smil::Ism make_ism(const AssetPlan& plan) {
  smil::Ism ism;
  ism.formats = "mp4-v3";
  if (plan.audio && !plan.rungs.empty()) {
    const AudioPlan& audio = *plan.audio;
    uint32_t bitrate = audio.kbps * 1000;
    for (size_t i = 0; i < audio.languages.size(); ++i) {
      smil::IsmTrack track;
      track.kind = smil::IsmTrackKind::kAudio;
      // The first language is muxed with the video (track 2); the others have files of their own.
      bool muxed = i == 0;
      track.src = muxed ? rung_file_name(plan, plan.rungs.front())
                        : extra_audio_file_name(plan, audio.languages[i]);
      track.track_id = muxed ? 2 : 1;
      track.system_bitrate = bitrate;
      track.system_language = audio.languages[i];
      track.track_name =
          audio_track_name(audio.languages[i], kAudioChannels, bitrate, *track.track_id, 1);
      ism.tracks.push_back(std::move(track));
    }
  }
  for (const Rung& rung : plan.rungs) {
    smil::IsmTrack track;
    track.kind = smil::IsmTrackKind::kVideo;
    track.src = rung_file_name(plan, rung);
    track.system_bitrate = rung.video_kbps * 1000;
    track.track_id = 1;
    track.track_name = "video";
    ism.tracks.push_back(std::move(track));
  }
  return ism;
}

}  // namespace ams::tools
