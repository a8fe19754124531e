// ams encode: make an asset as the AMS encoder leaves one (an H.264/AAC MP4 ladder and its .ism)
// from a media file or from a moving test pattern.

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "encode_pipeline.h"
#include "encode_plan.h"
#include "glib_ptr.h"
#include "manifest/manifest.h"
#include "model/builder.h"
#include "smil/ism.h"

namespace ams::tools {
namespace {

constexpr char kDefaultLadder[] = "1080,720,540,360,270,180";
constexpr double kMainToneHz = 440;

struct Options {
  gchar* name = nullptr;
  gchar* ladder = nullptr;
  double gop_seconds = 2;
  int audio_kbps = 128;
  double test_seconds = 0;
  int width = 1280;
  int height = 720;
  gchar* fps = nullptr;
  gchar* language = nullptr;
  gchar* audio_languages = nullptr;
  gchar* preset = nullptr;

  Options() = default;
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
  ~Options() {
    for (gchar* s : {name, ladder, fps, language, audio_languages, preset}) g_free(s);
  }
};

// What the encode needs to know about its input before the pipeline is built.
struct SourceInfo {
  int width = 0;
  int height = 0;
  int par_n = 1;
  int par_d = 1;
  int fps_n = 0;  // 0: unknown or variable
  int fps_d = 1;
  unsigned video_streams = 0;
  unsigned audio_streams = 0;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
};

Result<SourceInfo> discover(const std::string& path) {
  GError* error = nullptr;
  GLibPtr<GstDiscoverer> discoverer(gst_discoverer_new(60 * GST_SECOND, &error));
  if (!discoverer) {
    std::string text = error != nullptr ? error->message : "cannot create a discoverer";
    g_clear_error(&error);
    return Status(StatusCode::kIo, text);
  }
  GstPtr<gchar> uri(gst_filename_to_uri(path.c_str(), &error));
  GLibPtr<GstDiscovererInfo> info;
  if (uri) info.reset(gst_discoverer_discover_uri(discoverer.get(), uri.get(), &error));
  if (!info || gst_discoverer_info_get_result(info.get()) != GST_DISCOVERER_OK) {
    std::string text = error != nullptr ? error->message : "cannot read the media";
    g_clear_error(&error);
    return Status(StatusCode::kInvalidData, path + ": " + text);
  }
  g_clear_error(&error);
  SourceInfo source;
  source.duration = gst_discoverer_info_get_duration(info.get());
  GList* videos = gst_discoverer_info_get_video_streams(info.get());
  GList* audios = gst_discoverer_info_get_audio_streams(info.get());
  source.video_streams = g_list_length(videos);
  source.audio_streams = g_list_length(audios);
  if (videos != nullptr) {
    auto* video = GST_DISCOVERER_VIDEO_INFO(videos->data);
    source.width = static_cast<int>(gst_discoverer_video_info_get_width(video));
    source.height = static_cast<int>(gst_discoverer_video_info_get_height(video));
    source.par_n = static_cast<int>(gst_discoverer_video_info_get_par_num(video));
    source.par_d = static_cast<int>(gst_discoverer_video_info_get_par_denom(video));
    source.fps_n = static_cast<int>(gst_discoverer_video_info_get_framerate_num(video));
    source.fps_d = static_cast<int>(gst_discoverer_video_info_get_framerate_denom(video));
  }
  gst_discoverer_stream_info_list_free(videos);
  gst_discoverer_stream_info_list_free(audios);
  return source;
}

bool parse_fps(const char* text, int* n, int* d) {
  unsigned num = 0;
  unsigned den = 1;
  char extra = 0;
  int fields = std::sscanf(text, "%u/%u%c", &num, &den, &extra);
  if (fields < 1 || fields > 2 || num == 0 || den == 0 || num > 1000000 || den > 1000000 ||
      static_cast<double>(num) / den > 240) {
    return false;
  }
  *n = static_cast<int>(num);
  *d = static_cast<int>(den);
  return true;
}

std::string stem_of(const std::string& path) {
  GstPtr<gchar> base(g_path_get_basename(path.c_str()));
  std::string stem = base.get();
  size_t dot = stem.rfind('.');
  if (dot != std::string::npos && dot > 0) stem.resize(dot);
  return stem;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "ams encode: %s\nRun `ams encode --help` for the options.\n",
               message.c_str());
  return 2;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "ams encode: %s\n", message.c_str());
  return 1;
}

