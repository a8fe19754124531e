// HLS master and media playlists (RFC 8216) in the AMS shapes: v4 (TS, audio as EXT-X-MEDIA
// renditions, I-frame playlists), v3 (TS, one audio track muxed into every variant, chosen by
// `audiotrack=`) and CMAF (fMP4 with EXT-X-MAP, one segment per fragment).
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "manifest/timeline.h"
#include "manifest/url_template.h"
#include "manifest/writers.h"

namespace ams::manifest {
namespace {

using model::Track;
using model::TrackType;

// BANDWIDTH is an estimate from the track bitrates (the .ism systemBitrate): per elementary stream,
// TS packets carry 184 payload bytes in 188 (188/184), plus 0.1 % for PES headers and adaptation
// field stuffing, plus 8192 bit/s for PAT/PMT/PCR. AMS's own figures fit bitrate * 188/184 + 8192
// per stream to within 0.03 %; the 0.1 % keeps ours above them (docs/manifests.md).
uint64_t ts_stream_bandwidth(uint32_t bitrate) {
  uint64_t b = bitrate;
  return (b * 188 + 183) / 184 + (b + 999) / 1000 + 8192;
}
// fMP4: moof/traf/trun per fragment and the mdat header, well under 1 % for 2 s fragments.
uint64_t cmaf_stream_bandwidth(uint32_t bitrate) {
  uint64_t b = bitrate;
  return b + (b + 99) / 100 + 4096;
}
uint64_t stream_bandwidth(Format format, const Track* t) {
  if (t == nullptr) return 0;
  return format == Format::kHlsCmaf ? cmaf_stream_bandwidth(t->bitrate)
                                    : ts_stream_bandwidth(t->bitrate);
}

// "6.006000": the duration rounded to microseconds, printed without floating point.
std::string seconds_text(int64_t duration_10mhz) {
  int64_t us = (duration_10mhz + 5) / 10;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%06" PRId64, us / 1000000, us % 1000000);
  return buf;
}
// EXT-X-TARGETDURATION: the longest printed EXTINF rounded up, as AMS does (8.425708 -> 9).
int64_t target_duration(const std::vector<int64_t>& durations_10mhz) {
  int64_t longest_us = 0;
  for (int64_t d : durations_10mhz) longest_us = std::max(longest_us, (d + 5) / 10);
  return std::max<int64_t>(1, (longest_us + 999999) / 1000000);
}

int version_of(Format format) {
  switch (format) {
    case Format::kHlsV3:
      return 3;
    case Format::kHlsCmaf:
      return 7;
    default:
      return 4;
  }
}

std::string resolution(const Track& t) {
  return std::to_string(t.width) + "x" + std::to_string(t.height);
}

// The audio track of a v3 presentation: the one `audiotrack=` names, else the first.
Result<const Track*> v3_audio_track(const model::Presentation& p, const Options& options) {
  std::vector<const Track*> audio = tracks_of_type(p, TrackType::kAudio);
  if (options.audio_track.empty()) return audio.empty() ? nullptr : audio.front();
  for (const Track* t : audio) {
    if (t->name == options.audio_track) return t;
  }
  return not_found("hls: no audio track named '" + options.audio_track + "'");
}

std::string media_tag(const Track& t, bool is_default, Format format, const std::string& args) {
  std::string s = "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"" + t.name + "\"";
  if (!t.language.empty() && t.language != "und") s += ",LANGUAGE=\"" + t.language + "\"";
  s += is_default ? ",DEFAULT=YES" : ",DEFAULT=NO";
  s += ",AUTOSELECT=YES";
  if (t.accessibility == "description") {
    s += ",CHARACTERISTICS=\"public.accessibility.describes-video\"";
  }
  s += ",URI=\"" + url::hls_playlist(t.bitrate, t.name, format_name(format), "", false, args) +
       "\"\n";
  return s;
}

// The WebVTT side-cars a master lists as SUBTITLES renditions (other text is not served).
std::vector<const Track*> subtitle_tracks(const model::Presentation& p) {
  std::vector<const Track*> out;
  for (const Track* t : tracks_of_type(p, TrackType::kText)) {
    if (t->codec == model::Codec::kWebVtt && t->webvtt) out.push_back(t);
  }
  return out;
}

// A SUBTITLES rendition (RFC 8216 4.3.4.1): none is DEFAULT (a player shows subtitles when asked),
// all AUTOSELECT (a player may pick one by the user's language); captions for the deaf and hard of
// hearing (the .ism's accessibility=caption) carry Apple's SDH characteristics.
std::string subtitle_tag(const Track& t, Format format, const std::string& args) {
  std::string s = "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"" + t.name + "\"";
  if (!t.language.empty() && t.language != "und") s += ",LANGUAGE=\"" + t.language + "\"";
  s += ",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO";
  if (t.accessibility == "caption") {
    s += ",CHARACTERISTICS=\"public.accessibility.transcribes-spoken-dialog,"
         "public.accessibility.describes-music-and-sound\"";
  }
  s += ",URI=\"" + url::hls_playlist(t.bitrate, t.name, format_name(format), "", false, args) +
       "\"\n";
  return s;
}

// CEA-608 captions in the video (Track::cea608_channels): one CLOSED-CAPTIONS rendition per
// channel that any video track carries (RFC 8216 4.3.4.1: INSTREAM-ID, no URI; the language is the
// video's when the file gives one).
std::string caption_tags(const std::vector<const Track*>& video) {
  uint8_t channels = 0;
  std::string language;
  for (const Track* v : video) {
    channels |= v->cea608_channels;
    if (v->cea608_channels && language.empty() && v->language != "und") language = v->language;
  }
  std::string s;
  for (int c = 0; c < 4; ++c) {
    if (!(channels & (1 << c))) continue;
    const std::string id = "CC" + std::to_string(c + 1);
    s += "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"" + id + "\"";
    if (!language.empty()) s += ",LANGUAGE=\"" + language + "\"";
    s += ",DEFAULT=NO,AUTOSELECT=YES,INSTREAM-ID=\"" + id + "\"\n";
  }
  return s;
}

std::string codecs_of(const Track* video, const std::vector<const Track*>& audio) {
  std::vector<std::string> codecs;
  if (video != nullptr) codecs.push_back(video->codec_string);
  for (const Track* a : audio) {
    if (std::find(codecs.begin(), codecs.end(), a->codec_string) == codecs.end()) {
      codecs.push_back(a->codec_string);
    }
  }
  std::string s;
  for (const std::string& c : codecs) s += (s.empty() ? "" : ",") + c;
  return s;
}

}  // namespace

Result<std::string> render_hls_master(const model::Presentation& p, Format format,
                                      const Options& options) {
  const std::string_view fmt = format_name(format);
  std::vector<const Track*> video = tracks_of_type(p, TrackType::kVideo);
  std::vector<const Track*> audio = tracks_of_type(p, TrackType::kAudio);
  const Track* main_audio = audio.empty() ? nullptr : audio.front();
  if (format == Format::kHlsV3) {
    AMS_ASSIGN_OR_RETURN(main_audio, v3_audio_track(p, options));
    audio.assign(main_audio != nullptr ? 1 : 0, main_audio);
  }
  const bool v3 = format == Format::kHlsV3;
  const bool group = !v3 && !audio.empty();
  const std::vector<const Track*> subtitles = subtitle_tracks(p);

  std::string out = "#EXTM3U\n#EXT-X-VERSION:" + std::to_string(version_of(format)) + "\n";
  if (format == Format::kHlsCmaf) out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (group) {
    for (size_t i = 0; i < audio.size(); ++i) {
      out += media_tag(*audio[i], i == 0, format, options.url_args());
    }
  }
  for (const Track* t : subtitles) out += subtitle_tag(*t, format, options.url_args());
  out += caption_tags(video);

  std::stable_sort(video.begin(), video.end(),
                   [](const Track* a, const Track* b) { return a->bitrate < b->bitrate; });
  // A filter's first quality: that variant first (players start with the first listed), the
  // others in their order.
  if (p.first_quality) {
    std::stable_partition(video.begin(), video.end(),
                          [&](const Track* t) { return t->bitrate == *p.first_quality; });
  }
  const uint64_t audio_bw = stream_bandwidth(format, main_audio);
  for (const Track* v : video) {
    const std::string bw = std::to_string(stream_bandwidth(format, v) + audio_bw);
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + bw;
    if (v->width > 0 && v->height > 0) out += ",RESOLUTION=" + resolution(*v);
    out += ",CODECS=\"" + codecs_of(v, audio) + "\"";
    if (group) out += ",AUDIO=\"audio\"";
    if (!subtitles.empty()) out += ",SUBTITLES=\"subs\"";
    if (v->cea608_channels) out += ",CLOSED-CAPTIONS=\"cc\"";
    out += "\n";
    out += url::hls_playlist(v->bitrate, v->name, fmt,
                             v3 && main_audio != nullptr ? main_audio->name : "", false,
                             options.url_args()) +
           "\n";
    if (format == Format::kHlsV4) {
      out += "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=" + bw;
      if (v->width > 0 && v->height > 0) out += ",RESOLUTION=" + resolution(*v);
      out += ",CODECS=\"" + v->codec_string + "\",URI=\"" +
             url::hls_playlist(v->bitrate, v->name, fmt, "", true, options.url_args()) + "\"\n";
    }
  }
  // Without video the audio-only variant is the whole presentation: audio-only=false keeps it.
  if (main_audio != nullptr && (options.audio_only || video.empty())) {
    out += "#EXT-X-STREAM-INF:BANDWIDTH=" + std::to_string(audio_bw) + ",CODECS=\"" +
           codecs_of(nullptr, audio) + "\"";
    if (group) out += ",AUDIO=\"audio\"";
    if (!subtitles.empty()) out += ",SUBTITLES=\"subs\"";
    out += "\n" +
           url::hls_playlist(main_audio->bitrate, main_audio->name, fmt, "", false,
                             options.url_args()) +
           "\n";
  }
  if (video.empty() && main_audio == nullptr) {
    return invalid_argument("hls: the presentation has neither video nor audio");
  }
  return out;
}

size_t fragments_per_segment(const model::Presentation& p, Format format) {
  if (format == Format::kHlsV3 || format == Format::kHlsV4) {
    return std::max<size_t>(1, p.fragments_per_hls_segment);
  }
  return 1;
}

const Track* text_timeline(const model::Presentation& p) {
  for (TrackType type : {TrackType::kVideo, TrackType::kAudio}) {
    std::vector<const Track*> tracks = tracks_of_type(p, type);
    if (!tracks.empty()) return tracks.front();
  }
  return nullptr;
}

std::vector<HlsSegment> hls_segments(const model::Presentation& p, const Track& track,
                                     Format format) {
  return model::segments_of(track, fragments_per_segment(p, format));
}

Result<std::string> render_hls_media(const model::Presentation& p, Format format,
                                     const Track& track, const Options& options,
                                     bool iframes_only) {
  const std::string_view fmt = format_name(format);
  if (iframes_only && (format != Format::kHlsV4 || track.type != TrackType::kVideo)) {
    return invalid_argument("hls: I-frame playlists exist for HLS v4 video tracks only");
  }
  if (track.type == TrackType::kText && (track.codec != model::Codec::kWebVtt || !track.webvtt)) {
    return unsupported("hls: only WebVTT text tracks are served");
  }
  if (track.type == TrackType::kText && iframes_only) {
    return invalid_argument("hls: I-frame playlists exist for HLS v4 video tracks only");
  }
  // A text track's segments are the video's (the first video track's, else the first audio
  // track's), each a WebVTT file of the cues it overlaps (text/webvtt.h), named by its start.
  const Track* timeline = &track;
  if (track.type == TrackType::kText) {
    timeline = text_timeline(p);
    if (timeline == nullptr) return invalid_argument("hls: no track for the text to align to");
  }
  std::string audio_track;
  if (format == Format::kHlsV3 && track.type == TrackType::kVideo) {
    AMS_ASSIGN_OR_RETURN(const Track* a, v3_audio_track(p, options));
    if (a != nullptr) audio_track = a->name;
  }

  // Each entry: (duration, URI). I-frames: one key frame per fragment.
  std::vector<int64_t> durations;
  std::vector<std::string> uris;
  if (iframes_only) {
    for (const TimelineEntry& e : timeline_10mhz(track)) {
      durations.push_back(e.duration);
      uris.push_back(url::hls_keyframe(track.name, e.start, fmt, options.url_args()));
    }
  } else {
    for (const HlsSegment& s : hls_segments(p, *timeline, format)) {
      durations.push_back(s.duration_10mhz);
      uris.push_back(
          url::hls_segment(track.name, s.start_10mhz, fmt, audio_track, options.url_args()));
    }
  }

  std::string out = "#EXTM3U\n#EXT-X-VERSION:" + std::to_string(version_of(format)) + "\n";
  out += "#EXT-X-PLAYLIST-TYPE:VOD\n";
  if (format == Format::kHlsCmaf) out += "#EXT-X-INDEPENDENT-SEGMENTS\n";
  // A filter's trimmed start: the number of its first segment in the unfiltered playlist, as AMS
  // counts (a TS segment packs fragments_per_segment fragments).
  const size_t per = iframes_only ? 1 : fragments_per_segment(p, format);
  out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(timeline->fragment_base / per) + "\n";
  out += "#EXT-X-TARGETDURATION:" + std::to_string(target_duration(durations)) + "\n";
  if (iframes_only) out += "#EXT-X-I-FRAMES-ONLY\n";
  // AES-128: every segment (and key frame) encrypted whole with the one key and IV. In HLS CMAF
  // the EXT-X-MAP comes first, so that the key does not apply to it (RFC 8216 4.3.2.4): the init
  // segment, codec configuration and no media, stays clear, as GStreamer's and Chromium's HLS
  // need (an encrypted one crashed hlsdemux2 and stalled Chromium; docs/protection.md).
  // WebVTT segments are text files: no init segment, and never encrypted (AMS left them clear).
  const bool text = track.type == TrackType::kText;
  const bool map_first = format == Format::kHlsCmaf && !options.aes128_key_uri.empty() && !text;
  if (map_first) {
    out += "#EXT-X-MAP:URI=\"" + url::hls_init(track.name, fmt, options.url_args()) + "\"\n";
  }
  if (!options.aes128_key_uri.empty() && !text) {
    out += "#EXT-X-KEY:METHOD=AES-128,URI=\"" + options.aes128_key_uri + "\",IV=0x" +
           options.aes128_iv_hex + "\n";
  }
  // Common encryption of CMAF segments (cbcs, docs/protection.md): SAMPLE-AES (RFC 8216
  // 4.3.2.4) with the W3C common system's pssh as the key's URI, as EME players take init data.
  if (format == Format::kHlsCmaf && options.common_encryption && !text) {
    out +=
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"data:text/plain;base64," +
        options.common_encryption->pssh_base64 +
        "\",KEYFORMAT=\"urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b\",KEYFORMATVERSIONS=\"1\"\n";
  }
  if (format == Format::kHlsCmaf && !map_first && !text) {
    out += "#EXT-X-MAP:URI=\"" + url::hls_init(track.name, fmt, options.url_args()) + "\"\n";
  }
  for (size_t i = 0; i < uris.size(); ++i) {
    out += "#EXTINF:" + seconds_text(durations[i]) + ",no-desc\n" + uris[i] + "\n";
  }
  out += "#EXT-X-ENDLIST\n";
  return out;
}

}  // namespace ams::manifest
