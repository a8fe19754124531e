// What the index and presentation fuzzers do with a presentation once it is built: everything the
// server derives from the index alone (derive_everything), and the bytes it sends (write_media).
// Nothing may crash, overrun, divide by zero or allocate out of proportion to the input; where two
// paths of the code must agree (a fragment's size from the index and the bytes written for it) a
// disagreement aborts, so that libFuzzer keeps the input.
#pragma once

#include <fcntl.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "fmp4/writer.h"
#include "manifest/manifest.h"
#include "manifest/timeline.h"
#include "model/media_file.h"
#include "model/presentation.h"
#include "model/segments.h"
#include "ts/segment_writer.h"
#include "ts/stream.h"

namespace ams::fuzz {

namespace model = ams::model;
namespace manifest = ams::manifest;
using manifest::Format;

// A folder of this process's own for the files an input becomes: in /dev/shm when there is one,
// as a file created on a disk file system (ext4 /tmp) cost a seventh of a run in the kernel.
inline const std::string& work_dir(const char* prefix) {
  // Never destroyed: the exit handler that removes the folder runs after static destructors.
  static const std::string* dir = [prefix] {
    struct stat st;
    const bool shm =
        stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0;
    std::string name = std::string(shm ? "/dev/shm/" : "/tmp/") + prefix + "-XXXXXX";
    const char* made = mkdtemp(name.data());
    if (made == nullptr) std::abort();
    // The last input's files stay until the process ends (they are rewritten, not removed); with
    // AMS_FUZZ_VERBOSE=1 they are kept to be looked at.
    if (std::getenv("AMS_FUZZ_VERBOSE") == nullptr)
      std::atexit([] {
        std::error_code ignored;
        std::filesystem::remove_all(work_dir(nullptr), ignored);
      });
    return new std::string(made);
  }();
  return *dir;
}

// Every input is written under the same names (files are rewritten in place, not made anew), each
// file with a modification time of its own
// (`stamp`, a count of the inputs): the builder's process-wide presentation cache then replaces
// its entry for the path on every input, instead of keeping the last 256 inputs' presentations.
// Those looked like a leak to libFuzzer after every run (more mallocs than frees), which it
// answers by running the input again and scanning the whole heap (LeakSanitizer): that was most
// of the time an input took. A stamp never repeats, so a file rewritten within one tick of the
// file system's clock (with the same size and a reused inode) is never taken for the last one.
inline void set_mtime(const std::string& path, uint64_t stamp) {
  const struct timespec times[2] = {{static_cast<time_t>(stamp), 0},
                                    {static_cast<time_t>(stamp), 0}};
  if (utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) std::abort();
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size, uint64_t stamp) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
  std::fclose(f);
  set_mtime(path, stamp);
}

inline constexpr Format kFormats[] = {Format::kSmooth,  Format::kSmoothV20, Format::kHlsV4,
                                      Format::kHlsV3,   Format::kHlsCmaf,   Format::kDashCsf,
                                      Format::kDashCmaf};

// The samples of fragments [first, first + count) of `track`.
inline std::span<const model::Sample> samples_of(const model::Track& track, size_t first,
                                                 size_t count) {
  const std::vector<model::Sample>& all = track.samples();
  if (count == 0 || first + count > track.fragments.size()) return {};
  const model::Fragment& a = track.fragments[first];
  const model::Fragment& b = track.fragments[first + count - 1];
  size_t begin = a.first_sample;
  size_t end = static_cast<size_t>(b.first_sample) + b.sample_count;
  if (begin > end || end > all.size()) std::abort();  // the model promises fragments in range
  return std::span<const model::Sample>(all).subspan(begin, end - begin);
}

// The payload of fragments [first, first + count) of a track, read as the server reads it
// (fmp4::read_fragment_payload: the read plan, then preadv), one span per sample.
struct SegmentPayload {
  std::vector<Bytes> buffers;
  std::vector<ByteSpan> spans;
};

inline bool read_payload(const model::Track& track, const model::MediaFile* file, size_t first,
                         size_t count, SegmentPayload& out) {
  if (file == nullptr) return false;
  for (size_t f = first; f < first + count && f < track.fragments.size(); ++f) {
    std::vector<ByteSpan> spans;
    auto got = fmp4::read_fragment_payload(track, f, *file, spans);
    if (!got) return false;  // a damaged file: the server answers an error for this fragment
    if (spans.size() != track.fragments[f].sample_count) std::abort();
    out.spans.insert(out.spans.end(), spans.begin(), spans.end());
    out.buffers.push_back(std::move(got).value());  // the spans point into its heap block
  }
  return true;
}

// Every TS segment's size, as the server's Content-Length and continuity logic need it; with
// `file` (the track's file, and `audio_file` the muxed audio's) the first and last segments are
// written too, from the file's bytes, and must come out at that size.
inline void ts_segments(const model::Presentation& p, const model::Track& track, Format format,
                        const model::MediaFile* file = nullptr,
                        const model::MediaFile* audio_file = nullptr) {
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
    size_t audio_first = s.first_fragment;
    size_t audio_count = 0;
    if (audio != nullptr) {
      // The audio fragments the server muxes with this segment: the same fragment indices.
      in.audio.stream = &*audio_stream;
      audio_count = std::min(s.fragment_count, audio->fragments.size() > s.first_fragment
                                                   ? audio->fragments.size() - s.first_fragment
                                                   : size_t{0});
      in.audio.samples = samples_of(*audio, audio_first, audio_count);
    }
    (void)ams::ts::segment_size(in);
    if (file == nullptr || (n != 0 && n + 1 != segments.size())) continue;
    SegmentPayload mine_payload, audio_payload;
    if (!read_payload(track, file, s.first_fragment, s.fragment_count, mine_payload)) continue;
    mine.payloads = mine_payload.spans;
    if (audio != nullptr) {
      if (!read_payload(*audio, audio_file, audio_first, audio_count, audio_payload)) continue;
      in.audio.payloads = audio_payload.spans;
    }
    ByteWriter out;
    Status written = ams::ts::write_segment(in, out);
    auto size = ams::ts::segment_size(in);
    if (written.is_ok() && size.is_ok() && *size != out.size()) std::abort();
    if (written.is_ok() && out.size() % 188 != 0) std::abort();
  }
}