// Reads each output back: it exists, is not empty and holds the streams it should.
Status check_output(const std::string& path, const Rung* rung, bool audio) {
  GStatBuf st;
  if (g_stat(path.c_str(), &st) != 0 || st.st_size == 0) {
    return Status(StatusCode::kIo, path + ": missing or empty");
  }
  AMS_ASSIGN_OR_RETURN(SourceInfo info, discover(path));
  unsigned want_video = rung != nullptr ? 1 : 0;
  unsigned want_audio = audio ? 1 : 0;
  if (info.video_streams != want_video || info.audio_streams != want_audio) {
    return Status(StatusCode::kInvalidData,
                  path + ": " + std::to_string(info.video_streams) + " video and " +
                      std::to_string(info.audio_streams) + " audio streams, expected " +
                      std::to_string(want_video) + " and " + std::to_string(want_audio));
  }
  if (rung != nullptr && (info.width != rung->width || info.height != rung->height)) {
    return Status(StatusCode::kInvalidData, path + ": " + std::to_string(info.width) + "x" +
                                                std::to_string(info.height) + ", expected " +
                                                std::to_string(rung->width) + "x" +
                                                std::to_string(rung->height));
  }
  return Status::ok();
}

std::string describe_plan(const EncodeJob& job) {
  std::string text;
  for (const EncodeJob::Video& video : job.videos) {
    text += "  " + std::to_string(video.rung.width) + "x" + std::to_string(video.rung.height) +
            " " + std::to_string(video.rung.video_kbps) + " kbit/s\n";
  }
  return text;
}

