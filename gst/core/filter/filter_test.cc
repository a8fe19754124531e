#include "filter/filter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "manifest/test_presentations.h"

namespace ams::filter {
namespace {

using manifest::test::ams_doc_presentation;
using manifest::test::shared_file;

Filter parsed(const std::string& json) {
  auto f = parse(json);
  EXPECT_TRUE(f.is_ok()) << json << ": " << f.status().to_string();
  return f.is_ok() ? *f : Filter{};
}

std::string error_of(const std::string& json) {
  auto f = parse(json);
  return f.is_ok() ? "" : f.status().message();
}

std::vector<uint32_t> bitrates(const model::Presentation& p) {
  std::vector<uint32_t> out;
  for (const model::Track& t : p.tracks) out.push_back(t.bitrate);
  return out;
}

std::shared_ptr<const model::Presentation> applied(const model::Presentation& p,
                                                   const std::vector<Filter>& filters,
                                                   ApplyOptions options = {}) {
  auto out = apply(p, filters, nullptr, options);
  EXPECT_TRUE(out.is_ok()) << out.status().to_string();
  return out.is_ok() ? *out : nullptr;
}

TEST(FilterTest, ParsesTheRestReferenceExample) {
  const std::string path = shared_file("reference/examples/rest_assetfilter.json");
  ASSERT_FALSE(path.empty()) << "../shared/reference/examples/rest_assetfilter.json is missing";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  Filter f = parsed(text.str());
  ASSERT_TRUE(f.range.has_value());
  EXPECT_EQ(f.range->start, 0);
  EXPECT_EQ(f.range->end, 170000000);
  EXPECT_EQ(f.range->presentation_window, 9223372036854774806);
  EXPECT_EQ(f.range->live_backoff, 0);
  EXPECT_EQ(f.range->timescale, 10000000);
  EXPECT_FALSE(f.range->force_end);
  EXPECT_EQ(f.first_quality, 128000u);
  ASSERT_EQ(f.tracks.size(), 2u);
  ASSERT_EQ(f.tracks[0].conditions.size(), 3u);
  EXPECT_EQ(f.tracks[0].conditions[1].property, Property::kLanguage);
  EXPECT_EQ(f.tracks[0].conditions[1].operation, Operation::kNotEqual);
  EXPECT_EQ(f.tracks[0].conditions[1].value, "en");
  ASSERT_EQ(f.tracks[1].conditions.size(), 2u);
  EXPECT_EQ(f.tracks[1].conditions[1].min_bitrate, 3000000u);
  EXPECT_EQ(f.tracks[1].conditions[1].max_bitrate, 5000000u);
  // Written back and read again: the same filter.
  EXPECT_EQ(parsed(to_json(f)), f);
}

TEST(FilterTest, BadFiltersSayWhatIsWrong) {
  EXPECT_EQ(error_of("{"), "filter: not JSON");
  EXPECT_EQ(error_of("[]"), "filter: not a JSON object");
  EXPECT_EQ(error_of(R"({"properties":{"colour":1}})"),
            "filter: properties: unknown property \"colour\"");
  EXPECT_EQ(error_of(R"({"presentationTimeRange":{"startTimestamp":20,"endTimestamp":10}})"),
            "filter: presentationTimeRange: startTimestamp 20 is not before endTimestamp 10");
  EXPECT_EQ(error_of(R"({"presentationTimeRange":{"startTimestamp":-1}})"),
            "filter: presentationTimeRange.startTimestamp: negative");
  EXPECT_EQ(error_of(R"({"presentationTimeRange":{"timescale":0}})"),
            "filter: presentationTimeRange.timescale: 0 ticks per second");
  EXPECT_EQ(error_of(R"({"presentationTimeRange":{"startTimestamp":"ten"}})"),
            "filter: presentationTimeRange.startTimestamp: not an integer");
  EXPECT_EQ(
      error_of(
          R"({"tracks":[{"trackSelections":[{"property":"Type","operation":"Equal","value":"Subtitle"}]}]})"),
      "filter: tracks[0].trackSelections[0].value: a Type is Video, Audio or Text, not "
      "\"Subtitle\"");
  EXPECT_EQ(
      error_of(
          R"({"tracks":[{"trackSelections":[{"property":"Bitrate","operation":"Equal","value":"9-1"}]}]})"),
      "filter: tracks[0].trackSelections[0].value: the range 9-1 ends before it starts");
  EXPECT_EQ(
      error_of(
          R"({"tracks":[{"trackSelections":[{"property":"Bitrate","operation":"Equal","value":"fast"}]}]})"),
      "filter: tracks[0].trackSelections[0].value: a bitrate is bits/s (\"1500000\") or a "
      "range (\"0-1500000\"), not \"fast\"");
  EXPECT_EQ(
      error_of(
          R"({"tracks":[{"trackSelections":[{"property":"Height","operation":"Equal","value":"1"}]}]})"),
      "filter: tracks[0].trackSelections[0].property: \"Height\" is none of Type, Name, "
      "Language, FourCC, Bitrate");
  EXPECT_EQ(
      error_of(
          R"({"tracks":[{"trackSelections":[{"property":"Type","operation":"Like","value":"Video"}]}]})"),
      "filter: tracks[0].trackSelections[0].operation: \"Like\" is neither Equal nor "
      "NotEqual");
  EXPECT_EQ(error_of(R"({"tracks":[{"trackSelections":[]}]})"),
            "filter: tracks[0]: a selection without a condition");
  EXPECT_EQ(error_of(R"({"firstQuality":{"bitrate":0}})"),
            "filter: firstQuality.bitrate: not a bitrate");
  // Keys and enum values are compared without case, as AMS's deserializer does.
  Filter f = parsed(
      R"({"Tracks":[{"TrackSelections":[{"Property":"type","Operation":"equal","Value":"VIDEO"}]}]})");
  ASSERT_EQ(f.tracks.size(), 1u);
  EXPECT_EQ(f.tracks[0].conditions[0].property, Property::kType);
}

TEST(FilterTest, NamesAreWhatAUrlCanCarry) {
  EXPECT_TRUE(check_name("MyMobileDevice").is_ok());
  EXPECT_TRUE(check_name("first-10s_v1.2~x").is_ok());
  EXPECT_FALSE(check_name("").is_ok());
  EXPECT_FALSE(check_name("a;b").is_ok());
  EXPECT_FALSE(check_name("a,b").is_ok());
  EXPECT_FALSE(check_name("a b").is_ok());
  EXPECT_FALSE(check_name(std::string(261, 'a')).is_ok());
}

TEST(FilterTest, TrackSelectionsAreAnOrOfAnds) {
  const model::Presentation p = ams_doc_presentation();
  // The REST reference's second selection shape: video between two bitrates, plus all audio.
  Filter f = parsed(R"({"tracks":[
      {"trackSelections":[{"property":"Type","operation":"Equal","value":"Video"},
                          {"property":"Bitrate","operation":"Equal","value":"0-1500000"}]},
      {"trackSelections":[{"property":"Type","operation":"Equal","value":"Audio"}]}]})");
  EXPECT_EQ(bitrates(*applied(p, {f})), (std::vector<uint32_t>{1154816, 721495, 381048, 128041}));
  // Only video selected: the audio goes too (a filter lists the tracks to keep).
  Filter video = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"Type","operation":"Equal","value":"video"}]}]})");
  EXPECT_EQ(applied(p, {video})->tracks.size(), 5u);
  // Language: 639-1 and 639-2 forms name one language; NotEqual keeps the others.
  Filter english = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"Language","operation":"Equal","value":"en"}]}]})");
  EXPECT_EQ(bitrates(*applied(p, {english})), (std::vector<uint32_t>{128041}));
  Filter not_english = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"Language","operation":"NotEqual","value":"en-GB"}]}]})");
  EXPECT_EQ(applied(p, {not_english})->tracks.size(), 5u);  // the video tracks have no language
  // FourCC and Name, without regard to case; a single bitrate is an exact match.
  Filter codec = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"FourCC","operation":"Equal","value":"MP4A"}]},
      {"trackSelections":[{"property":"Bitrate","operation":"Equal","value":"721495"}]}]})");
  EXPECT_EQ(bitrates(*applied(p, {codec})), (std::vector<uint32_t>{721495, 128041}));
  // Open-ended ranges, as AMS's SDK writes them.
  Filter high = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"Bitrate","operation":"Equal","value":"2000000-"}]}]})");
  EXPECT_EQ(bitrates(*applied(p, {high})), (std::vector<uint32_t>{3579827, 2217354}));
  Filter low = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"Bitrate","operation":"Equal","value":"-400000"}]}]})");
  EXPECT_EQ(bitrates(*applied(p, {low})), (std::vector<uint32_t>{381048, 128041}));
  Filter name = parsed(
      R"({"tracks":[{"trackSelections":[{"property":"Name","operation":"NotEqual","value":"VIDEO"}]}]})");
  EXPECT_EQ(bitrates(*applied(p, {name})), (std::vector<uint32_t>{128041}));
  // Several filters: a track stays only when each of them keeps it.
  EXPECT_EQ(bitrates(*applied(p, {f, video})), (std::vector<uint32_t>{1154816, 721495, 381048}));
  // Nothing left to play: AMS's 400.
  Refusal why = Refusal::kRangeInvalid;
  auto none = apply(p, {english, video}, &why);
  EXPECT_FALSE(none.is_ok());
  EXPECT_EQ(none.status().message(), "the filters leave no video or audio track");
  EXPECT_EQ(why, Refusal::kRemovedAllStreams);
}

