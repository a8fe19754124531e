// ams package: static packaging. Writes every resource a player fetches for one or all AMS formats
// into a folder, under the exact relative URL the dynamic endpoint serves below `{name}.ism/`
// (`manifest(format=m3u8-aapl)`, `QualityLevels(381048)/Fragments(video=0,format=m3u8-aapl)`),
// so any static web server over that folder is an origin (docs/package.md).
//
// Every byte comes from the gstams elements: manifests from amsdemux ! amsmanifestsink, segments
// from one pipeline per track (and format) amsdemux ! amscmafmux | amstsmux ! appsink, cut into
// files by buffer list. The presentation model only names the files.

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "glib_ptr.h"
#include "manifest/manifest.h"
#include "manifest/timeline.h"
#include "manifest/url_template.h"
#include "model/builder.h"
#include "package_pipeline.h"

namespace ams::tools {
namespace {

using manifest::Format;
using model::Presentation;
using model::Track;
using model::TrackType;

constexpr Format kAllFormats[] = {Format::kSmooth,  Format::kSmoothV20, Format::kHlsV4,
                                  Format::kHlsV3,   Format::kHlsCmaf,   Format::kDashCsf,
                                  Format::kDashCmaf};

std::string replace(std::string text, std::string_view from, const std::string& to) {
  const size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string quality_levels(const Track& t) {
  return std::string(manifest::url::kQualityLevels) + "(" + std::to_string(t.bitrate) + ")/";
}

// The master manifest's name: what a player asks for after `{name}.ism/`.
std::string master_name(Format format) {
  if (format == Format::kSmooth) return "manifest";
  return "manifest(format=" + std::string(manifest::format_name(format)) + ")";
}

// Which output a run of the pipelines of one format writes, and the plan of everything.
struct Packager {
  std::string ism;
  std::string out;
  std::string audio_track;  // HLS v3 audiotrack=; empty: the first audio track
  const Presentation* presentation = nullptr;
  std::set<std::string> done;  // segment jobs already run (Smooth 2.0 and 2.2 share fragments)
  size_t files = 0;

  Status manifest(const ManifestJob& job) {
    ++files;
    return run_manifest_pipeline(ism, out, job);
  }
  Status segments(const SegmentJob& job) {
    if (!done.insert(job.key()).second) return Status::ok();
    files += job.names.size() + (job.init_name.empty() ? 0 : 1);
    return run_segment_pipeline(ism, out, job);
  }

  Status package(Format format);
  Status package_smooth_or_dash(Format format);
  Status package_hls(Format format);
  Status package_hls_v3();
};

Status Packager::package_smooth_or_dash(Format format) {
  const std::string fmt(manifest::format_name(format));
  const bool smooth = manifest::is_smooth(format);
  for (size_t i = 0; i < presentation->tracks.size(); ++i) {
    const Track& t = presentation->tracks[i];
    if (t.type == TrackType::kText) continue;  // not in any manifest yet
    SegmentJob job;
    job.tracks = {i};
    job.muxer = "amscmafmux";
    job.mux_format = smooth ? "smooth" : (format == Format::kDashCsf ? "dash" : "cmaf");
    const std::string bw = std::to_string(t.bitrate);
    const std::string media = smooth ? manifest::url::smooth_fragment_template(t.name)
                                     : manifest::url::dash_media_template(t.name, fmt);
    if (!smooth) {
      job.init_name = replace(manifest::url::dash_init_template(t.name, fmt),
                              manifest::url::kDashBandwidth, bw);
    }
    // Smooth lists one timeline per StreamIndex, DASH one per AdaptationSet (when the bitrates are
    // aligned): every bitrate's fragment i is named by it.
    const Track& timeline = smooth ? manifest::smooth_reference(*presentation, t)
                            : manifest::is_dash(format) ? manifest::dash_reference(*presentation, t)
                                                        : t;
    for (size_t f = 0; f < t.fragments.size() && f < timeline.fragments.size(); ++f) {
      const std::string time = std::to_string(timeline.fragment_start_10mhz(f));
      job.names.push_back(smooth ? replace(replace(media, manifest::url::kSmoothBitrate, bw),
                                           manifest::url::kSmoothStartTime, time)
                                 : replace(replace(media, manifest::url::kDashBandwidth, bw),
                                           manifest::url::kDashTime, time));
    }
    AMS_RETURN_IF_ERROR(segments(job));
  }
  return Status::ok();
}

// HLS v4 and CMAF: one media playlist per track, segments of one track each.
Status Packager::package_hls(Format format) {
  const std::string fmt(manifest::format_name(format));
  const bool cmaf = format == Format::kHlsCmaf;
  for (size_t i = 0; i < presentation->tracks.size(); ++i) {
    const Track& t = presentation->tracks[i];
    if (t.type == TrackType::kText) continue;
    const std::string dir = quality_levels(t);
    AMS_RETURN_IF_ERROR(manifest({manifest::url::hls_playlist(t.bitrate, t.name, fmt),
                                  format,
                                  t.name,
                                  t.bitrate,
                                  false,
                                  {}}));
    SegmentJob job;
    job.tracks = {i};
    job.muxer = cmaf ? "amscmafmux" : "amstsmux";
    job.mux_format = cmaf ? "cmaf" : "";
    if (cmaf) job.init_name = dir + manifest::url::hls_init(t.name, fmt);
    for (const manifest::HlsSegment& s : manifest::hls_segments(*presentation, t, format)) {
      job.names.push_back(dir + manifest::url::hls_segment(t.name, s.start_10mhz, fmt));
    }
    AMS_RETURN_IF_ERROR(segments(job));
    if (cmaf || t.type != TrackType::kVideo) continue;
    // The I-frame playlist: one TS per fragment holding its key frame only.
    AMS_RETURN_IF_ERROR(manifest({manifest::url::hls_playlist(t.bitrate, t.name, fmt, {}, true),
                                  format,
                                  t.name,
                                  t.bitrate,
                                  true,
                                  {}}));
    // Each one made alone, as the endpoint makes it: I-frame segments are fetched one by one,
    // so their continuity counters start from the index, not from the previous key frame.
    for (size_t f = 0; f < t.fragments.size(); ++f) {
      SegmentJob keys;
      keys.tracks = {i};
      keys.muxer = "amstsmux";
      keys.key_units_only = true;
      keys.fragment_time = t.fragment_start_10mhz(f);
      keys.names.push_back(dir +
                           manifest::url::hls_keyframe(t.name, t.fragment_start_10mhz(f), fmt));
      AMS_RETURN_IF_ERROR(segments(keys));
    }
  }
  return Status::ok();
}

// HLS v3: each video level with the chosen audio track muxed in, and that audio track alone.
Status Packager::package_hls_v3() {
  const Format format = Format::kHlsV3;
  const std::string fmt(manifest::format_name(format));
  std::optional<size_t> audio;
  for (size_t i = 0; i < presentation->tracks.size(); ++i) {
    const Track& t = presentation->tracks[i];
    if (t.type == TrackType::kAudio && (audio_track.empty() || t.name == audio_track)) {
      audio = i;
      break;
    }
  }
  if (!audio_track.empty() && !audio) return not_found("no audio track \"" + audio_track + "\"");
  const std::string a = audio ? presentation->tracks[*audio].name : "";
  for (size_t i = 0; i < presentation->tracks.size(); ++i) {
    const Track& t = presentation->tracks[i];
    const bool video = t.type == TrackType::kVideo;
    if (!video && i != audio) continue;
    const std::string muxed = video ? a : "";  // audiotrack= of this playlist and its segments
    AMS_RETURN_IF_ERROR(manifest({manifest::url::hls_playlist(t.bitrate, t.name, fmt, muxed),
                                  format, t.name, t.bitrate, false, audio_track}));
    SegmentJob job;
    job.tracks = {i};
    if (video && audio) job.tracks.push_back(*audio);
    job.muxer = "amstsmux";
    for (const manifest::HlsSegment& s : manifest::hls_segments(*presentation, t, format)) {
      job.names.push_back(quality_levels(t) +
                          manifest::url::hls_segment(t.name, s.start_10mhz, fmt, muxed));
    }
    AMS_RETURN_IF_ERROR(segments(job));
  }
  return Status::ok();
}

Status Packager::package(Format format) {
  AMS_RETURN_IF_ERROR(manifest({master_name(format), format, {}, 0, false, audio_track}));
  if (manifest::is_hls(format)) {
    return format == Format::kHlsV3 ? package_hls_v3() : package_hls(format);
  }
  return package_smooth_or_dash(format);
}

int usage_error(const std::string& text) {
  std::fprintf(stderr, "ams package: %s\nRun `ams package --help` for the options.\n",
               text.c_str());
  return 2;
}

}  // namespace

int package_main(int argc, char** argv) {
  gchar* format_arg = nullptr;
  gchar* output = nullptr;
  gchar* audio_track = nullptr;
  const GOptionEntry entries[] = {
      {"format", 'f', 0, G_OPTION_ARG_STRING, &format_arg,
       "fmp4 (Smooth 2.2), fmp4-v20, m3u8-aapl, m3u8-aapl-v3, m3u8-cmaf, mpd-time-csf, "
       "mpd-time-cmaf, or all",
       "FORMAT"},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
       "Folder to write (it plays the role of {name}.ism/)", "DIR"},
      {"audio-track", 0, 0, G_OPTION_ARG_STRING, &audio_track,
       "HLS v3: the audio track muxed into the video (default: the first)", "NAME"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  GLibPtr<GOptionContext> context(g_option_context_new("ASSET.ism"));
  g_option_context_set_summary(
      context.get(),
      "Writes the manifests, playlists and segments of an asset for static hosting, each under\n"
      "the URL path the streaming endpoint serves below {name}.ism/ (docs/package.md).");
  g_option_context_add_main_entries(context.get(), entries, nullptr);
  g_option_context_add_group(context.get(), gst_init_get_option_group());
  GError* error = nullptr;
  const bool parsed = g_option_context_parse(context.get(), &argc, &argv, &error);
  GstPtr<gchar> owned_format(format_arg), owned_output(output), owned_audio(audio_track);
  if (!parsed) {
    std::string text = error->message;
    g_clear_error(&error);
    return usage_error(text);
  }
  if (argc != 2) return usage_error("expected one ASSET.ism");
  if (!output) return usage_error("--output DIR is required");
  if (!format_arg) return usage_error("--format is required");
  std::vector<Format> formats;
  if (std::string(format_arg) == "all") {
    formats.assign(std::begin(kAllFormats), std::end(kAllFormats));
  } else if (std::optional<Format> f = manifest::format_from_name(format_arg)) {
    formats.push_back(*f);
  } else {
    return usage_error(std::string("unknown format \"") + format_arg + "\"");
  }
  gst_init(nullptr, nullptr);
  Result<std::shared_ptr<const Presentation>> presentation = model::build_presentation(argv[1]);
  if (!presentation) {
    std::fprintf(stderr, "ams package: %s: %s\n", argv[1],
                 presentation.status().to_string().c_str());
    return 1;
  }
  Packager packager;
  packager.ism = argv[1];
  packager.out = output;
  packager.audio_track = audio_track ? audio_track : "";
  packager.presentation = presentation->get();
  const auto start = std::chrono::steady_clock::now();
  for (Format format : formats) {
    const size_t before = packager.files;
    Status st = packager.package(format);
    if (!st.is_ok()) {
      std::fprintf(stderr, "ams package: %s: %s\n",
                   std::string(manifest::format_name(format)).c_str(), st.to_string().c_str());
      return 1;
    }
    std::printf("%-14s %s/%s (%zu files)\n", std::string(manifest::format_name(format)).c_str(),
                output, master_name(format).c_str(), packager.files - before);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu files in %.2f s\n", packager.files, seconds);
  return 0;
}

}  // namespace ams::tools
