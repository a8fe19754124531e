#include "model/file_index.h"

#include <algorithm>

#include "base/time.h"
#include "codec/captions.h"

namespace ams::model {
namespace {

using mp4::fourcc;

// What the edit list says of a track, in its media timescale: the shift taken off every
// composition time (the media time of the first real edit, less any leading empty edit, so that
// the edit's first media instant presents at the end of the empty edits) and where the edit ends.
// Only the first non-empty edit counts: later ones (splices) are not honoured
// (docs/asset-model.md). A segment_duration of 0 means "to the end of the media".
struct EditMapping {
  int64_t shift = 0;
  std::optional<int64_t> end;
};

Result<EditMapping> edit_mapping(const mp4::Trak& trak, uint32_t movie_timescale,
                                 uint32_t media_timescale, const IndexLimits& limits) {
  EditMapping out;
  if (!trak.edts || movie_timescale == 0 || media_timescale == 0) return out;
  // Every time from the file is bounded before it meets a multiplication or a sum.
  const int64_t max_movie = static_cast<int64_t>(limits.max_duration_seconds) * movie_timescale;
  const int64_t max_media = static_cast<int64_t>(limits.max_duration_seconds) * media_timescale;
  int64_t empty = 0;
  for (const mp4::Elst::Entry& e : trak.edts->elst.entries) {
    if (e.segment_duration > static_cast<uint64_t>(max_movie) || e.media_time > max_media ||
        e.media_time < -1) {
      return invalid_data("elst: an edit of " + std::to_string(e.segment_duration) +
                          " at media time " + std::to_string(e.media_time) +
                          " (longer than the limit, or a negative media time)");
    }
    const int64_t duration = static_cast<int64_t>(e.segment_duration);
    const int64_t ticks = rescale(duration, movie_timescale, media_timescale);
    if (e.media_time == -1) {
      empty += ticks;
      if (empty > max_media) return invalid_data("elst: empty edits longer than the limit");
      continue;
    }
    out.shift = e.media_time - empty;
    // The end is one movie tick later than written: segment durations are rounded down to the
    // movie timescale (often milliseconds), and a sample that starts in that last tick is kept.
    if (duration > 0) out.end = empty + ticks + rescale(1, movie_timescale, media_timescale) + 1;
    return out;
  }
  return out;
}

Status check_sample_count(uint64_t count, const IndexLimits& limits) {
  if (count > limits.max_samples_per_track) {
    return resource_limit(std::to_string(count) + " samples in one track (limit " +
                          std::to_string(limits.max_samples_per_track) + ")");
  }
  return Status::ok();
}

Status check_duration(int64_t ticks, uint32_t timescale, const IndexLimits& limits) {
  if (timescale != 0 && ticks / timescale > limits.max_duration_seconds) {
    return resource_limit("a track of " + std::to_string(ticks / timescale) + " s (limit " +
                          std::to_string(limits.max_duration_seconds) + " s)");
  }
  return Status::ok();
}

// Moves every presentation time by -shift (see expand_sample_table).
void apply_edit_shift(int64_t shift, std::vector<Sample>& samples) {
  if (shift == 0) return;
  bool fits = true;
  for (const Sample& s : samples) {
    const int64_t v = static_cast<int64_t>(s.cts_offset) - shift;
    fits = fits && v >= INT32_MIN && v <= INT32_MAX;
  }
  for (Sample& s : samples) {
    if (fits) {
      s.cts_offset = static_cast<int32_t>(s.cts_offset - shift);
    } else {
      s.dts -= shift;
    }
  }
}

int32_t clamp_offset(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, INT32_MIN, INT32_MAX));
}

}  // namespace

const FileTrack* FileIndex::track(uint32_t track_id) const {
  for (const FileTrack& t : tracks) {
    if (t.track_id == track_id) return &t;
  }
  return nullptr;
}