TEST(FilterTest, ATimeRangeKeepsWholeFragmentsWithTheirAbsoluteTimes) {
  const model::Presentation p = ams_doc_presentation();  // video 6.006 s fragments, audio 6.016 s
  // 10 s to 20 s: the video fragments holding 10 s (6.006-12.012) to the one holding 19.99 s
  // (18.018-24.024).
  Filter clip =
      parsed(R"({"presentationTimeRange":{"startTimestamp":100000000,"endTimestamp":200000000}})");
  auto c = applied(p, {clip});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->start_10mhz, 60060000);
  EXPECT_NE(c->id, p.id);
  for (const model::Track& t : c->tracks) {
    ASSERT_EQ(t.fragments.size(), 3u) << t.name;
    EXPECT_EQ(t.fragment_base, 1u) << t.name;
  }
  const model::Track& v = c->tracks[0];
  EXPECT_EQ(v.fragment_start_10mhz(0), 60060000);
  EXPECT_EQ(v.fragment_start_10mhz(2), 180180000);
  EXPECT_EQ(v.duration, 3 * 180180);
  EXPECT_TRUE(v.fragment_at(120120000).has_value());
  EXPECT_FALSE(v.fragment_at(0).has_value());  // outside the filter: the server answers 404
  EXPECT_FALSE(v.fragment_at(240240000).has_value());
  // Audio fragments start at or after their video boundary: 6.016, 12.032, 18.048 s.
  const model::Track& a = c->tracks.back();
  EXPECT_EQ(a.fragment_start_10mhz(0), 60160000);
  EXPECT_EQ(a.fragment_start_10mhz(2), 180480000);
  // The presentation lasts from the first fragment to the end of the longest (audio, 24.064 s).
  EXPECT_EQ(c->duration_10mhz, 240640000 - 60060000);
  // The shared sample tables and the source's id for the answer cache.
  EXPECT_EQ(c->source_id, p.source_id);

  // Two filters: one trims the start, the other the end, in another timescale (ms).
  Filter from = parsed(R"({"presentationTimeRange":{"startTimestamp":10000,"timescale":1000}})");
  Filter to = parsed(R"({"presentationTimeRange":{"endTimestamp":20000,"timescale":1000}})");
  auto both = applied(p, {from, to});
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(both->start_10mhz, 60060000);
  EXPECT_EQ(both->tracks[0].fragments.size(), 3u);
  // A start exactly on a boundary begins there; an end exactly on one stops before it.
  Filter exact =
      parsed(R"({"presentationTimeRange":{"startTimestamp":120120000,"endTimestamp":240240000}})");
  auto e = applied(p, {exact});
  EXPECT_EQ(e->tracks[0].fragment_base, 2u);
  EXPECT_EQ(e->tracks[0].fragments.size(), 2u);
  // Only an end: from 0.
  Filter head = parsed(R"({"presentationTimeRange":{"endTimestamp":10}})");
  auto h = applied(p, {head});
  EXPECT_EQ(h->start_10mhz, 0);
  EXPECT_EQ(h->tracks[0].fragments.size(), 1u);
  // Ranges that miss each other, or the asset: 400.
  EXPECT_FALSE(apply(p, {parsed(R"({"presentationTimeRange":{"startTimestamp":100}})"),
                         parsed(R"({"presentationTimeRange":{"endTimestamp":50}})")})
                   .is_ok());
  EXPECT_FALSE(
      apply(p, {parsed(R"({"presentationTimeRange":{"startTimestamp":9000000000}})")}).is_ok());
  // The live-only properties change nothing for VOD.
  Filter live = parsed(
      R"({"presentationTimeRange":{"presentationWindowDuration":600000000,"liveBackoffDuration":20000000}})");
  EXPECT_EQ(applied(p, {live})->tracks[0].fragments.size(), p.tracks[0].fragments.size());
}