// Parses argv into `opt` and the positional arguments; returns an exit status when done already.
std::optional<int> parse_options(int argc, char** argv, Options& opt,
                                 std::vector<std::string>& positional) {
  const GOptionEntry entries[] = {
      {"name", 'n', 0, G_OPTION_ARG_STRING, &opt.name,
       "File name stem of the asset (default: the input's name, or \"testsrc\")", "BASE"},
      {"ladder", 0, 0, G_OPTION_ARG_STRING, &opt.ladder,
       "Rung heights, each with an optional video kbit/s; rungs taller than the source are "
       "dropped (default: 1080,720,540,360,270,180)",
       "H[:KBPS],..."},
      {"gop", 0, 0, G_OPTION_ARG_DOUBLE, &opt.gop_seconds,
       "GOP length in seconds, rounded to whole frames (default: 2)", "SECONDS"},
      {"audio-bitrate", 0, 0, G_OPTION_ARG_INT, &opt.audio_kbps,
       "AAC-LC bitrate in kbit/s (default: 128)", "KBPS"},
      {"language", 'l', 0, G_OPTION_ARG_STRING, &opt.language,
       "Language of the audio, ISO 639-2 (default: und)", "LANG"},
      {"audio-languages", 0, 0, G_OPTION_ARG_STRING, &opt.audio_languages,
       "Audio languages: the first is muxed with the video, each further one gets an audio-only "
       "MP4 holding a tone of its own pitch",
       "LANG,LANG,..."},
      {"test-source", 0, 0, G_OPTION_ARG_DOUBLE, &opt.test_seconds,
       "Encode a moving test pattern and a sine tone of this length instead of an input",
       "SECONDS"},
      {"width", 0, 0, G_OPTION_ARG_INT, &opt.width, "Test pattern width (default: 1280)", "W"},
      {"height", 0, 0, G_OPTION_ARG_INT, &opt.height, "Test pattern height (default: 720)", "H"},
      {"fps", 0, 0, G_OPTION_ARG_STRING, &opt.fps,
       "Output frame rate, e.g. 30 or 30000/1001 (default: the input's, 30 for a test pattern "
       "or a variable-rate input)",
       "N[/D]"},
      {"preset", 0, 0, G_OPTION_ARG_STRING, &opt.preset, "x264 speed preset (default: veryfast)",
       "PRESET"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  GLibPtr<GOptionContext> context(
      g_option_context_new("INPUT OUTDIR | --test-source SECONDS OUTDIR"));
  g_option_context_set_summary(
      context.get(),
      "Encodes an H.264 ladder with 2-second closed GOPs aligned across rungs and AAC-LC stereo\n"
      "48 kHz audio muxed into every rung, named as the AMS encoder names its output\n"
      "({base}_{W}x{H}_AACAudio_{kbps}.mp4), and writes {base}.ism beside them.");
  g_option_context_add_main_entries(context.get(), entries, nullptr);
  GError* error = nullptr;
  if (!g_option_context_parse(context.get(), &argc, &argv, &error)) {
    std::string text = error->message;
    g_clear_error(&error);
    return usage_error(text);
  }
  positional.assign(argv + 1, argv + argc);
  return std::nullopt;
}

// Checks the options, reads the input's properties and decides the files; returns an exit status
// on failure.
std::optional<int> plan_encode(const Options& opt, const std::vector<std::string>& positional,
                               EncodeJob& job, AssetPlan& plan) {
  if (!(opt.test_seconds >= 0 && opt.test_seconds <= 24 * 3600)) {
    return usage_error("--test-source: expected 0 to 86400 seconds");
  }
  bool test_source = opt.test_seconds > 0;
  if (positional.size() != (test_source ? 1u : 2u)) {
    return usage_error(test_source ? "expected OUTDIR" : "expected INPUT OUTDIR");
  }
  if (!(opt.gop_seconds >= 0.1 && opt.gop_seconds <= 20)) {
    return usage_error("--gop: expected 0.1 to 20 seconds");
  }
  if (opt.audio_kbps < 16 || opt.audio_kbps > 512) {
    return usage_error("--audio-bitrate: expected 16 to 512 kbit/s");
  }
  if (opt.width < 16 || opt.width > 7680 || opt.width % 2 != 0 || opt.height < 16 ||
      opt.height > 4320 || opt.height % 2 != 0) {
    return usage_error("--width/--height: expected even sizes up to 7680x4320");
  }
  Result<std::vector<RungRequest>> ladder = parse_ladder(opt.ladder ? opt.ladder : kDefaultLadder);
  if (!ladder) return usage_error(ladder.status().message());
  if (opt.language != nullptr && opt.audio_languages != nullptr) {
    return usage_error("give --language or --audio-languages, not both");
  }
  Result<std::vector<std::string>> languages = parse_languages(
      opt.audio_languages ? opt.audio_languages : (opt.language ? opt.language : "und"));
  if (!languages) return usage_error(languages.status().message());
  job.speed_preset = opt.preset ? opt.preset : "veryfast";
  if (!is_valid_base(job.speed_preset) ||
      job.speed_preset.find_first_of(" \"!=") != std::string::npos) {
    return usage_error("--preset: not a preset name");
  }

  SourceInfo source;
  if (test_source) {
    source.width = job.test_width = opt.width;
    source.height = job.test_height = opt.height;
    source.fps_n = 30;
    source.audio_streams = 1;
    source.video_streams = 1;
    source.duration = static_cast<GstClockTime>(std::llround(opt.test_seconds * GST_SECOND));
  } else {
    job.input_path = positional.front();
    if (!g_file_test(job.input_path.c_str(), G_FILE_TEST_IS_REGULAR)) {
      return fail(job.input_path + ": no such file");
    }
    Result<SourceInfo> discovered = discover(job.input_path);
    if (!discovered) return fail(discovered.status().message());
    source = *discovered;
    if (source.video_streams == 0) return fail(job.input_path + ": no video stream");
    if (!GST_CLOCK_TIME_IS_VALID(source.duration)) {
      return fail(job.input_path + ": unknown duration");
    }
  }
  job.fps_n = source.fps_n > 0 ? source.fps_n : 30;
  job.fps_d = source.fps_n > 0 ? source.fps_d : 1;
  if (opt.fps != nullptr && !parse_fps(opt.fps, &job.fps_n, &job.fps_d)) {
    return usage_error("--fps: expected N or N/D, at most 240");
  }
  // A whole number of frames: 29.97 fps gives 60-frame (2.002 s) GOPs, as the AMS encoder does.
  job.gop_frames =
      static_cast<uint32_t>(std::max(1L, std::lround(opt.gop_seconds * job.fps_n / job.fps_d)));
  job.duration = source.duration;

  plan.base = opt.name ? opt.name : (test_source ? "testsrc" : stem_of(job.input_path));
  if (!is_valid_base(plan.base)) {
    return usage_error("'" + plan.base + "' cannot be a file name; give --name");
  }
  plan.rungs = plan_ladder(*ladder, source.width, source.height, source.par_n, source.par_d);
  if (source.audio_streams > 0) {
    plan.audio = AudioPlan{static_cast<uint32_t>(opt.audio_kbps), *languages};
  } else if (opt.language != nullptr || opt.audio_languages != nullptr) {
    return fail(job.input_path + ": no audio stream to label with a language");
  }

  const std::string& outdir = positional.back();
  for (const Rung& rung : plan.rungs) {
    job.videos.push_back({rung, outdir + G_DIR_SEPARATOR_S + rung_file_name(plan, rung)});
  }
  if (plan.audio) {
    job.audio = true;
    job.audio_kbps = plan.audio->kbps;
    job.audio_language = plan.audio->languages.front();
    for (size_t i = 1; i < plan.audio->languages.size(); ++i) {
      const std::string& language = plan.audio->languages[i];
      job.extra_audio.push_back({language,
                                 outdir + G_DIR_SEPARATOR_S + extra_audio_file_name(plan, language),
                                 kMainToneHz + 220.0 * static_cast<double>(i)});
    }
  }
  return std::nullopt;
}

Status write_text(const std::string& path, const std::string& text) {
  GError* error = nullptr;
  if (!g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), &error)) {
    std::string message = error->message;
    g_clear_error(&error);
    return io_error(message);
  }
  return Status::ok();
}