namespace {

// The moov's samples of a track, with the composition offsets as stored (no edit applied).
Result<SampleTable> expand_stored(const mp4::Trak& trak, uint64_t file_size,
                                  const IndexLimits& limits) {
  const mp4::Stbl& stbl = trak.mdia.minf.stbl;
  SampleTable table;

  uint64_t count = 0;
  uint32_t constant_size = 0;
  const std::vector<uint32_t>* sizes = nullptr;
  if (stbl.stsz) {
    constant_size = stbl.stsz->sample_size;
    count = constant_size ? stbl.stsz->sample_count : stbl.stsz->sizes.size();
    if (constant_size) {
      // Nothing in the box bounds this count: the samples must at least fit in the file.
      if (count > file_size / constant_size) {
        return invalid_data("stsz: " + std::to_string(count) + " samples of " +
                            std::to_string(constant_size) + " bytes do not fit in the file");
      }
    } else {
      sizes = &stbl.stsz->sizes;
    }
  } else if (stbl.stz2) {
    sizes = &stbl.stz2->sizes;
    count = sizes->size();
  }
  AMS_RETURN_IF_ERROR(check_sample_count(count, limits));
  if (count == 0) return table;

  uint64_t stts_total = 0;
  for (const auto& e : stbl.stts.entries) stts_total += e.count;
  if (stts_total < count) {
    return invalid_data("stts: durations for " + std::to_string(stts_total) + " of " +
                        std::to_string(count) + " samples");
  }
  if (!stbl.stco && !stbl.co64) return invalid_data("stbl: no chunk offsets (stco or co64)");
  const std::vector<uint64_t>& chunks = stbl.stco ? stbl.stco->offsets : stbl.co64->offsets;
  const auto& stsc = stbl.stsc.entries;
  if (stsc.empty())
    return invalid_data("stsc: no entries for " + std::to_string(count) + " samples");

  // One pass over the samples, in chunk order, with a cursor in each run-length table (stts,
  // ctts): a 2-hour track is 10^5-10^6 samples, and each pass over them is a pass over memory
  // that is touched for the first time (page faults) or no longer in the cache.
  std::vector<Sample>& samples = table.samples;
  samples.reserve(count);
  const auto& stts = stbl.stts.entries;
  size_t stts_at = 0;
  uint32_t stts_left = stts.empty() ? 0 : stts[0].count;
  const std::vector<mp4::Ctts::Entry>* ctts = stbl.ctts ? &stbl.ctts->entries : nullptr;
  size_t ctts_at = 0;
  uint32_t ctts_left = ctts && !ctts->empty() ? (*ctts)[0].count : 0;
  const bool all_sync = !stbl.stss;
  int64_t dts = 0;
  uint64_t i = 0;
  for (size_t e = 0; e < stsc.size() && i < count; ++e) {
    uint64_t first = stsc[e].first_chunk;
    uint64_t last = e + 1 < stsc.size() ? stsc[e + 1].first_chunk : chunks.size() + 1;
    if (first == 0 || last < first || (e + 1 < stsc.size() && last == first)) {
      return invalid_data("stsc: entry " + std::to_string(e) + " has first_chunk out of order");
    }
    if (stsc[e].samples_per_chunk == 0) return invalid_data("stsc: a chunk of 0 samples");
    for (uint64_t c = first; c < last && i < count; ++c) {
      if (c > chunks.size()) {
        return invalid_data("stsc: chunk " + std::to_string(c) + " but only " +
                            std::to_string(chunks.size()) + " chunk offsets");
      }
      uint64_t offset = chunks[c - 1];
      for (uint32_t k = 0; k < stsc[e].samples_per_chunk && i < count; ++k, ++i) {
        Sample smp;
        smp.size = sizes ? (*sizes)[i] : constant_size;
        // A sample past the end of the file (a truncated copy, a file still being written) stays
        // in the table: only the fragments that need it fail, when they read it
        // (MediaFile::read_gathered checks every range), and the rest of the asset plays.
        smp.offset = offset;
        offset += smp.size;
        // stts covers every sample (checked above): skip its empty runs.
        while (stts_left == 0) stts_left = stts[++stts_at].count;
        smp.duration = stts[stts_at].delta;
        --stts_left;
        smp.dts = dts;
        dts += smp.duration;
        if (ctts != nullptr) {
          while (ctts_left == 0 && ctts_at + 1 < ctts->size()) ctts_left = (*ctts)[++ctts_at].count;
          if (ctts_left > 0) {
            smp.cts_offset = (*ctts)[ctts_at].offset;
            --ctts_left;
          }
        }
        smp.sync = all_sync;
        samples.push_back(smp);
      }
    }
  }
  if (i < count) {
    return invalid_data("stco/stsc: chunk offsets for " + std::to_string(i) + " of " +
                        std::to_string(count) + " samples");
  }
  AMS_RETURN_IF_ERROR(check_duration(dts, trak.mdia.mdhd.timescale, limits));
  // Sync samples: all of them when stss is absent (set above).
  if (stbl.stss) {
    for (uint32_t n : stbl.stss->sample_numbers) {
      if (n == 0 || n > count) {
        return invalid_data("stss: sample number " + std::to_string(n) + " outside 1.." +
                            std::to_string(count));
      }
      samples[n - 1].sync = true;
    }
  }
  return table;
}

}  // namespace