// Video at 3000 Hz in 2 s fragments and AAC at 48 kHz whose fragments start at the first
// 1024-sample frame at or after each video boundary (as `ams encode` and the ffmpeg corpus make
// them): every audio boundary but 0 lies up to a frame after the video's.
model::Presentation boundary_presentation() {
  model::Presentation p;
  model::Track v;
  v.type = model::TrackType::kVideo;
  v.name = "video";
  v.timescale = 3000;
  auto vt = std::make_shared<model::SampleTable>();
  for (int i = 0; i < 300; ++i) vt->samples.push_back({0, 100, 100, i * 100, 0, i % 60 == 0});
  v.table = vt;
  for (uint32_t f = 0; f < 5; ++f) v.fragments.push_back({f * 60, 60, f * 6000, 6000});
  v.duration = 30000;
  model::Track a;
  a.type = model::TrackType::kAudio;
  a.name = "aac_eng_2_128000_2_1";
  a.language = "eng";
  a.timescale = 48000;
  auto at = std::make_shared<model::SampleTable>();
  for (int i = 0; i < 470; ++i) at->samples.push_back({0, 10, 1024, i * 1024, 0, true});
  a.table = at;
  uint32_t first = 0;
  for (int f = 0; f < 5; ++f) {
    const uint32_t next = f == 4 ? 470 : static_cast<uint32_t>((96000 * (f + 1) + 1023) / 1024);
    a.fragments.push_back(
        {first, next - first, int64_t{first} * 1024, int64_t{next - first} * 1024});
    first = next;
  }
  a.duration = 470 * 1024;
  p.tracks = {v, a};
  return p;
}

