// Init segments: ftyp + moov for one track, the sample entry rebuilt from the model.
#include <algorithm>
#include <string>
#include <string_view>

#include "base/time.h"
#include "fmp4/protection.h"
#include "fmp4/writer.h"
#include "mp4/boxes.h"
#include "mp4/esds.h"
#include "text/ttml.h"

namespace ams::fmp4 {
namespace {

using mp4::fourcc;

// CMAF header (ISO/IEC 23000-19): the structural brand cmfc. Not cmf2: a track whose decoding runs
// ahead of its presentation (B-frames) carries an offset edit list here and unsigned composition
// offsets in its fragments (see decode_lead_edit), which cmf2 forbids. Media profile brands (cfhd,
// caac...) are left out: they promise constraints nobody checks here.
// DASH CSF (ISO/IEC 23009-1): 'dash' marks an initialization segment of the ISO BMFF
// live profile.
mp4::Ftyp file_type(Variant variant) {
  mp4::Ftyp ftyp;
  if (variant == Variant::kCmaf) {
    ftyp.major_brand = fourcc("cmfc");
    ftyp.compatible_brands = {fourcc("cmfc"), fourcc("iso6"), fourcc("isom")};
  } else {
    ftyp.major_brand = fourcc("iso6");
    ftyp.compatible_brands = {fourcc("iso6"), fourcc("dash"), fourcc("isom")};
  }
  return ftyp;
}

Result<mp4::SampleEntry> sample_entry(const model::Track& t) {
  mp4::SampleEntry e;
  e.format = mp4::fourcc_from_string(t.fourcc);
  if (t.codec_private.empty()) {
    return invalid_argument("track " + t.name + ": no codec private data for its sample entry");
  }
  auto child = [&](mp4::FourCC type, Bytes payload) { e.children.push_back({type, payload}); };
  switch (e.format) {
    case fourcc("avc1"):
    case fourcc("avc3"):
      child(fourcc("avcC"), t.codec_private);
      break;
    case fourcc("hvc1"):
    case fourcc("hev1"):
      child(fourcc("hvcC"), t.codec_private);
      break;
    case fourcc("mp4a"): {
      mp4::EsDescriptor es;
      es.es_id = static_cast<uint16_t>(kTrackId);
      es.buffer_size_db = std::min<uint32_t>(t.max_sample_size, 0xffffff);  // 24 bits
      es.max_bitrate = t.bitrate;
      es.avg_bitrate = t.bitrate;
      es.decoder_specific_info = t.codec_private;
      child(fourcc("esds"), mp4::write_esds(es));
      break;
    }
    case fourcc("ac-3"):
      child(fourcc("dac3"), t.codec_private);
      break;
    case fourcc("ec-3"):
      child(fourcc("dec3"), t.codec_private);
      break;
    default:
      return unsupported("fragmented MP4 of codec " + t.fourcc +
                         " (supported: avc1, avc3, hvc1, hev1, mp4a, ac-3, ec-3)");
  }
  if (e.is_visual()) {
    if (t.width > UINT16_MAX || t.height > UINT16_MAX) {
      return invalid_argument("track " + t.name + ": picture size beyond 65535");
    }
    e.width = static_cast<uint16_t>(t.width);
    e.height = static_cast<uint16_t>(t.height);
  } else {
    // AC-3 and E-AC-3 sample entries carry 2 here whatever the layout (ETSI TS 102 366 F.3/F.5);
    // the real layout is in dac3/dec3 (and, for AAC, in the AudioSpecificConfig).
    bool dolby = e.format != fourcc("mp4a");
    e.channel_count = dolby ? 2 : static_cast<uint16_t>(t.channels ? t.channels : 2);
    e.sample_size = 16;
    // A 16.16 field: rates past 65535 Hz cannot be written, and decoders take the codec config's.
    e.sample_rate = t.sample_rate <= UINT16_MAX ? t.sample_rate : 0;
  }
  return e;
}

mp4::Trak track_box(const model::Track& t, mp4::SampleEntry entry) {
  bool video = t.type == model::TrackType::kVideo;
  mp4::Trak trak;
  trak.tkhd.track_id = kTrackId;
  if (video) {
    trak.tkhd.width = t.width << 16;
    trak.tkhd.height = t.height << 16;
  } else {
    trak.tkhd.volume = 0x0100;
  }
  mp4::Mdia& mdia = trak.mdia;
  mdia.mdhd.timescale = t.timescale;
  mdia.mdhd.language = t.language.size() == 3 ? t.language : "und";
  mdia.hdlr.handler_type = video ? fourcc("vide") : fourcc("soun");
  mdia.hdlr.name = video ? "VideoHandler" : "SoundHandler";
  if (video) {
    mdia.minf.vmhd.emplace();
  } else {
    mdia.minf.smhd.emplace();
  }
  mdia.minf.dinf.emplace();
  mp4::Stbl& stbl = mdia.minf.stbl;
  stbl.stsd.entries.push_back(std::move(entry));
  stbl.stsz.emplace();
  stbl.stco.emplace();
  return trak;
}

}  // namespace

const char* variant_name(Variant v) {
  switch (v) {
    case Variant::kCmaf:
      return "cmaf";
    case Variant::kDash:
      return "dash";
    case Variant::kSmooth:
      return "smooth";
  }
  return "unknown";
}

Status write_init_segment(const model::Track& track, Variant variant, ByteWriter& out,
                          const Protection* protection) {
  if (variant == Variant::kSmooth) {
    return invalid_argument("Smooth Streaming has no init segment (clients build it)");
  }
  if (track.type == model::TrackType::kText) {
    return unsupported("fragmented MP4 of text track " + track.name);
  }
  if (track.timescale == 0) return invalid_argument("track " + track.name + ": timescale 0");
  AMS_ASSIGN_OR_RETURN(mp4::SampleEntry entry, sample_entry(track));
  if (protection != nullptr) entry = protect_sample_entry(entry, *protection);

  mp4::Moov moov;
  // The movie timescale is the track's, so mehd needs no conversion.
  moov.mvhd.timescale = track.timescale;
  moov.mvhd.next_track_id = kTrackId + 1;
  moov.traks.push_back(track_box(track, std::move(entry)));
  // B-frames: the fragments give each sample its composition offset plus the track's decode lead
  // (never negative), and one edit of duration 0 takes the lead off again for the whole track,
  // so the first frame presents at 0 (ISO/IEC 14496-12 8.6.6, the offset edit for fragmented
  // files; CMAF 7.5.13). Signed offsets (trun version 1) would need no edit, but GStreamer's
  // qtdemux and ffmpeg then move every such video track later by the lead while its audio stays:
  // 67 ms of A/V offset for ffmpeg's usual 2 B-frames at 30 fps (docs/fragments.md).
  if (int64_t lead = decode_lead(track); lead > 0) {
    mp4::Edts edts;
    mp4::Elst::Entry edit;
    edit.segment_duration = 0;
    edit.media_time = lead;
    edts.elst.entries.push_back(edit);
    moov.traks.back().edts = edts;
  }
  moov.mvex.emplace();
  if (track.duration > 0) {
    mp4::Mehd mehd;
    mehd.version = track.duration > UINT32_MAX ? 1 : 0;
    mehd.fragment_duration = static_cast<uint64_t>(track.duration);
    moov.mvex->mehd = mehd;
  }
  mp4::Trex trex;
  trex.track_id = kTrackId;
  moov.mvex->trex.push_back(trex);
  if (protection != nullptr) moov.pssh = protection->pssh;

  mp4::write_box(out, file_type(variant));
  mp4::write_box(out, moov);
  return Status::ok();
}

Status write_ttml_init_segment(const model::Track& track, Variant variant, ByteWriter& out) {
  if (variant == Variant::kSmooth) {
    return invalid_argument("Smooth Streaming has no init segment (clients build it)");
  }
  if (track.type != model::TrackType::kText) {
    return invalid_argument("track " + track.name + " is not a text track");
  }
  // XMLSubtitleSampleEntry (ISO/IEC 14496-30 5.4.2.2): the SampleEntry fields, then namespace,
  // schema_location and auxiliary_mime_types as null-terminated strings (the last two empty).
  mp4::SampleEntry entry;
  entry.format = fourcc("stpp");
  entry.opaque = Bytes(6, 0);
  entry.opaque.push_back(0);
  entry.opaque.push_back(1);  // data_reference_index
  for (char c : std::string_view(text::kTtmlNamespace)) entry.opaque.push_back(c);
  entry.opaque.insert(entry.opaque.end(), {0, 0, 0});

  mp4::Trak trak;
  trak.tkhd.track_id = kTrackId;
  trak.tkhd.duration = 0;
  mp4::Mdia& mdia = trak.mdia;
  mdia.mdhd.timescale = static_cast<uint32_t>(kManifestTimescale);
  mdia.mdhd.language = track.language.size() == 3 ? track.language : "und";
  mdia.hdlr.handler_type = fourcc("subt");
  mdia.hdlr.name = "SubtitleHandler";
  mdia.minf.sthd.emplace();
  mdia.minf.dinf.emplace();
  mdia.minf.stbl.stsd.entries.push_back(std::move(entry));
  mdia.minf.stbl.stsz.emplace();
  mdia.minf.stbl.stco.emplace();

  mp4::Moov moov;
  moov.mvhd.timescale = static_cast<uint32_t>(kManifestTimescale);
  moov.mvhd.next_track_id = kTrackId + 1;
  moov.traks.push_back(std::move(trak));
  moov.mvex.emplace();
  mp4::Trex trex;
  trex.track_id = kTrackId;
  moov.mvex->trex.push_back(trex);

  mp4::Ftyp ftyp = file_type(variant);
  // CMAF: the IMSC1 text media profile brand (ISO/IEC 23000-19 11.3).
  if (variant == Variant::kCmaf) ftyp.compatible_brands.push_back(fourcc("im1t"));
  mp4::write_box(out, ftyp);
  mp4::write_box(out, moov);
  return Status::ok();
}

}  // namespace ams::fmp4