Result<SampleTable> expand_sample_table(const mp4::Trak& trak, uint32_t movie_timescale,
                                        uint64_t file_size, const IndexLimits& limits) {
  AMS_ASSIGN_OR_RETURN(EditMapping edit,
                       edit_mapping(trak, movie_timescale, trak.mdia.mdhd.timescale, limits));
  AMS_ASSIGN_OR_RETURN(SampleTable table, expand_stored(trak, file_size, limits));
  apply_edit_shift(edit.shift, table.samples);
  table.edit_end = edit.end;
  table.decode_lead = decode_lead_of(table.samples);
  return table;
}

Status append_fragment(const mp4::Moof& moof, uint64_t moof_offset, const mp4::Moov& moov,
                       const IndexLimits& limits,
                       std::vector<std::vector<Sample>>& per_track_samples) {
  for (const mp4::Traf& traf : moof.trafs) {
    size_t t = 0;
    while (t < moov.traks.size() && moov.traks[t].tkhd.track_id != traf.tfhd.track_id) ++t;
    if (t == moov.traks.size()) {
      return invalid_data("traf for track " + std::to_string(traf.tfhd.track_id) +
                          ", which the moov does not have");
    }
    mp4::Trex defaults;
    if (moov.mvex) {
      for (const mp4::Trex& trex : moov.mvex->trex) {
        if (trex.track_id == traf.tfhd.track_id) defaults = trex;
      }
    }
    const mp4::Tfhd& tfhd = traf.tfhd;
    uint32_t def_duration = (tfhd.flags & mp4::Tfhd::kDefaultSampleDuration)
                                ? tfhd.default_sample_duration
                                : defaults.default_sample_duration;
    uint32_t def_size = (tfhd.flags & mp4::Tfhd::kDefaultSampleSize) ? tfhd.default_sample_size
                                                                     : defaults.default_sample_size;
    uint32_t def_flags = (tfhd.flags & mp4::Tfhd::kDefaultSampleFlags)
                             ? tfhd.default_sample_flags
                             : defaults.default_sample_flags;
    uint64_t base = (tfhd.flags & mp4::Tfhd::kBaseDataOffset) ? tfhd.base_data_offset : moof_offset;

    std::vector<Sample>& out = per_track_samples[t];
    int64_t dts = out.empty() ? 0 : out.back().dts + out.back().duration;
    if (traf.tfdt) {
      const uint64_t base = traf.tfdt->base_media_decode_time;
      const uint64_t timescale = moov.traks[t].mdia.mdhd.timescale;
      if (base / std::max<uint64_t>(timescale, 1) > limits.max_duration_seconds ||
          (!out.empty() && static_cast<int64_t>(base) <= out.back().dts)) {
        return invalid_data("tfdt: decode time " + std::to_string(base) +
                            " is past the limit or not after the previous fragment's");
      }
      dts = static_cast<int64_t>(base);
    }
    uint64_t data = base;
    for (const mp4::Trun& trun : traf.truns) {
      if (trun.flags & mp4::Trun::kDataOffset) {
        int64_t off = static_cast<int64_t>(base) + trun.data_offset;
        if (off < 0) return invalid_data("trun: data offset before the start of the file");
        data = static_cast<uint64_t>(off);
      }
      AMS_RETURN_IF_ERROR(check_sample_count(out.size() + trun.entries.size(), limits));
      for (size_t k = 0; k < trun.entries.size(); ++k) {
        const mp4::Trun::Entry& e = trun.entries[k];
        Sample s;
        s.duration = (trun.flags & mp4::Trun::kSampleDuration) ? e.duration : def_duration;
        s.size = (trun.flags & mp4::Trun::kSampleSize) ? e.size : def_size;
        uint32_t flags = (trun.flags & mp4::Trun::kSampleFlags) ? e.flags : def_flags;
        if (k == 0 && (trun.flags & mp4::Trun::kFirstSampleFlags)) flags = trun.first_sample_flags;
        s.sync = ((flags >> 16) & 1) == 0;  // sample_is_non_sync_sample
        int64_t cts = (trun.flags & mp4::Trun::kSampleCompositionOffset) ? e.composition_offset : 0;
        if (trun.version == 0 && (trun.flags & mp4::Trun::kSampleCompositionOffset)) {
          cts = static_cast<uint32_t>(e.composition_offset);
        }
        s.cts_offset = clamp_offset(cts);
        s.dts = dts;
        s.offset = data;  // past the end of the file: kept, see expand_stored
        data += s.size;
        dts += s.duration;
        AMS_RETURN_IF_ERROR(check_duration(dts, moov.traks[t].mdia.mdhd.timescale, limits));
        out.push_back(s);
      }
    }
  }
  return Status::ok();
}