// Checks every file the pipeline wrote, then writes the .ism and .ismc and lists the asset on
// stdout.
int publish(const EncodeJob& job, const AssetPlan& plan, const std::string& outdir) {
  std::vector<std::string> written;
  for (const EncodeJob::Video& video : job.videos) {
    Status checked = check_output(video.path, &video.rung, job.audio);
    if (!checked) return fail(checked.message());
    written.push_back(video.path);
  }
  for (const EncodeJob::ExtraAudio& extra : job.extra_audio) {
    Status checked = check_output(extra.path, nullptr, true);
    if (!checked) return fail(checked.message());
    written.push_back(extra.path);
  }
  std::string ism_path = outdir + G_DIR_SEPARATOR_S + plan.base + ".ism";
  std::string ismc_name = plan.base + ".ismc";
  smil::Ism ism = make_ism(plan);
  ism.client_manifest_relative_path = ismc_name;
  if (Status s = write_text(ism_path, smil::write_ism(ism)); !s) return fail(s.message());
  // The client manifest is the Smooth manifest of the asset, rendered from its index as the
  // endpoint would serve it (AMS keeps it beside the .ism for the same reason: startup speed).
  auto presentation = model::build_presentation(ism_path);
  if (!presentation) return fail(ism_path + ": " + presentation.status().to_string());
  auto ismc = manifest::render_master(**presentation, manifest::Format::kSmooth, {});
  if (!ismc) return fail(ismc.status().to_string());
  std::string ismc_path = outdir + G_DIR_SEPARATOR_S + ismc_name;
  if (Status s = write_text(ismc_path, *ismc); !s) return fail(s.message());
  for (const std::string& path : written) std::printf("%s\n", path.c_str());
  std::printf("%s\n%s\n", ism_path.c_str(), ismc_path.c_str());
  return 0;
}

}  // namespace

int encode_main(int argc, char** argv) {
  GError* error = nullptr;
  if (!gst_init_check(nullptr, nullptr, &error)) {
    std::string text = error->message;
    g_clear_error(&error);
    return fail("cannot initialise GStreamer: " + text);
  }
  Options opt;
  std::vector<std::string> positional;
  if (std::optional<int> done = parse_options(argc, argv, opt, positional)) return *done;
  EncodeJob job;
  AssetPlan plan;
  if (std::optional<int> failed = plan_encode(opt, positional, job, plan)) return *failed;
  const std::string& outdir = positional.back();
  if (g_mkdir_with_parents(outdir.c_str(), 0755) != 0) {
    return fail(outdir + ": cannot create the folder");
  }

  std::fprintf(stderr, "ams encode: %s, %d/%d fps, GOP %u frames, %.1f s%s\n%s",
               job.input_path.empty() ? "test pattern" : job.input_path.c_str(), job.fps_n,
               job.fps_d, job.gop_frames, static_cast<double>(job.duration) / GST_SECOND,
               plan.audio ? "" : ", no audio", describe_plan(job).c_str());
  Status status = run_encode_pipeline(job);
  if (!status) return fail(status.message());
  return publish(job, plan, outdir);
}

}  // namespace ams::tools
