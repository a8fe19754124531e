// How fast the segment writers turn in-memory payload into CMAF, DASH, Smooth and HLS TS
// segments, next to a plain memcpy of the same payload bytes (the floor any packager pays).
//
//   fragment_write_bench [ASSET.ism|FILE.mp4] [SECONDS_PER_FORMAT]
//
// Without an asset it makes a 30 s 720p one with `ams encode` (found beside this program in the
// build tree, or as $AMS_BUILD_ROOT/tools/ams) in a temporary folder. It takes the highest video
// rung and the first audio track, reads every fragment's payload once, then, per format, writes
// every fragment over and over for the given time (default 1 s) and prints the throughput in
// payload MB/s (1 MB = 10^6 bytes) and as a share of memcpy's. The test pattern compresses to
// almost nothing (~0.4 MB for 30 s): give a real or noisy 720p file for figures that leave the
// caches. The cmaf rows are followed by the same fragments encrypted (cenc, cbcs), whose share of
// the clear cmaf row is what common encryption costs (OpenSSL's AES, AES-NI where the CPU has it).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "fmp4/protection.h"
#include "fmp4/writer.h"
#include "model/builder.h"
#include "model/media_file.h"
#include "ts/segment_writer.h"
#include "ts/stream.h"

namespace {

using ams::Bytes;
using ams::ByteSpan;
using ams::model::Track;
using Clock = std::chrono::steady_clock;

// One track's fragments, read into memory.
struct TrackPayload {
  const Track* track = nullptr;
  std::vector<Bytes> buffers;                // per fragment
  std::vector<std::vector<ByteSpan>> spans;  // per fragment, one span per sample
  uint64_t bytes = 0;
};

bool load(const Track& t, const std::string& dir, TrackPayload& out) {
  std::string path = t.file.starts_with('/') ? t.file : dir + "/" + t.file;
  auto file = ams::model::MediaFile::open(path);
  if (!file) {
    std::fprintf(stderr, "%s\n", file.status().to_string().c_str());
    return false;
  }
  out.track = &t;
  for (size_t i = 0; i < t.fragments.size(); ++i) {
    std::vector<ByteSpan> spans;
    auto payload = ams::fmp4::read_fragment_payload(t, i, **file, spans);
    if (!payload) {
      std::fprintf(stderr, "%s\n", payload.status().to_string().c_str());
      return false;
    }
    out.bytes += payload->size();
    out.buffers.push_back(std::move(payload).value());
    out.spans.push_back(std::move(spans));  // the spans point into the moved vector's heap block
  }
  return true;
}

// Runs `pass` (one write of every fragment; returns the bytes it produced) for at least
// `seconds` and returns payload MB/s.
struct Figure {
  double mb_per_s = 0;
  double output_ratio = 0;  // bytes written / payload bytes
  int passes = 0;
};
Figure measure(double seconds, uint64_t payload_bytes, const std::function<uint64_t()>& pass) {
  Figure f;
  uint64_t written = pass();  // warm-up, and the output size
  auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    pass();
    ++f.passes;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  f.mb_per_s = static_cast<double>(payload_bytes) * f.passes / elapsed / 1e6;
  f.output_ratio = static_cast<double>(written) / static_cast<double>(payload_bytes);
  return f;
}

uint64_t write_fmp4(const TrackPayload& p, ams::fmp4::Variant variant) {
  uint64_t total = 0;
  for (size_t i = 0; i < p.spans.size(); ++i) {
    ams::ByteWriter w;
    if (auto size = ams::fmp4::fragment_size(*p.track, i, variant)) w.reserve(*size);
    ams::fmp4::FragmentPayload payload{p.spans[i]};
    if (!ams::fmp4::write_fragment(*p.track, i, variant, payload, w).is_ok()) std::abort();
    total += w.size();
  }
  return total;
}

uint64_t write_protected(const TrackPayload& p, const ams::fmp4::Protection& protection) {
  uint64_t total = 0;
  for (size_t i = 0; i < p.spans.size(); ++i) {
    ams::ByteWriter w;
    if (auto size = ams::fmp4::fragment_size(*p.track, i, ams::fmp4::Variant::kCmaf)) {
      w.reserve(*size + *size / 16);
    }
    ams::fmp4::FragmentPayload payload{p.spans[i]};
    if (!ams::fmp4::write_protected_fragment(*p.track, i, ams::fmp4::Variant::kCmaf, protection,
                                             payload, w)
             .is_ok()) {
      std::abort();
    }
    total += w.size();
  }
  return total;
}

void print_share(const char* name, const Figure& f, const Figure& clear) {
  std::printf("%-22s %10.0f MB/s  %6.1f%% of clear cmaf  (output/payload %.4f, %d passes)\n", name,
              f.mb_per_s, 100.0 * f.mb_per_s / clear.mb_per_s, f.output_ratio, f.passes);
}

// HLS v3: one TS segment per fragment with the video and the audio of that fragment.
uint64_t write_ts(const TrackPayload& video, const ams::ts::Stream& vs, const TrackPayload* audio,
                  const ams::ts::Stream* as) {
  uint64_t total = 0;
  for (size_t i = 0; i < video.spans.size(); ++i) {
    ams::ts::SegmentInput in;
    in.index = i;
    const auto& vf = video.track->fragments[i];
    in.video = {&vs, std::span(video.track->samples()).subspan(vf.first_sample, vf.sample_count),
                video.spans[i], 0};
    if (audio && i < audio->spans.size()) {
      const auto& af = audio->track->fragments[i];
      in.audio = {as, std::span(audio->track->samples()).subspan(af.first_sample, af.sample_count),
                  audio->spans[i], 0};
    }
    ams::ByteWriter w;
    if (!ams::ts::write_segment(in, w).is_ok()) std::abort();
    total += w.size();
  }
  return total;
}

volatile uint8_t g_sink = 0;

uint64_t copy_all(const std::vector<const TrackPayload*>& tracks, Bytes& dest) {
  uint64_t total = 0;
  for (const TrackPayload* p : tracks) {
    for (const Bytes& b : p->buffers) {
      std::memcpy(dest.data(), b.data(), b.size());
      g_sink = g_sink + dest[b.size() / 2];  // read back, so the copy is not optimised away
      total += b.size();
    }
  }
  return total;
}

std::string make_asset() {
  std::string ams;
  if (const char* root = std::getenv("AMS_BUILD_ROOT")) ams = std::string(root) + "/tools/ams";
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ams.empty() && !ec) ams = (self.parent_path().parent_path() / "tools" / "ams").string();
  char tmpl[] = "/tmp/ams-fragment-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string cmd = ams + " encode --test-source 30 --ladder 720 " + dir + " >/dev/null 2>&1";
  std::printf("making a 30 s 720p asset: %s\n", cmd.c_str());
  if (std::system(cmd.c_str()) != 0) return "";
  return dir + "/testsrc.ism";
}