namespace {

// The CEA-608 channels in the SEI of a video track's first samples (kCaptionScanSamples, at most
// kCaptionScanBytes read, and of each sample only what comes before its first slice): captions
// only add signalling, so what cannot be read is skipped.
uint8_t scan_captions(const MediaFile& file, const FileTrack& ft) {
  if (ft.handler != fourcc("vide") || !ft.table) return 0;
  codec::NalFormat format;
  const mp4::SampleEntry::Child* config = nullptr;
  size_t length_at = 0;
  switch (ft.entry.format) {
    case fourcc("avc1"):
    case fourcc("avc3"):
      format = codec::NalFormat::kAvc;
      config = ft.entry.child(fourcc("avcC"));
      length_at = 4;  // lengthSizeMinusOne, the low 2 bits
      break;
    case fourcc("hvc1"):
    case fourcc("hev1"):
      format = codec::NalFormat::kHevc;
      config = ft.entry.child(fourcc("hvcC"));
      length_at = 21;
      break;
    default:
      return 0;
  }
  if (config == nullptr || config->payload.size() <= length_at) return 0;
  const uint8_t length_size = static_cast<uint8_t>((config->payload[length_at] & 3) + 1);
  codec::Cea608ScanState state;
  codec::Cea608Channels channels = 0;
  // Only the NAL units before the first slice of each sample are read (its SEI come first): a
  // length and header, then the SEI units whole; the slices, nearly all of a sample, are not.
  uint64_t read = 0;
  Bytes head, nal;
  const std::vector<Sample>& samples = ft.table->samples;
  for (size_t i = 0; i < samples.size() && i < kCaptionScanSamples; ++i) {
    const Sample& s = samples[i];
    if (s.offset > file.size() || s.size > file.size() - s.offset) continue;
    uint64_t at = 0;
    while (at + length_size + 2 <= s.size && read < kCaptionScanBytes) {
      if (!file.read_at(s.offset + at, length_size + 2, head).is_ok()) return channels;
      read += head.size();
      uint64_t length = 0;
      for (size_t k = 0; k < length_size; ++k) length = length << 8 | head[k];
      if (length == 0 || length > s.size - at - length_size) break;
      const uint8_t type = codec::nal_type(format, ByteSpan(head).subspan(length_size));
      if (codec::is_slice_nal(format, type)) break;
      if (codec::is_sei_nal(format, type) && length <= kCaptionScanBytes - read) {
        if (!file.read_at(s.offset + at + length_size, length, nal).is_ok()) return channels;
        read += nal.size();
        codec::scan_cea608_nal(nal, format, state, channels);
      }
      at += length_size + length;
    }
  }
  return channels;
}

}  // namespace

