// libFuzzer target over the path every request of the server takes through an asset's index: the
// input becomes a file, model::build_presentation reads it, and if that succeeds everything the
// server derives from the index alone is computed: the master manifest of every format (with and
// without audiotrack= / audio-only=false), every HLS media and I-frame playlist, every init
// segment, the size of every fragment of every fMP4 variant and of every TS segment (HLS v4 alone,
// HLS v3 with the audio muxed) with its continuity counters. Nothing may crash, overrun, divide by
// zero or allocate out of proportion to the input (issue 11, item 3).
//
// An input is one MP4 file; an input that starts with '<' is, after that byte, an .ism up to its
// first NUL byte, then the MP4 it may name as "a.mp4" (a WebVTT "a.vtt" is there too), so that
// the .ism-driven parts of the builder (text streams, track selection) are reached as well. GLib
// criticals abort: each is a precondition the input broke (the server only logs them).
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "fmp4/writer.h"
#include "manifest/manifest.h"
#include "model/builder.h"
#include "model/index_cache.h"
#include "ts/segment_writer.h"
#include "ts/stream.h"

namespace {

namespace model = ams::model;
namespace manifest = ams::manifest;
using manifest::Format;

const std::string& work_dir() {
  static const std::string dir = [] {
    char name[] = "/tmp/index_fuzzer-XXXXXX";
    const char* made = mkdtemp(name);
    if (made == nullptr) std::abort();
    return std::string(made);
  }();
  return dir;
}

void write(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
  std::fclose(f);
}

constexpr Format kFormats[] = {Format::kSmooth,  Format::kSmoothV20, Format::kHlsV4,
                               Format::kHlsV3,   Format::kHlsCmaf,   Format::kDashCsf,
                               Format::kDashCmaf};

// The samples of fragments [first, first + count) of `track`.
std::span<const model::Sample> samples_of(const model::Track& track, size_t first, size_t count) {
  const std::vector<model::Sample>& all = track.samples();
  if (count == 0 || first + count > track.fragments.size()) return {};
  const model::Fragment& a = track.fragments[first];
  const model::Fragment& b = track.fragments[first + count - 1];
  size_t begin = a.first_sample;
  size_t end = static_cast<size_t>(b.first_sample) + b.sample_count;
  if (begin > end || end > all.size()) std::abort();  // the model promises fragments in range
  return std::span<const model::Sample>(all).subspan(begin, end - begin);
}

// Every TS segment's size, as the server's Content-Length and continuity logic need it.
void ts_sizes(const model::Presentation& p, const model::Track& track, Format format) {
  auto stream = ams::ts::Stream::create(ams::ts::StreamConfig::from_track(track));
  if (!stream.is_ok()) return;
  const model::Track* audio = nullptr;
  std::optional<ams::ts::Stream> audio_stream;
  if (format == Format::kHlsV3 && track.type == model::TrackType::kVideo) {
    for (const model::Track* a : p.tracks_of(model::TrackType::kAudio)) {
      auto s = ams::ts::Stream::create(ams::ts::StreamConfig::from_track(*a));
      if (s.is_ok()) {
        audio = a;
        audio_stream = std::move(s).value();
        break;
      }
    }
  }
  std::vector<manifest::HlsSegment> segments = manifest::hls_segments(p, track, format);
  std::vector<uint32_t> starts;
  for (const manifest::HlsSegment& s : segments) {
    if (s.first_fragment >= track.fragments.size()) std::abort();
    starts.push_back(track.fragments[s.first_fragment].first_sample);
  }
  const bool video = stream->is_video();
  for (size_t n = 0; n < segments.size(); ++n) {
    const manifest::HlsSegment& s = segments[n];
    ams::ts::SegmentInput in;
    in.index = n;
    ams::ts::TrackSegment& mine = video ? in.video : in.audio;
    mine.stream = &*stream;
    mine.samples = samples_of(track, s.first_fragment, s.fragment_count);
    auto cc = ams::ts::continuity_at(*stream, track.samples(), starts, n, video);
    mine.continuity = cc.is_ok() ? *cc : 0;
    if (audio != nullptr) {
      // The audio fragments the server muxes with this segment: the same fragment indices.
      in.audio.stream = &*audio_stream;
      size_t count = std::min(s.fragment_count, audio->fragments.size() > s.first_fragment
                                                    ? audio->fragments.size() - s.first_fragment
                                                    : size_t{0});
      in.audio.samples = samples_of(*audio, s.first_fragment, count);
    }
    (void)ams::ts::segment_size(in);
  }
}

void derive_everything(const model::Presentation& p) {
  manifest::Options plain;
  manifest::Options other;
  other.audio_only = false;
  std::vector<const model::Track*> audio = p.tracks_of(model::TrackType::kAudio);
  other.audio_track = audio.empty() ? "nope" : audio.back()->name;
  for (Format f : kFormats) {
    (void)manifest::render_master(p, f, plain);
    (void)manifest::render_master(p, f, other);
    if (!manifest::is_hls(f)) continue;
    for (const model::Track& t : p.tracks) {
      (void)manifest::render_media_playlist(p, f, t, plain, false);
      (void)manifest::render_media_playlist(p, f, t, other, false);
      (void)manifest::render_media_playlist(p, f, t, plain, true);
      if (f != Format::kHlsCmaf && t.type != model::TrackType::kText) ts_sizes(p, t, f);
    }
  }
  for (const model::Track& t : p.tracks) {
    if (t.type == model::TrackType::kText) continue;
    for (ams::fmp4::Variant v :
         {ams::fmp4::Variant::kCmaf, ams::fmp4::Variant::kDash, ams::fmp4::Variant::kSmooth}) {
      ams::ByteWriter init;
      (void)ams::fmp4::write_init_segment(t, v, init);
      for (size_t i = 0; i < t.fragments.size(); ++i) {
        (void)t.fragment_start_10mhz(i);
        (void)ams::fmp4::fragment_size(t, i, v);
      }
    }
    (void)t.duration_10mhz();
  }
}

// abort(), not GLib's fatal-log breakpoint: libFuzzer keeps the input of a SIGABRT, not a SIGTRAP.
void abort_on_critical(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  g_log_default_handler(domain, level, message, nullptr);
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_log_set_default_handler(abort_on_critical, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A new name per input: the builder caches presentations by path, size and mtime.
  static uint64_t counter = 0;
  const std::string dir = work_dir() + "/" + std::to_string(counter++ % 1000);
  std::string path;
  std::vector<std::string> files;
  if (size > 0 && data[0] == '<') {
    const uint8_t* nul = static_cast<const uint8_t*>(memchr(data, 0, size));
    size_t ism_end = nul != nullptr ? static_cast<size_t>(nul - data) : size;
    size_t mp4_at = nul != nullptr ? ism_end + 1 : size;
    mkdir(dir.c_str(), 0700);
    path = dir + "/a.ism";
    write(path, data + 1, ism_end - 1);
    write(dir + "/a.mp4", data + mp4_at, size - mp4_at);
    static const char vtt[] = "WEBVTT\n\n00:00.000 --> 00:01.000\nx\n";
    write(dir + "/a.vtt", reinterpret_cast<const uint8_t*>(vtt), sizeof(vtt) - 1);
    files = {path, dir + "/a.mp4", dir + "/a.vtt"};
  } else {
    path = dir + ".mp4";
    write(path, data, size);
    files = {path};
  }
  {
    model::IndexCache cache;
    auto presentation = model::build_presentation(path, cache);
    if (presentation.is_ok()) derive_everything(**presentation);
  }
  for (const std::string& f : files) unlink(f.c_str());
  if (files.size() > 1) rmdir(dir.c_str());
  return 0;
}
