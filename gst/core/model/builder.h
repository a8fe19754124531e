// Builds the presentation of an asset: an .ism with the MP4 files it names, one MP4 file, or a
// folder of MP4 files (its one .ism if it has exactly one, else every .mp4 in it).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "model/index_cache.h"
#include "model/presentation.h"
#include "model/timeline.h"

namespace ams::model {

struct BuildOptions {
  TimelineOptions timeline;
  size_t max_files = 256;  // MP4 files one asset may name
};

// Files are resolved inside the asset's folder (never outside it, symlinks included). Presentations
// are cached: an unchanged asset (the .ism and every file it uses) returns the same object.
Result<std::shared_ptr<const Presentation>> build_presentation(
    const std::string& path, IndexCache& cache = IndexCache::shared(),
    const BuildOptions& options = {});

// The cached presentation of `path` if it is still what the files say (a stat() of each input),
// else nullptr: never reads an index, so a caller that must not wait can try it first.
std::shared_ptr<const Presentation> cached_presentation(const std::string& path);

// The AMS name of an audio track the .ism does not name:
// {codec}_{lang}_{channels}_{bitrate}_{id}_1.
std::string ams_audio_track_name(const Track& t, uint32_t file_track_id);

}  // namespace ams::model