// What the server's request plan looks up for a media URL of each fragment's time: the segment
// of a TS URL (packed, and one fragment for key frames), the reference timelines that name Smooth
// and DASH fragments, and the continuity counters of every TS segment. A segment found must lie
// inside the track.
inline void plan_requests(const model::Presentation& p, const model::Track& t) {
  auto check = [&](const std::optional<model::Segment>& s) {
    if (s && (s->first_fragment >= t.fragments.size() ||
              s->fragment_count > t.fragments.size() - s->first_fragment)) {
      std::abort();
    }
  };
  const size_t per = manifest::fragments_per_segment(p, Format::kHlsV4);
  const model::Track& smooth = manifest::smooth_reference(p, t);
  const model::Track& dash = manifest::dash_reference(p, t);
  for (size_t i = 0; i < t.fragments.size(); ++i) {
    const int64_t time = t.fragment_start_10mhz(i);
    check(model::segment_at(t, per, time));
    check(model::segment_at(t, 1, time));
  }
  // Smooth and DASH URLs carry the reference track's fragment times.
  for (const model::Track* ref : {&smooth, &dash}) {
    for (size_t j = 0; j < ref->fragments.size(); ++j) {
      std::optional<size_t> k = ref->fragment_at(ref->fragment_start_10mhz(j));
      if (k) check(model::segment(t, 1, *k));
    }
  }
  auto stream = ams::ts::Stream::create(ams::ts::StreamConfig::from_track(t));
  if (!stream.is_ok()) return;
  for (bool keys : {false, true}) {
    for (bool pcr : {false, true}) {
      (void)ams::ts::continuity_table(*stream, t, keys ? 1 : per, keys, pcr);
    }
  }
}

inline void derive_everything(const model::Presentation& p) {
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
      if (f != Format::kHlsCmaf && t.type != model::TrackType::kText) ts_segments(p, t, f);
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
    plan_requests(p, t);
  }
}

// The bytes the server sends, from the files' own bytes: every init segment, the first and last
// fragment of every fMP4 variant (each as write_fragment makes it, and as the header the server
// sends before the samples' own memory), and the first and last TS segment of HLS v4 and v3 (with
// the audio muxed). Each must be exactly the size the index alone gives.
inline void write_media(const model::Presentation& p) {
  std::map<std::string, std::unique_ptr<model::MediaFile>> files;
  auto file_of = [&](const model::Track& t) -> const model::MediaFile* {
    const std::string path = p.path_of(t);
    auto it = files.find(path);
    if (it == files.end()) {
      auto opened = model::MediaFile::open(path);
      it = files.emplace(path, opened ? std::move(opened).value() : nullptr).first;
    }
    return it->second.get();
  };
  for (const model::Track& t : p.tracks) {
    if (t.type == model::TrackType::kText) continue;
    const model::MediaFile* file = file_of(t);
    for (ams::fmp4::Variant v :
         {ams::fmp4::Variant::kCmaf, ams::fmp4::Variant::kDash, ams::fmp4::Variant::kSmooth}) {
      ByteWriter init;
      (void)ams::fmp4::write_init_segment(t, v, init);
      for (size_t i : {size_t{0}, t.fragments.size() - 1}) {
        if (i >= t.fragments.size()) continue;
        SegmentPayload payload;
        if (!read_payload(t, file, i, 1, payload)) continue;
        ByteWriter out;
        Status written = ams::fmp4::write_fragment(t, i, v, {payload.spans}, out);
        auto size = ams::fmp4::fragment_size(t, i, v);
        if (written.is_ok() != size.is_ok()) std::abort();
        if (!written.is_ok()) continue;
        if (*size != out.size()) std::abort();
        ByteWriter header;
        if (!ams::fmp4::write_fragment_header(t, i, v, header).is_ok()) std::abort();
        uint64_t payload_bytes = 0;
        for (ByteSpan s : payload.spans) payload_bytes += s.size();
        if (header.size() + payload_bytes != *size) std::abort();
      }
    }
    const model::Track* audio = nullptr;
    if (t.type == model::TrackType::kVideo) {
      std::vector<const model::Track*> all = p.tracks_of(model::TrackType::kAudio);
      if (!all.empty()) audio = all.front();
    }
    for (Format f : {Format::kHlsV4, Format::kHlsV3}) {
      ts_segments(p, t, f, file, audio != nullptr ? file_of(*audio) : nullptr);
    }
  }
}

// abort(), not GLib's fatal-log breakpoint: libFuzzer keeps the input of a SIGABRT, not a SIGTRAP.
// Each GLib critical is a precondition the input broke (the server only logs them).
inline void abort_on_critical(const gchar* domain, GLogLevelFlags level, const gchar* message,
                              gpointer) {
  g_log_default_handler(domain, level, message, nullptr);
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) std::abort();
}

}  // namespace ams::fuzz
