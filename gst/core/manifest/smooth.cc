// Smooth Streaming client manifest (MS-SSTR), laid out as AMS writes it: audio StreamIndexes first,
// then video; `r` is the total count of a run in 2.2; 2.0 (`fmp4-v20`) lists every chunk.
#include <algorithm>

#include "base/bytes.h"
#include "codec/avc.h"
#include "codec/hevc.h"
#include "manifest/timeline.h"
#include "manifest/url_template.h"
#include "manifest/writers.h"
#include "manifest/xml_writer.h"

namespace ams::manifest {
namespace {

// WAVE format tags: AAC as AMS writes it (255), AC-3 (WAVE_FORMAT_DOLBY_AC3) and E-AC-3 as
// WAVE_FORMAT_EXTENSIBLE, which is what Microsoft's own Smooth encoders emit for EC-3.
uint32_t audio_tag(model::Codec codec) {
  switch (codec) {
    case model::Codec::kAc3:
      return 0x2000;
    case model::Codec::kEac3:
      return 0xFFFE;
    default:
      return 255;
  }
}

Result<std::string> fourcc(const model::Track& t) {
  switch (t.codec) {
    case model::Codec::kH264:
      return std::string("H264");
    case model::Codec::kH265:
      return std::string(t.fourcc == "hvc1" ? "HVC1" : "HEV1");
    case model::Codec::kAac:
      return std::string("AACL");
    case model::Codec::kAc3:
      return std::string("AC-3");
    case model::Codec::kEac3:
      return std::string("EC-3");
    default:
      return unsupported("smooth: no FourCC for codec of track '" + t.name + "'");
  }
}

// Every VPS, SPS and PPS behind a start code, upper-case hex: the H.264 layout applied to HEVC.
std::string hevc_private_data(const codec::HevcConfig& cfg) {
  std::string out;
  for (const auto* nals : {&cfg.vps, &cfg.sps, &cfg.pps}) {
    for (const Bytes& nal : *nals) out += "00000001" + to_hex(nal, true);
  }
  return out;
}

Result<std::string> codec_private_data(const model::Track& t) {
  switch (t.codec) {
    case model::Codec::kH264: {
      AMS_ASSIGN_OR_RETURN(codec::AvcConfig cfg, codec::parse_avcc(t.codec_private));
      return codec::smooth_codec_private_data(cfg);
    }
    case model::Codec::kH265: {
      AMS_ASSIGN_OR_RETURN(codec::HevcConfig cfg, codec::parse_hvcc(t.codec_private));
      return hevc_private_data(cfg);
    }
    default:
      return to_hex(t.codec_private, true);
  }
}

Status write_quality_level(XmlWriter& xml, const model::Track& t, size_t index) {
  AMS_ASSIGN_OR_RETURN(std::string cc, fourcc(t));
  AMS_ASSIGN_OR_RETURN(std::string cpd, codec_private_data(t));
  xml.open("QualityLevel");
  if (t.type == model::TrackType::kAudio) {
    xml.attr("AudioTag", audio_tag(t.codec))
        .attr("Index", index)
        .attr("BitsPerSample", t.bits_per_sample)
        .attr("Bitrate", t.bitrate)
        .attr("FourCC", cc)
        .attr("CodecPrivateData", cpd)
        .attr("Channels", t.channels)
        .attr("PacketSize", t.channels * t.bits_per_sample / 8)
        .attr("SamplingRate", t.sample_rate);
  } else {
    xml.attr("Index", index)
        .attr("Bitrate", t.bitrate)
        .attr("FourCC", cc)
        .attr("MaxWidth", t.width)
        .attr("MaxHeight", t.height)
        .attr("CodecPrivateData", cpd);
  }
  xml.empty();
  return Status::ok();
}

void write_chunks(XmlWriter& xml, const std::vector<TimelineEntry>& timeline, bool v20,
                  size_t first_number) {
  if (v20) {
    int64_t expected = 0;
    for (size_t i = 0; i < timeline.size(); ++i) {
      xml.open("c");
      if (i == 0 || timeline[i].start != expected) xml.attr("t", timeline[i].start);
      xml.attr("d", timeline[i].duration);
      if (i == 0) xml.attr("n", first_number);  // a filter's trimmed start: its index
      xml.empty();
      expected = timeline[i].start + timeline[i].duration;
    }
    return;
  }
  for (const Run& run : compress(timeline)) {
    xml.open("c");
    if (run.after_gap) xml.attr("t", run.start);
    xml.attr("d", run.duration);
    if (run.count > 1) xml.attr("r", run.count);
    xml.empty();
  }
}

Status write_stream_index(XmlWriter& xml, const model::Presentation& p, const TrackGroup& group,
                          model::TrackType type, bool v20, const std::string& args) {
  const model::Track& first = *group.tracks.front();
  std::vector<TimelineEntry> timeline = timeline_10mhz(first);
  xml.open("StreamIndex")
      .attr("Chunks", timeline.size())
      .attr("Type", type == model::TrackType::kAudio ? "audio" : "video")
      .attr("Url", url::smooth_fragment_template(group.name, args))
      .attr("QualityLevels", group.tracks.size());
  // AMS names audio StreamIndexes only; a video group not called "video" needs its Name too.
  if (type == model::TrackType::kAudio) {
    if (!first.language.empty()) xml.attr("Language", first.language);
    xml.attr("Name", group.name);
  } else if (group.name != "video") {
    xml.attr("Name", group.name);
  }
  if (!first.role.empty() && first.role != "main") xml.attr("Role", first.role);
  if (!first.accessibility.empty()) xml.attr("Accessibility", first.accessibility);
  xml.children();
  const std::vector<const model::Track*> order = listing_order(group, p);
  for (size_t i = 0; i < order.size(); ++i) {
    AMS_RETURN_IF_ERROR(write_quality_level(xml, *order[i], i));
  }
  write_chunks(xml, timeline, v20, first.fragment_base);
  xml.close();
  return Status::ok();
}

// A WebVTT side-car as a text StreamIndex of TTML fragments (FourCC TTML, MS-SSTR 2.2.2.3), on
// the text timeline (the video's): Subtype CAPT for the .ism's accessibility=caption, else SUBT.
void write_text_stream_index(XmlWriter& xml, const model::Presentation& p, const model::Track& t,
                             bool v20, const std::string& args) {
  const model::Track* ref = text_timeline(p);
  if (ref == nullptr || !t.webvtt) return;
  std::vector<TimelineEntry> timeline = timeline_10mhz(*ref);
  xml.open("StreamIndex")
      .attr("Chunks", timeline.size())
      .attr("Type", "text")
      .attr("Subtype", t.accessibility == "caption" ? "CAPT" : "SUBT")
      .attr("Url", url::smooth_fragment_template(t.name, args))
      .attr("QualityLevels", 1);
  if (!t.language.empty()) xml.attr("Language", t.language);
  xml.attr("Name", t.name);
  xml.children();
  xml.open("QualityLevel")
      .attr("Index", 0)
      .attr("Bitrate", t.bitrate)
      .attr("FourCC", "TTML")
      .attr("CodecPrivateData", "")
      .empty();
  write_chunks(xml, timeline, v20, ref->fragment_base);
  xml.close();
}

}  // namespace

Result<std::string> render_smooth(const model::Presentation& presentation, bool v20,
                                  const Options& options) {
  XmlWriter xml;
  xml.declaration();
  xml.open("SmoothStreamingMedia")
      .attr("MajorVersion", 2)
      .attr("MinorVersion", v20 ? 0 : 2)
      .attr("Duration", presentation_duration_10mhz(presentation))
      .attr("TimeScale", kManifestTimescale);
  xml.children();
  for (model::TrackType type : {model::TrackType::kAudio, model::TrackType::kVideo}) {
    for (const TrackGroup& group : group_tracks(presentation, type)) {
      AMS_RETURN_IF_ERROR(
          write_stream_index(xml, presentation, group, type, v20, options.url_args()));
    }
  }
  for (const model::Track* t : tracks_of_type(presentation, model::TrackType::kText)) {
    if (t->codec == model::Codec::kWebVtt) {
      write_text_stream_index(xml, presentation, *t, v20, options.url_args());
    }
  }
  xml.close();
  return xml.take();
}

}  // namespace ams::manifest
