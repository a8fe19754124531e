// ams inspect: the presentation of an asset as JSON (tracks, codec strings, fragments), read
// from the index alone, as the endpoint and the elements see it.
#include <glib.h>

#include <cstdio>
#include <string>

#include "base/json.h"
#include "commands.h"
#include "model/builder.h"

namespace ams::tools {
namespace {

void write_track(JsonWriter& j, const model::Track& t, bool fragments) {
  j.begin_object();
  j.key("name").value(t.name).key("type").value(model::track_type_name(t.type));
  j.key("codec").value(model::codec_name(t.codec)).key("fourcc").value(t.fourcc);
  j.key("codecs").value(t.codec_string).key("bitrate").value(uint64_t{t.bitrate});
  j.key("language").value(t.language);
  if (t.type == model::TrackType::kVideo) {
    j.key("width").value(uint64_t{t.width}).key("height").value(uint64_t{t.height});
  } else if (t.type == model::TrackType::kAudio) {
    j.key("sampleRate").value(uint64_t{t.sample_rate}).key("channels").value(uint64_t{t.channels});
  }
  if (!t.role.empty()) j.key("role").value(t.role);
  if (!t.accessibility.empty()) j.key("accessibility").value(t.accessibility);
  j.key("file").value(t.file).key("trackId").value(uint64_t{t.file_track_id});
  j.key("timescale").value(uint64_t{t.timescale});
  j.key("duration").value(to_seconds(t.duration, t.timescale ? t.timescale : 1));
  j.key("samples").value(uint64_t{t.samples().size()});
  j.key("codecPrivateData").value(to_hex(t.codec_private));
  j.key("fragmentCount").value(uint64_t{t.fragments.size()});
  if (fragments) {
    // Times as in Fragments(name=T) URLs: 10 MHz.
    j.key("fragments").begin_array();
    for (size_t i = 0; i < t.fragments.size(); ++i) {
      const model::Fragment& f = t.fragments[i];
      int64_t end = rescale(f.start + f.duration, t.timescale, kManifestTimescale);
      j.begin_object();
      j.key("start").value(t.fragment_start_10mhz(i));
      j.key("duration").value(end - t.fragment_start_10mhz(i));
      j.key("samples").value(uint64_t{f.sample_count});
      j.end_object();
    }
    j.end_array();
  }
  j.end_object();
}

}  // namespace

int inspect_main(int argc, char** argv) {
  gboolean no_fragments = FALSE;
  GOptionEntry entries[] = {
      {"no-fragments", 0, 0, G_OPTION_ARG_NONE, &no_fragments, "Leave out the fragment lists",
       nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  GOptionContext* context = g_option_context_new("PATH - print an asset's presentation as JSON");
  g_option_context_set_summary(context,
                               "PATH is an .ism, an MP4 file, or a folder of MP4 files. Only the "
                               "index is read. Fragment times are 10 MHz, as in fragment URLs.");
  g_option_context_add_main_entries(context, entries, nullptr);
  GError* error = nullptr;
  bool parsed = g_option_context_parse(context, &argc, &argv, &error);
  g_option_context_free(context);
  if (!parsed || argc != 2) {
    std::fprintf(stderr, "ams inspect: %s\nUsage: ams inspect [--no-fragments] PATH\n",
                 error ? error->message : "one PATH expected");
    if (error) g_error_free(error);
    return 2;
  }
  auto presentation = model::build_presentation(argv[1]);
  if (!presentation) {
    std::fprintf(stderr, "ams inspect: %s\n", presentation.status().to_string().c_str());
    return 1;
  }
  const model::Presentation& p = **presentation;
  JsonWriter j;
  j.begin_object();
  j.key("name").value(p.name);
  j.key("duration").value(to_seconds(p.duration_10mhz, kManifestTimescale));
  if (!p.formats.empty()) j.key("formats").value(p.formats);
  if (!p.client_manifest.empty()) j.key("clientManifest").value(p.client_manifest);
  j.key("fragmentsPerHlsSegment").value(uint64_t{p.fragments_per_hls_segment});
  j.key("tracks").begin_array();
  for (const model::Track& t : p.tracks) write_track(j, t, !no_fragments);
  j.end_array();
  j.end_object();
  std::printf("%s\n", j.str().c_str());
  return 0;
}

}  // namespace ams::tools
