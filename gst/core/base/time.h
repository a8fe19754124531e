// Media time: integer ticks of a timescale, converted exactly (128-bit intermediate, floor), so
// that times computed from absolute positions never drift, however long the asset.
#pragma once

#include <cstdint>

namespace ams {

__extension__ typedef __int128 int128_t;  // exact products of 64-bit times

// The AMS manifest timescale: Smooth and DASH times, and the times in fragment URLs, are in 100 ns.
inline constexpr uint32_t kManifestTimescale = 10'000'000;
inline constexpr uint32_t kMpegTsTimescale = 90'000;

// v * to / from, rounded toward negative infinity. `from` must not be 0.
inline int64_t rescale(int64_t v, uint64_t from, uint64_t to) {
  int128_t n = static_cast<int128_t>(v) * static_cast<int128_t>(to);
  int128_t d = static_cast<int128_t>(from);
  int128_t q = n / d;
  if ((n % d != 0) && ((n < 0) != (d < 0))) --q;
  return static_cast<int64_t>(q);
}

// Same, rounded to the nearest tick (halves away from zero).
inline int64_t rescale_round(int64_t v, uint64_t from, uint64_t to) {
  int128_t n = static_cast<int128_t>(v) * static_cast<int128_t>(to);
  int128_t d = static_cast<int128_t>(from);
  int128_t half = d / 2;
  return static_cast<int64_t>(n >= 0 ? (n + half) / d : -((-n + half) / d));
}

inline double to_seconds(int64_t v, uint64_t timescale) {
  return static_cast<double>(v) / static_cast<double>(timescale);
}

}  // namespace ams