TEST(FilterTest, TheAudioCoversTheVideoStartOfATrimmedPresentation) {
  const model::Presentation p = boundary_presentation();
  // The audio fragment at the 4 s video boundary starts at frame 188, 4.010667 s: 10.7 ms late.
  ASSERT_EQ(p.tracks[1].fragments[2].first_sample, 188u);
  const Filter from4s = parsed(R"({"presentationTimeRange":{"startTimestamp":40000000}})");
  // Without the lead-in (DASH, Smooth), the audio starts at its own boundary.
  auto plain = applied(p, {from4s});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->tracks[1].fragments[0].first_sample, 188u);
  EXPECT_EQ(plain->tracks[1].fragments[0].start, 188 * 1024);
  ApplyOptions hls;
  hls.audio_lead_in = true;
  auto c = applied(p, {from4s}, hls);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->start_10mhz, 40000000);
  const model::Track& v = c->tracks[0];
  const model::Track& a = c->tracks[1];
  EXPECT_EQ(v.fragment_start_10mhz(0), 40000000);
  // Its first fragment takes the frame still presenting at 4 s (187: 3.989333 to 4.010667 s), and
  // no frame that ends before it; the rest keep their unfiltered bounds (same segment numbers).
  EXPECT_EQ(a.fragment_base, 2u);
  EXPECT_EQ(a.fragments[0].first_sample, 187u);
  EXPECT_EQ(a.fragments[0].start, 187 * 1024);
  EXPECT_EQ(a.fragments[0].sample_count, p.tracks[1].fragments[2].sample_count + 1);
  EXPECT_EQ(a.fragments[0].start + a.fragments[0].duration, p.tracks[1].fragments[3].start);
  EXPECT_EQ(a.fragments[1].start, p.tracks[1].fragments[3].start);
  EXPECT_LE(a.fragment_start_10mhz(0), v.fragment_start_10mhz(0));
  EXPECT_EQ(a.duration, 470 * 1024 - 187 * 1024);
  // The unfiltered presentation is untouched, and a start at 0 needs no lead.
  EXPECT_EQ(p.tracks[1].fragments[2].first_sample, 188u);
  auto head = applied(p, {parsed(R"({"presentationTimeRange":{"endTimestamp":30000000}})")}, hls);
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->tracks[1].fragments[0].first_sample, 0u);
}