void print(const char* name, const Figure& f, double memcpy_mb_per_s) {
  std::printf("%-22s %10.0f MB/s  %6.1f%% of memcpy  (output/payload %.4f, %d passes)\n", name,
              f.mb_per_s, 100.0 * f.mb_per_s / memcpy_mb_per_s, f.output_ratio, f.passes);
}

}  // namespace

int main(int argc, char** argv) {
  std::string asset = argc > 1 ? argv[1] : make_asset();
  // A folder this program made is removed when it returns.
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty()) std::filesystem::remove_all(dir);
    }
  } cleanup{argc > 1 || asset.empty() ? "" : std::filesystem::path(asset).parent_path().string()};
  double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  if (asset.empty() || seconds <= 0) {
    std::fprintf(stderr, "usage: fragment_write_bench [ASSET.ism|FILE.mp4] [SECONDS]\n");
    return 2;
  }
  auto built = ams::model::build_presentation(asset);
  if (!built) {
    std::fprintf(stderr, "%s\n", built.status().to_string().c_str());
    return 1;
  }
  const ams::model::Presentation& p = **built;
  auto videos = p.tracks_of(ams::model::TrackType::kVideo);
  auto audios = p.tracks_of(ams::model::TrackType::kAudio);
  if (videos.empty()) {
    std::fprintf(stderr, "%s: no video track\n", asset.c_str());
    return 1;
  }
  const std::string dir = std::filesystem::path(asset).parent_path().string();
  TrackPayload video, audio;
  if (!load(*videos.front(), dir, video)) return 1;
  if (!audios.empty() && !load(*audios.front(), dir, audio)) return 1;
  const TrackPayload* audio_ptr = audios.empty() ? nullptr : &audio;

  std::printf("%s: video %ux%u %u bit/s, %zu fragments, %.2f MB payload; audio %.2f MB\n",
              asset.c_str(), video.track->width, video.track->height, video.track->bitrate,
              video.track->fragments.size(), video.bytes / 1e6, audio.bytes / 1e6);

  size_t largest = 0;
  for (const TrackPayload* t : {&video, &audio}) {
    for (const Bytes& b : t->buffers) largest = std::max(largest, b.size());
  }
  Bytes dest(largest + 1);
  Figure copy_video = measure(seconds, video.bytes, [&] { return copy_all({&video}, dest); });
  print("memcpy (video)", copy_video, copy_video.mb_per_s);
  using ams::fmp4::Variant;
  const ams::fmp4::Block key_id = {0x3f, 0x0c, 1, 2, 3, 4, 0x45, 5, 0x86, 6, 7, 8, 9, 10, 11, 12};
  const ams::fmp4::Block key = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  Figure clear_video;
  for (Variant v : {Variant::kCmaf, Variant::kDash, Variant::kSmooth}) {
    std::string name = std::string(ams::fmp4::variant_name(v)) + " video";
    Figure f = measure(seconds, video.bytes, [&] { return write_fmp4(video, v); });
    if (v == Variant::kCmaf) clear_video = f;
    print(name.c_str(), f, copy_video.mb_per_s);
  }
  for (auto scheme : {ams::fmp4::Scheme::kCenc, ams::fmp4::Scheme::kCbcs}) {
    const auto protection = ams::fmp4::make_protection(scheme, key_id, key, p, *video.track);
    std::string name = std::string("cmaf video ") + ams::fmp4::scheme_name(scheme);
    print_share(name.c_str(),
                measure(seconds, video.bytes, [&] { return write_protected(video, protection); }),
                clear_video);
  }
  if (audio_ptr) {
    Figure copy_audio = measure(seconds, audio.bytes, [&] { return copy_all({&audio}, dest); });
    print("memcpy (audio)", copy_audio, copy_audio.mb_per_s);
    Figure clear_audio =
        measure(seconds, audio.bytes, [&] { return write_fmp4(audio, Variant::kCmaf); });
    print("cmaf audio", clear_audio, copy_audio.mb_per_s);
    for (auto scheme : {ams::fmp4::Scheme::kCenc, ams::fmp4::Scheme::kCbcs}) {
      const auto protection = ams::fmp4::make_protection(scheme, key_id, key, p, *audio.track);
      std::string name = std::string("cmaf audio ") + ams::fmp4::scheme_name(scheme);
      print_share(name.c_str(),
                  measure(seconds, audio.bytes, [&] { return write_protected(audio, protection); }),
                  clear_audio);
    }
  }

  auto vs = ams::ts::Stream::create(ams::ts::StreamConfig::from_track(*video.track));
  if (!vs) {
    std::fprintf(stderr, "%s\n", vs.status().to_string().c_str());
    return 1;
  }
  std::optional<ams::ts::Stream> as;
  if (audio_ptr) {
    auto created = ams::ts::Stream::create(ams::ts::StreamConfig::from_track(*audio.track));
    if (created) as = std::move(created).value();
  }
  std::vector<const TrackPayload*> both = {&video};
  if (as) both.push_back(&audio);
  uint64_t both_bytes = video.bytes + (as ? audio.bytes : 0);
  Figure copy_both = measure(seconds, both_bytes, [&] { return copy_all(both, dest); });
  print("memcpy (video+audio)", copy_both, copy_both.mb_per_s);
  print("hls ts video+audio",
        measure(seconds, both_bytes,
                [&] { return write_ts(video, *vs, as ? &audio : nullptr, as ? &*as : nullptr); }),
        copy_both.mb_per_s);
  return 0;
}
