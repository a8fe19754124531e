// The pipelines of `ams package`: one that renders a manifest to a file, and one that writes
// every segment of a track (or of a video track with its muxed audio) to one file each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "manifest/manifest.h"

namespace ams::tools {

// amsdemux ! amsmanifestsink, written to `out`/`name`.
struct ManifestJob {
  std::string name;  // path below the output folder
  manifest::Format format = manifest::Format::kSmooth;
  std::string track;  // empty: the master manifest
  uint32_t bitrate = 0;
  bool keyframes = false;
  std::string audio_track;
};
Status run_manifest_pipeline(const std::string& ism, const std::string& out,
                             const ManifestJob& job);

// amsdemux tracks=#i[,#j] ! muxer ! appsink: the muxer's header buffer goes to `init_name` (when
// set) and its k-th buffer list to `names[k]`; anything else is an error.
struct SegmentJob {
  std::vector<size_t> tracks;   // presentation track indices; two for HLS v3 (video, audio)
  std::string muxer;            // amscmafmux or amstsmux
  std::string mux_format;       // amscmafmux format: cmaf, dash, smooth
  bool key_units_only = false;  // HLS I-frame segments: one key frame per fragment
  // >= 0: only the fragment starting there (10 MHz), as the endpoint makes a segment on request.
  int64_t fragment_time = -1;
  std::string init_name;
  std::vector<std::string> names;

  // Identifies the bytes: two jobs with equal keys write the same files.
  std::string key() const;
};
Status run_segment_pipeline(const std::string& ism, const std::string& out, const SegmentJob& job);

}  // namespace ams::tools