TEST(FilterTest, FirstQualityPutsThatRenditionFirst) {
  const model::Presentation p = ams_doc_presentation();
  auto exact = applied(p, {parsed(R"({"firstQuality":{"bitrate":2217354}})")});
  EXPECT_EQ(exact->first_quality, 2217354u);
  // The tracks keep their order; the manifests list that one first (filtered_manifest_test).
  EXPECT_EQ(bitrates(*exact), bitrates(p));
  // No rendition of that bitrate: the nearest.
  EXPECT_EQ(applied(p, {parsed(R"({"firstQuality":{"bitrate":700000}})")})->first_quality, 721495u);
  EXPECT_FALSE(p.first_quality.has_value());
  // Two filters that both name one: AMS's MPE_FILTER_COMPOSITION_MULTIPLE_FIRST_QUALITY_...
  Refusal why = Refusal::kRangeInvalid;
  EXPECT_FALSE(apply(p,
                     {parsed(R"({"firstQuality":{"bitrate":381048}})"),
                      parsed(R"({"firstQuality":{"bitrate":1154816}})")},
                     &why)
                   .is_ok());
  EXPECT_EQ(why, Refusal::kMultipleFirstQuality);
}

TEST(FilterTest, HostileInputIsAnErrorNotACrash) {
  // Deep nesting, huge numbers, wrong types at every level.
  std::string deep(100000, '[');
  EXPECT_FALSE(parse(deep).is_ok());
  EXPECT_FALSE(parse(R"({"presentationTimeRange":{"startTimestamp":1e400}})").is_ok());
  EXPECT_FALSE(
      parse(R"({"presentationTimeRange":{"startTimestamp":18446744073709551615}})").is_ok());
  EXPECT_FALSE(parse(R"({"tracks":{}})").is_ok());
  EXPECT_FALSE(parse(R"({"tracks":[1]})").is_ok());
  EXPECT_FALSE(parse(R"({"tracks":[{"trackSelections":[{"property":1}]}]})").is_ok());
  EXPECT_FALSE(parse(R"({"properties":[]})").is_ok());
  EXPECT_FALSE(parse(std::string("{\"tracks\":\"\xff\xfe\"}")).is_ok());
}

}  // namespace
}  // namespace ams::filter
