// Feeds arbitrary bytes to ams::filter::parse as a filter's JSON, and every filter it accepts to
// filter::apply on the AMS documentation presentation (manifest/test_presentations.h). Beyond not
// crashing: what to_json writes parses again to a filter that writes the same text, and a
// filtered presentation keeps only whole, ordered fragments of tracks the filter selects, inside
// the source's own; with HLS's audio lead-in (ApplyOptions) the first fragment may start earlier
// but ends where the source's does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "filter/filter.h"
#include "manifest/test_presentations.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ams::Result<ams::filter::Filter> f = ams::filter::parse(text);
  if (!f.is_ok()) return 0;
  const std::string json = ams::filter::to_json(*f);
  ams::Result<ams::filter::Filter> again = ams::filter::parse(json);
  if (!again.is_ok() || ams::filter::to_json(*again) != json) std::abort();
  static const ams::model::Presentation source = ams::manifest::test::ams_doc_presentation();
  ams::filter::ApplyOptions options;
  options.audio_lead_in = size > 0 && (data[size - 1] & 1) != 0;
  auto p = ams::filter::apply(source, {*f, *again}, nullptr, options);
  if (!p.is_ok()) return 0;
  for (const ams::model::Track& t : (*p)->tracks) {
    if (!ams::filter::selects(*f, t)) std::abort();
    const ams::model::Track* original = source.find(t.name, t.bitrate);
    if (original == nullptr || t.fragments.empty()) std::abort();
    if (t.fragment_base + t.fragments.size() > original->fragments.size()) std::abort();
    for (size_t i = 0; i < t.fragments.size(); ++i) {
      const ams::model::Fragment& a = t.fragments[i];
      const ams::model::Fragment& b = original->fragments[t.fragment_base + i];
      const bool led = options.audio_lead_in && i == 0 && t.fragment_base > 0 &&
                       t.type == ams::model::TrackType::kAudio;
      if (led ? a.start > b.start || a.start + a.duration != b.start + b.duration
              : a.start != b.start || a.duration != b.duration)
        std::abort();
    }
  }
  return 0;
}