Result<FileIndex> read_file_index(const MediaFile& file, const IndexLimits& limits) {
  FileIndex index;
  index.path = file.path();
  index.size = file.size();
  index.state = file.state();

  std::optional<mp4::Moov> moov;
  std::vector<std::vector<Sample>> fragment_samples;
  uint64_t pos = 0;
  uint64_t boxes = 0;
  Bytes buf;
  while (pos < file.size()) {
    if (++boxes > limits.max_top_level_boxes) return resource_limit("too many top-level boxes");
    uint64_t avail = file.size() - pos;
    if (avail < 8) break;  // trailing padding
    Bytes head;
    AMS_RETURN_IF_ERROR(
        file.read_at(pos, static_cast<size_t>(std::min<uint64_t>(avail, 32)), head));
    ByteReader hr(head);
    mp4::BoxHeader h;
    Status st = mp4::read_box_header(hr, avail, h);
    if (!st.is_ok() && st.code() == StatusCode::kTruncated && hr.position() == 0 &&
        head.size() >= 8) {
      // A payload box (mdat) cut short by a truncated copy: the index may still be whole, and the
      // sample offsets checked below then name exactly what is missing.
      uint32_t type = 0;
      ByteReader peek(head);
      (void)peek.skip(4);
      (void)peek.read_u32(type);
      if (type != fourcc("moov") && type != fourcc("moof")) break;
    }
    if (!st.is_ok()) return st.with_context(file.path() + " at offset " + std::to_string(pos));
    if (h.type == fourcc("moov") || h.type == fourcc("moof")) {
      bool is_moov = h.type == fourcc("moov");
      uint64_t cap = is_moov ? limits.max_moov_size : limits.max_moof_size;
      if (h.size > cap) {
        return resource_limit(mp4::fourcc_to_string(h.type) + " of " + std::to_string(h.size) +
                              " bytes (limit " + std::to_string(cap) + ")");
      }
      AMS_RETURN_IF_ERROR(file.read_at(pos + h.header_size, h.size - h.header_size, buf));
      if (is_moov) {
        if (moov) return invalid_data(file.path() + ": a second moov");
        moov.emplace();
        Status s = mp4::read_box_payload(buf, *moov);
        if (!s.is_ok()) return s.with_context(file.path());
        fragment_samples.assign(moov->traks.size(), {});
      } else {
        if (!moov) return invalid_data(file.path() + ": moof before moov");
        index.fragmented = true;
        mp4::Moof moof;
        Status s = mp4::read_box_payload(buf, moof);
        if (s.is_ok()) s = append_fragment(moof, pos, *moov, limits, fragment_samples);
        if (!s.is_ok()) return s.with_context(file.path() + " moof at " + std::to_string(pos));
      }
    }
    pos += h.size;
  }
  if (!moov) return invalid_data(file.path() + ": no moov box (not an MP4 file?)");
  if (moov->mvhd.timescale == 0) return invalid_data(file.path() + ": mvhd timescale is 0");

  for (size_t t = 0; t < moov->traks.size(); ++t) {
    const mp4::Trak& trak = moov->traks[t];
    FileTrack ft;
    ft.track_id = trak.tkhd.track_id;
    ft.handler = trak.mdia.hdlr.handler_type;
    ft.timescale = trak.mdia.mdhd.timescale;
    ft.language = trak.mdia.mdhd.language;
    ft.width = trak.tkhd.width >> 16;
    ft.height = trak.tkhd.height >> 16;
    std::string where = file.path() + " track " + std::to_string(ft.track_id);
    const bool media = ft.handler == fourcc("vide") || ft.handler == fourcc("soun");
    if (ft.timescale == 0 || trak.mdia.minf.stbl.stsd.entries.empty()) {
      // A track the presentation does not use (text, metadata) may be odd without harm.
      if (!media) {
        ft.table = std::make_shared<const SampleTable>();
        index.tracks.push_back(std::move(ft));
        continue;
      }
      return invalid_data(
          where + (ft.timescale == 0 ? ": mdhd timescale is 0" : ": no sample description"));
    }
    ft.entry = trak.mdia.minf.stbl.stsd.entries[0];
    auto edit = edit_mapping(trak, moov->mvhd.timescale, ft.timescale, limits);
    auto table =
        edit ? expand_stored(trak, file.size(), limits) : Result<SampleTable>(edit.status());
    if (!table) return Status(table.status()).with_context(where);
    SampleTable st = std::move(table).value();
    if (!fragment_samples[t].empty()) {
      AMS_RETURN_IF_ERROR(
          check_sample_count(st.samples.size() + fragment_samples[t].size(), limits));
      st.samples.insert(st.samples.end(), fragment_samples[t].begin(), fragment_samples[t].end());
    }
    // The edit list is applied once, to the moov's samples and the fragments' together.
    apply_edit_shift(edit->shift, st.samples);
    st.edit_end = edit->end;
    st.decode_lead = decode_lead_of(st.samples);
    ft.table = std::make_shared<const SampleTable>(std::move(st));
    ft.cea608_channels = scan_captions(file, ft);
    index.tracks.push_back(std::move(ft));
  }
  return index;
}

}  // namespace ams::model
