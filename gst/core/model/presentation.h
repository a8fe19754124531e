// The presentation model: one value that every input fills and every output reads.
//
//   Presentation -> Track[] -> (SampleTable shared with the index cache, Fragment timeline)
//
// Times are integer ticks of the track's own timescale. A sample's presentation time is
// dts + cts_offset, where cts_offset already has the edit list and the presentation's alignment
// applied (docs/asset-model.md, "Times"): no presented sample starts before 0, and the tracks of a
// presentation start together. Fragment URL times are the fragment start converted to the AMS
// manifest timescale (10 MHz) with ams::rescale, from absolute values, never by summing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/time.h"

namespace ams::text {
struct WebVtt;
}

namespace ams::model {

enum class TrackType { kVideo, kAudio, kText };
enum class Codec { kH264, kH265, kAac, kAc3, kEac3, kWebVtt, kUnknown };

const char* track_type_name(TrackType t);  // "video", "audio", "text"
const char* codec_name(Codec c);           // "h264", "h265", "aac", "ac3", "eac3", "webvtt"

struct Sample {
  uint64_t offset = 0;    // byte offset of the payload in the track's file
  uint32_t size = 0;      // payload size in bytes
  uint32_t duration = 0;  // ticks
  int64_t dts = 0;        // decode time, ticks, as stored in the file (starts at 0)
  int32_t cts_offset =
      0;              // presentation time minus dts, edit list and alignment applied (may be < 0)
  bool sync = false;  // a random access point (IDR for video; every audio sample)

  int64_t pts() const { return dts + cts_offset; }
};

// The samples of one track. A file's index holds every sample, with the edit list mapped onto the
// composition offsets (so a primed audio frame presents before 0); a presentation holds the
// samples it presents, aligned (model/align.h), sharing the file's table when nothing changed.
// Immutable once built.
struct SampleTable {
  std::vector<Sample> samples;
  // How far decode times run ahead of presentation times at most: max(0, max(dts - pts)). MPEG-TS
  // (DTS = dts - decode_lead) and GStreamer buffers (PTS = pts + decode_lead) use it to keep every
  // DTS at or before its PTS without a negative time.
  int64_t decode_lead = 0;
  // Where the file's edit list ends the track, in presentation ticks (edit-mapped, like pts):
  // samples presented from there on are trimmed. None: the media plays to its end.
  std::optional<int64_t> edit_end;
};

// decode_lead of a run of samples.
int64_t decode_lead_of(const std::vector<Sample>& samples);

// One fragment of one track: a run of samples starting on a sync sample. Fragments of tracks of
// one type are aligned in time; audio fragments start at the first audio sample at or after the
// matching video boundary.
struct Fragment {
  uint32_t first_sample = 0;
  uint32_t sample_count = 0;
  int64_t start = 0;     // presentation time of the first sample, ticks (== its dts + cts_offset)
  int64_t duration = 0;  // ticks, up to the next fragment's start (the last: to the track's end)
};

struct Track {
  TrackType type = TrackType::kVideo;
  Codec codec = Codec::kUnknown;
  std::string name;      // AMS track name: "video", "aac_eng_2_128041_2_1"
  std::string language;  // ISO 639-2 three-letter, as the .ism writes it ("eng", "und")
  uint32_t bitrate = 0;  // bits/s: the .ism systemBitrate, else measured from the samples
  uint32_t timescale = 0;

  // Video
  uint32_t width = 0;
  uint32_t height = 0;
  // Audio
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  uint32_t bits_per_sample = 16;

  std::string fourcc;  // sample entry type as in the file: avc1, avc3, hvc1, hev1, mp4a, ac-3, ec-3
  std::string codec_string;  // RFC 6381: "avc1.64001f", "mp4a.40.2", "hvc1.1.6.L93.B0", "ec-3"
  Bytes codec_private;       // avcC / hvcC record, AudioSpecificConfig, dac3 / dec3 payload
  uint32_t max_sample_size = 0;

  std::string file;  // path of the MP4 relative to the asset folder (or absolute for one file)
  uint32_t file_track_id = 0;  // track_ID inside that file
  std::string role;            // "main", "alternate", ... from the .ism param
  std::string accessibility;   // "description", "caption", ... from the .ism param
  // Video: the CEA-608 channels its SEI carries, CC1..CC4 as bits 0..3 (codec/captions.h), found
  // in its first samples when the presentation is built; the manifests signal them.
  uint8_t cea608_channels = 0;

  std::shared_ptr<const SampleTable> table;  // null for text side-car tracks
  // A WebVTT side-car's cues, read whole when the presentation is built (the side-car is its own
  // index: text/webvtt.h); a side-car that does not parse is left out of the presentation.
  std::shared_ptr<const text::WebVtt> webvtt;
  std::vector<Fragment> fragments;
  // Fragments of the track before fragments[0] that a filter trimmed (filter/filter.h): the
  // index of fragments[0] in the unfiltered track (HLS numbers its segments from it).
  size_t fragment_base = 0;
  int64_t duration = 0;  // presentation duration, ticks (of the fragments listed)

  const std::vector<Sample>& samples() const;
  // Index of the fragment whose start, in 10 MHz, equals `time_10mhz`.
  std::optional<size_t> fragment_at(int64_t time_10mhz) const;
  int64_t fragment_start_10mhz(size_t i) const {
    return rescale(fragments[i].start, timescale, kManifestTimescale);
  }
  int64_t duration_10mhz() const { return rescale(duration, timescale, kManifestTimescale); }
};

struct Presentation {
  std::string name;    // the .ism base name ("ignite" for ignite.ism)
  std::string folder;  // where Track::file is relative to ("": the paths are as given)
  // Unique in the process for each presentation built: a cache key that a rebuilt presentation
  // (a file changed) never shares.
  uint64_t id = 0;
  // The id of the presentation built from the files: `id` itself, or, for one a filter made
  // (filter::apply), the one it was made from, which the answer cache checks against.
  uint64_t source_id = 0;
  // Every input and its state, "path:size:mtime:ctime:inode\n" per file (the folder of a folder
  // asset, then the .ism, then the MP4s; model::FileState): what the bytes of every answer derived
  // from this presentation depend on (entity tags).
  std::string identity;
  int64_t newest_mtime_ns = 0;  // the newest input's modification time (Last-Modified)
  std::string client_manifest;  // .ismc named by the .ism, if any
  std::string formats;          // the .ism "formats" meta (mp4-v3, ...), empty when absent
  uint32_t fragments_per_hls_segment = 3;  // TS packing ratio (.ism fragmentsPerHLSSegment)
  // Tracks in AMS order: video by descending bitrate, then audio (in .ism order), then text.
  std::vector<Track> tracks;
  int64_t duration_10mhz = 0;  // longest track (a filtered one: from start_10mhz on)
  // Where the presentation starts on the fragments' timeline: 0, or the first fragment a
  // filter's time range kept. Fragment times stay absolute; manifests that have a presentation
  // start (DASH presentationTimeOffset) take it from here.
  int64_t start_10mhz = 0;
  // A filter's firstQuality: the bitrate of the video track listed first in every manifest (the
  // track itself is first among the video tracks here; HLS, which lists by bitrate, moves it).
  std::optional<uint32_t> first_quality;

  std::vector<const Track*> tracks_of(TrackType type) const;
  // The path of a track's file: Track::file inside `folder`.
  std::string path_of(const Track& track) const;
  // The track a URL names: by AMS name and, when several share it (video), by bitrate.
  const Track* find(const std::string& name, std::optional<uint32_t> bitrate) const;
};

}  // namespace ams::model
