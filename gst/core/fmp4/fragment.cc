// Media fragments: [styp] moof mdat, every value taken from the model's sample table.
#include <algorithm>
#include <limits>
#include <span>
#include <string>

#include "base/time.h"
#include "fmp4/boxes.h"
#include "fmp4/protection.h"
#include "fmp4/writer.h"
#include "mp4/boxes.h"

namespace ams::fmp4 {
namespace {

using mp4::fourcc;

// A media segment of the DASH ISO BMFF formats (ISO/IEC 23009-1): 'msdh'. Not 'msix':
// that promises a sidx, and these segments carry none. CMAF adds its segment and fragment brands
// (ISO/IEC 23000-19): every segment here is exactly one fragment.
mp4::Styp segment_type(Variant variant) {
  mp4::Styp styp;
  if (variant == Variant::kCmaf) {
    styp.major_brand = fourcc("cmfs");
    styp.compatible_brands = {fourcc("cmfs"), fourcc("cmff"), fourcc("msdh")};
  } else {
    styp.major_brand = fourcc("msdh");
    styp.compatible_brands = {fourcc("msdh")};
  }
  return styp;
}

Result<std::span<const model::Sample>> fragment_samples(const model::Track& t, size_t index) {
  if (t.timescale == 0) return invalid_argument("track " + t.name + ": timescale 0");
  if (index >= t.fragments.size()) {
    return not_found("track " + t.name + " has no fragment " + std::to_string(index) + " (" +
                     std::to_string(t.fragments.size()) + " fragments)");
  }
  const model::Fragment& f = t.fragments[index];
  const std::vector<model::Sample>& all = t.samples();
  if (f.sample_count == 0 || f.first_sample > all.size() ||
      f.sample_count > all.size() - f.first_sample) {
    return invalid_argument("track " + t.name + ": fragment " + std::to_string(index) +
                            " names samples the track does not have");
  }
  return std::span<const model::Sample>(all).subspan(f.first_sample, f.sample_count);
}

uint32_t sample_flags(const model::Track& t, const model::Sample& s) {
  // Every audio frame of the codecs we carry decodes on its own.
  bool sync = t.type != model::TrackType::kVideo || s.sync;
  return sync ? mp4::kSampleFlagsSync : mp4::kSampleFlagsNonSync;
}

Status set_timing(mp4::Trun::Entry& e, int64_t duration, int64_t composition_offset) {
  if (duration < 0 || duration > std::numeric_limits<uint32_t>::max()) {
    return invalid_data("sample duration " + std::to_string(duration) + " does not fit a trun");
  }
  if (composition_offset < std::numeric_limits<int32_t>::min() ||
      composition_offset > std::numeric_limits<int32_t>::max()) {
    return invalid_data("composition offset " + std::to_string(composition_offset) +
                        " does not fit a trun");
  }
  e.duration = static_cast<uint32_t>(duration);
  e.composition_offset = static_cast<int32_t>(composition_offset);
  return Status::ok();
}

// The decode time where each sample ends: the next sample's dts, the last one's dts + duration.
int64_t decode_end(std::span<const model::Sample> s, size_t k) {
  return k + 1 < s.size() ? s[k + 1].dts : s[k].dts + s[k].duration;
}

// CMAF and DASH: the track's own ticks, exactly as in the sample table, each composition offset
// raised by the track's decode lead, which the init segment's edit list takes off again.
Status fill_track_timing(const model::Track& t, std::span<const model::Sample> s, mp4::Trun& trun) {
  const int64_t lead = decode_lead(t);
  for (size_t k = 0; k < s.size(); ++k) {
    const int64_t offset = s[k].cts_offset + lead;
    if (offset < 0) {
      return invalid_data("track " + t.name + ": a sample presents " + std::to_string(-offset) +
                          " ticks before its decode lead allows");
    }
    AMS_RETURN_IF_ERROR(set_timing(trun.entries[k], decode_end(s, k) - s[k].dts, offset));
  }
  return Status::ok();
}

// Smooth: 10 MHz. A client places sample k at tfxd time + the sum of the durations before it, so
// each duration is a difference of rescaled absolute times (no drift, however long the track),
// and each composition offset brings the sample's presentation to its rescaled pts exactly.
// Decode times are taken shifted so that tfxd time (the fragment's URL time: its earliest
// presentation time, `start`) is the first sample's decode time, as clients assume.
Status fill_smooth_timing(const model::Track& t, std::span<const model::Sample> s, int64_t start,
                          mp4::Trun& trun) {
  const int64_t shift = start - s[0].dts;
  auto r = [&](int64_t ticks) { return rescale(ticks, t.timescale, kManifestTimescale); };
  for (size_t k = 0; k < s.size(); ++k) {
    int64_t decode = r(s[k].dts + shift);
    AMS_RETURN_IF_ERROR(
        set_timing(trun.entries[k], r(decode_end(s, k) + shift) - decode, r(s[k].pts()) - decode));
  }
  return Status::ok();
}

Result<MovieFragment> build_moof(const model::Track& t, size_t index, Variant variant,
                                 std::span<const model::Sample> s) {
  if (index >= std::numeric_limits<uint32_t>::max()) {
    return invalid_argument("fragment index beyond the mfhd sequence number range");
  }
  const bool smooth = variant == Variant::kSmooth;
  MovieFragment moof;
  moof.mfhd.sequence_number = static_cast<uint32_t>(index + 1);
  TrackFragment& traf = moof.traf;
  traf.tfhd.track_id = kTrackId;
  // Smooth (PIFF 1.1) predates default-base-is-moof: with neither it nor a base data offset, the
  // base of the first traf is the moof's first byte anyway (ISO/IEC 14496-12, tfhd).
  traf.tfhd.flags = smooth ? 0 : mp4::Tfhd::kDefaultBaseIsMoof;

  mp4::Trun& trun = traf.trun;
  // Smooth has no init segment to carry an edit: signed offsets put the first frame at the
  // fragment's time. The others: unsigned offsets and the init segment's offset edit.
  trun.version = smooth ? 1 : 0;
  trun.flags = mp4::Trun::kDataOffset | mp4::Trun::kSampleDuration | mp4::Trun::kSampleSize;
  trun.entries.resize(s.size());
  bool uniform_flags = true;
  for (size_t k = 0; k < s.size(); ++k) {
    trun.entries[k].size = s[k].size;
    trun.entries[k].flags = sample_flags(t, s[k]);
    uniform_flags = uniform_flags && trun.entries[k].flags == trun.entries[0].flags;
  }
  AMS_RETURN_IF_ERROR(smooth ? fill_smooth_timing(t, s, t.fragments[index].start, trun)
                             : fill_track_timing(t, s, trun));
  if (std::any_of(trun.entries.begin(), trun.entries.end(),
                  [](const mp4::Trun::Entry& e) { return e.composition_offset != 0; })) {
    trun.flags |= mp4::Trun::kSampleCompositionOffset;
  }
  // Flags shared by every sample go once in tfhd; Smooth servers always put a default there.
  if (uniform_flags || smooth) {
    traf.tfhd.flags |= mp4::Tfhd::kDefaultSampleFlags;
    traf.tfhd.default_sample_flags =
        uniform_flags ? trun.entries[0].flags : mp4::kSampleFlagsNonSync;
  }
  if (!uniform_flags) trun.flags |= mp4::Trun::kSampleFlags;

  if (smooth) {
    const model::Fragment& f = t.fragments[index];
    int64_t start = t.fragment_start_10mhz(index);
    int64_t end = rescale(f.start + f.duration, t.timescale, kManifestTimescale);
    mp4::Tfxd tfxd;
    // A negative start (audio priming kept as a negative composition offset) cannot be written.
    tfxd.time = static_cast<uint64_t>(std::max<int64_t>(0, start));
    tfxd.duration = static_cast<uint64_t>(std::max<int64_t>(0, end - start));
    traf.tfxd = tfxd;
  } else {
    if (s[0].dts < 0) return invalid_data("track " + t.name + ": negative decode time");
    traf.tfdt.emplace();
    traf.tfdt->version = 1;
    traf.tfdt->base_media_decode_time = static_cast<uint64_t>(s[0].dts);
  }
  return moof;
}

Status check_payload(std::span<const model::Sample> s, const FragmentPayload& payload,
                     uint64_t total) {
  const std::vector<ByteSpan>& p = payload.samples;
  if (p.size() == 1 && p[0].size() == total) return Status::ok();
  if (p.size() != s.size()) {
    return invalid_argument(std::to_string(p.size()) + " payload spans for " +
                            std::to_string(s.size()) + " samples");
  }
  for (size_t k = 0; k < s.size(); ++k) {
    if (p[k].size() != s[k].size) {
      return invalid_argument("sample " + std::to_string(k) + " payload has " +
                              std::to_string(p[k].size()) + " bytes, the index says " +
                              std::to_string(s[k].size));
    }
  }
  return Status::ok();
}

}  // namespace

Status write_fragment_header(const model::Track& track, size_t fragment_index, Variant variant,
                             ByteWriter& out) {
  AMS_ASSIGN_OR_RETURN(std::span<const model::Sample> s, fragment_samples(track, fragment_index));
  AMS_ASSIGN_OR_RETURN(MovieFragment moof, build_moof(track, fragment_index, variant, s));
  uint64_t total = 0;
  for (const model::Sample& sample : s) total += sample.size;
  // The data offset is a fixed-size field: the moof's size does not depend on its value.
  uint64_t data_offset = mp4::box_size(moof) + mdat_header_size(total);
  if (data_offset > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return invalid_data("moof too large for a trun data offset");
  }
  moof.traf.trun.data_offset = static_cast<int32_t>(data_offset);
  if (variant != Variant::kSmooth) mp4::write_box(out, segment_type(variant));
  mp4::write_box(out, moof);
  write_mdat_header(out, total);
  return Status::ok();
}

Status write_fragment(const model::Track& track, size_t fragment_index, Variant variant,
                      const FragmentPayload& payload, ByteWriter& out) {
  AMS_ASSIGN_OR_RETURN(std::span<const model::Sample> s, fragment_samples(track, fragment_index));
  uint64_t total = 0;
  for (const model::Sample& sample : s) total += sample.size;
  if (!out.counting()) AMS_RETURN_IF_ERROR(check_payload(s, payload, total));
  AMS_RETURN_IF_ERROR(write_fragment_header(track, fragment_index, variant, out));
  if (out.counting()) {
    out.zeros(total);
  } else {
    for (ByteSpan p : payload.samples) out.bytes(p);
  }
  return Status::ok();
}

Status write_protected_fragment(const model::Track& track, size_t fragment_index, Variant variant,
                                const Protection& p, const FragmentPayload& payload,
                                ByteWriter& out) {
  if (variant == Variant::kSmooth) {
    return unsupported("common encryption of Smooth Streaming fragments (PIFF)");
  }
  AMS_ASSIGN_OR_RETURN(std::span<const model::Sample> s, fragment_samples(track, fragment_index));
  uint64_t total = 0;
  for (const model::Sample& sample : s) total += sample.size;
  const bool video = track.type == model::TrackType::kVideo;
  const bool counting = out.counting();
  // Audio needs no payload to be sized; video's subsample maps come from its NAL units.
  if (!counting || video) AMS_RETURN_IF_ERROR(check_payload(s, payload, total));
  auto sample_bytes = [&](size_t k) {
    if (payload.samples.size() == s.size()) return payload.samples[k];
    uint64_t at = 0;
    for (size_t i = 0; i < k; ++i) at += s[i].size;
    return payload.samples[0].subspan(at, s[k].size);
  };
  std::vector<std::vector<Subsample>> maps(s.size());
  if (video) {
    for (size_t k = 0; k < s.size(); ++k) {
      AMS_ASSIGN_OR_RETURN(maps[k], subsample_map(track, p.scheme, sample_bytes(k)));
    }
  }

  AMS_ASSIGN_OR_RETURN(MovieFragment moof, build_moof(track, fragment_index, variant, s));
  const bool cenc = p.scheme == Scheme::kCenc;
  // cbcs audio has a constant IV and no subsamples: no auxiliary information at all.
  if (cenc || video) {
    Senc senc;
    senc.iv_size = cenc ? 16 : 0;
    senc.flags = video ? Senc::kUseSubsamples : 0;
    senc.entries.resize(s.size());
    Result<SampleEncryptor> ivs = SampleEncryptor::create(p);
    if (!ivs) return ivs.status();
    for (size_t k = 0; k < s.size(); ++k) {
      if (cenc) {
        Block iv = ivs->sample_iv(s[k].offset);
        senc.entries[k].iv.assign(iv.begin(), iv.end());
      }
      senc.entries[k].subsamples = maps[k];
    }
    Saiz saiz;
    saiz.sample_count = static_cast<uint32_t>(s.size());
    bool uniform = true;
    for (size_t k = 0; k < s.size(); ++k) {
      if (senc.entry_size(k) > UINT8_MAX) {
        return invalid_data("sample " + std::to_string(k) + " of fragment " +
                            std::to_string(fragment_index) + " has too many subsamples for saiz");
      }
      uniform = uniform && senc.entry_size(k) == senc.entry_size(0);
    }
    if (uniform && !s.empty()) {
      saiz.default_size = static_cast<uint8_t>(senc.entry_size(0));
    } else {
      for (size_t k = 0; k < s.size(); ++k) {
        saiz.sizes.push_back(static_cast<uint8_t>(senc.entry_size(k)));
      }
    }
    moof.traf.senc = std::move(senc);
    moof.traf.saiz = std::move(saiz);
    moof.traf.saio.emplace();
    // saio: from the moof's first byte (default-base-is-moof) to the first entry of senc, which
    // follows saio: moof and traf headers, mfhd, tfhd, tfdt, trun, saiz, saio, then senc's full
    // box header and sample count.
    size_t at = 8 + mp4::box_size(moof.mfhd) + 8 + mp4::box_size(moof.traf.tfhd) +
                mp4::box_size(moof.traf.trun) + mp4::box_size(*moof.traf.saiz) +
                mp4::box_size(*moof.traf.saio) + 8 + 4 + 4;
    if (moof.traf.tfdt) at += mp4::box_size(*moof.traf.tfdt);
    moof.traf.saio->offset = static_cast<uint32_t>(at);
  }
  uint64_t data_offset = mp4::box_size(moof) + mdat_header_size(total);
  if (data_offset > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return invalid_data("moof too large for a trun data offset");
  }
  moof.traf.trun.data_offset = static_cast<int32_t>(data_offset);
  mp4::write_box(out, segment_type(variant));
  mp4::write_box(out, moof);
  write_mdat_header(out, total);
  if (counting) {
    out.zeros(total);
    return Status::ok();
  }
  AMS_ASSIGN_OR_RETURN(SampleEncryptor enc, SampleEncryptor::create(p));
  uint8_t* to = out.append_space(total);
  for (size_t k = 0; k < s.size(); ++k) {
    AMS_RETURN_IF_ERROR(enc.encrypt(sample_bytes(k), s[k].offset, maps[k], to));
    to += s[k].size;
  }
  return Status::ok();
}

Result<uint64_t> fragment_size(const model::Track& track, size_t fragment_index, Variant variant) {
  ByteWriter w = ByteWriter::size_only();
  AMS_RETURN_IF_ERROR(write_fragment(track, fragment_index, variant, {}, w));
  return static_cast<uint64_t>(w.size());
}

Status write_ttml_fragment(uint32_t sequence_number, int64_t start_10mhz, int64_t duration_10mhz,
                           std::string_view document, Variant variant, ByteWriter& out) {
  if (start_10mhz < 0) return invalid_argument("text fragment at a negative time");
  if (duration_10mhz <= 0 || duration_10mhz > std::numeric_limits<uint32_t>::max()) {
    return invalid_argument("text fragment duration " + std::to_string(duration_10mhz) +
                            " does not fit a trun");
  }
  if (document.size() > std::numeric_limits<uint32_t>::max()) {
    return invalid_argument("text document too large for one sample");
  }
  const bool smooth = variant == Variant::kSmooth;
  MovieFragment moof;
  moof.mfhd.sequence_number = sequence_number;
  TrackFragment& traf = moof.traf;
  traf.tfhd.track_id = kTrackId;
  traf.tfhd.flags = (smooth ? 0 : mp4::Tfhd::kDefaultBaseIsMoof) | mp4::Tfhd::kDefaultSampleFlags;
  traf.tfhd.default_sample_flags = mp4::kSampleFlagsSync;
  mp4::Trun& trun = traf.trun;
  trun.flags = mp4::Trun::kDataOffset | mp4::Trun::kSampleDuration | mp4::Trun::kSampleSize;
  trun.entries.resize(1);
  trun.entries[0].size = static_cast<uint32_t>(document.size());
  trun.entries[0].duration = static_cast<uint32_t>(duration_10mhz);
  if (smooth) {
    mp4::Tfxd tfxd;
    tfxd.time = static_cast<uint64_t>(start_10mhz);
    tfxd.duration = static_cast<uint64_t>(duration_10mhz);
    traf.tfxd = tfxd;
  } else {
    traf.tfdt.emplace();
    traf.tfdt->version = 1;
    traf.tfdt->base_media_decode_time = static_cast<uint64_t>(start_10mhz);
  }
  const uint64_t data_offset = mp4::box_size(moof) + mdat_header_size(document.size());
  moof.traf.trun.data_offset = static_cast<int32_t>(data_offset);
  if (!smooth) mp4::write_box(out, segment_type(variant));
  mp4::write_box(out, moof);
  write_mdat_header(out, document.size());
  out.bytes(ByteSpan(reinterpret_cast<const uint8_t*>(document.data()), document.size()));
  return Status::ok();
}

}  // namespace ams::fmp4
