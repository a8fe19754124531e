// manifest_bench: what one manifest request costs the renderer. A synthetic 2-hour asset (six
// H.264 levels at 30000/1001 fps with 2.002 s fragments, one 48 kHz AAC track whose fragments
// follow the video boundaries, so its durations vary as real AAC does) is rendered in every
// format; prints the time per render, the allocations per render (counted by replacing the
// global operator new) and the text size.
//
//   build/bench/manifest_bench [iterations]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "manifest/manifest.h"
#include "manifest/test_presentations.h"

namespace {

std::atomic<uint64_t> g_allocations{0};
std::atomic<uint64_t> g_allocated_bytes{0};

}  // namespace

// GCC sees free() in a replaced operator delete as a mismatch with operator new: it is not, the
// replaced operator new allocates with malloc.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_allocated_bytes.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using ams::manifest::Format;
namespace t = ams::manifest::test;

constexpr int64_t kVideoTimescale = 30000;
constexpr int64_t kFragmentTicks = 60060;  // 60 frames at 30000/1001 fps
constexpr size_t kFragments = 2 * 3600 * kVideoTimescale / kFragmentTicks;

ams::model::Presentation two_hour_presentation() {
  struct Level {
    uint32_t bitrate, w, h;
    const char* codec;
    const char* sps;
  };
  const Level levels[] = {
      {6000000, 1920, 1080, "avc1.640028", "67640028ACD940780227E5C04400000303E80000EA600F1831960"},
      {3400000, 1280, 720, "avc1.64001f", "6764001FACD9405005BB011000003E90000EA600F1831960"},
      {2250000, 960, 540, "avc1.64001f", "6764001FACD940F0117EF01100000303E90000EA600F183196"},
      {1250000, 640, 360, "avc1.64001e", "6764001EACD940A02FF9701100000303E90000EA600F162D96"},
      {720000, 480, 270, "avc1.640015", "67640015ACD941E08FEB011000003E90000EA600F162D960"},
      {380000, 320, 180, "avc1.64000d", "6764000DACD941419F9F011000003E90000EA600F1429960"},
  };
  ams::model::Presentation p;
  p.name = "movie";
  for (const Level& l : levels) {
    p.tracks.push_back(t::video(l.bitrate, l.w, l.h, l.codec, t::avcc(l.sps, "68EBECB22C"),
                                kVideoTimescale, t::repeat(kFragmentTicks, kFragments)));
  }
  // Audio fragments start at the first 1024-sample AAC frame at or after each video boundary.
  std::vector<int64_t> audio;
  int64_t previous = 0;
  for (size_t i = 1; i <= kFragments; ++i) {
    const int64_t boundary = static_cast<int64_t>(i) * kFragmentTicks * 48000 / kVideoTimescale;
    const int64_t start = (boundary + 1023) / 1024 * 1024;
    audio.push_back(start - previous);
    previous = start;
  }
  p.tracks.push_back(t::aac("aac_eng_2_128041_2_1", "eng", 128041, 48000, audio));
  p.duration_10mhz = p.tracks[0].duration_10mhz();
  return p;
}

struct Case {
  const char* label;
  Format format;
  bool media_playlist;
};

void run(const ams::model::Presentation& p, const Case& c, int iterations) {
  auto render = [&]() {
    return c.media_playlist
               ? ams::manifest::render_media_playlist(p, c.format, p.tracks[0], {}, false)
               : ams::manifest::render_master(p, c.format, {});
  };
  size_t size = 0;
  {
    auto warm = render();
    if (!warm.is_ok()) {
      std::printf("%-28s failed: %s\n", c.label, warm.status().to_string().c_str());
      return;
    }
    size = warm->size();
  }
  std::vector<double> micros;
  uint64_t allocations = 0, bytes = 0;
  for (int i = 0; i < iterations; ++i) {
    const uint64_t a0 = g_allocations.load(), b0 = g_allocated_bytes.load();
    const auto start = std::chrono::steady_clock::now();
    auto text = render();
    const auto end = std::chrono::steady_clock::now();
    allocations = g_allocations.load() - a0;
    bytes = g_allocated_bytes.load() - b0;
    micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(micros.begin(), micros.end());
  std::printf("%-28s %9.0f %9.0f %9zu %10llu %11llu\n", c.label, micros[micros.size() / 2],
              micros.back(), size, static_cast<unsigned long long>(allocations),
              static_cast<unsigned long long>(bytes));
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 50;
  const ams::model::Presentation p = two_hour_presentation();
  std::printf("2-hour asset: 6 video levels + 1 AAC, %zu fragments per track, %d renders each\n\n",
              kFragments, iterations);
  std::printf("%-28s %9s %9s %9s %10s %11s\n", "manifest", "median us", "max us", "bytes", "allocs",
              "alloc bytes");
  const Case cases[] = {
      {"Smooth 2.2 (fmp4)", Format::kSmooth, false},
      {"Smooth 2.0 (fmp4-v20)", Format::kSmoothV20, false},
      {"HLS v4 master", Format::kHlsV4, false},
      {"HLS v3 master", Format::kHlsV3, false},
      {"HLS CMAF master", Format::kHlsCmaf, false},
      {"DASH CSF MPD", Format::kDashCsf, false},
      {"DASH CMAF MPD", Format::kDashCmaf, false},
      {"HLS v4 media playlist 6M", Format::kHlsV4, true},
      {"HLS CMAF media playlist 6M", Format::kHlsCmaf, true},
  };
  for (const Case& c : cases) run(p, c, iterations);
  return 0;
}
