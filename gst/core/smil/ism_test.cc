#include "smil/ism.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ams::smil {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using Params = std::vector<std::pair<std::string, std::string>>;

// The AMS examples live beside the repository: $AMS_SOURCE_ROOT/../shared/reference/examples.
std::optional<fs::path> examples_dir() {
  const char* root = std::getenv("AMS_SOURCE_ROOT");
  if (root == nullptr) return std::nullopt;
  fs::path dir = fs::path(root) / ".." / "shared" / "reference" / "examples";
  if (!fs::is_directory(dir)) return std::nullopt;
  return dir;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

#define LOAD_EXAMPLE_OR_SKIP(var, name)                                                      \
  std::optional<fs::path> var##_dir = examples_dir();                                        \
  if (!var##_dir) {                                                                          \
    GTEST_FAIL() << "the AMS examples folder $AMS_SOURCE_ROOT/../shared/reference/examples " \
                    "is absent (or AMS_SOURCE_ROOT is not set)";                             \
  }                                                                                          \
  std::string var = read_file(*var##_dir / name);                                            \
  ASSERT_FALSE(var.empty()) << name

// An .ism around the given <switch> content.
std::string in_switch(const std::string& tracks, const std::string& head = "") {
  return "<smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\"><head>" + head +
         "</head><body><switch>" + tracks + "</switch></body></smil>";
}

Status parse_status(const std::string& xml) {
  return parse_ism(xml).status();
}

TEST(IsmExamples, EncoderOutputWithDescriptiveAudio) {
  LOAD_EXAMPLE_OR_SKIP(xml, "doc_v3_encoder_output_descriptive_audio.ism");
  Result<Ism> r = parse_ism(xml);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  const Ism& ism = *r;
  EXPECT_EQ(ism.client_manifest_relative_path, "ignite.ismc");
  EXPECT_EQ(ism.formats, "mp4-v3");
  EXPECT_EQ(ism.fragments_per_hls_segment, std::nullopt);
  ASSERT_EQ(ism.tracks.size(), 7u);

  const IsmTrack& audio = ism.tracks[0];
  EXPECT_EQ(audio.kind, IsmTrackKind::kAudio);
  EXPECT_EQ(audio.src, "ignite_320x180_AACAudio_381.mp4");
  EXPECT_EQ(audio.system_bitrate, 128041u);
  EXPECT_EQ(audio.system_language, "eng");
  EXPECT_EQ(audio.track_id, 2u);
  EXPECT_EQ(audio.track_name, "aac_eng_2_128041_2_1");
  EXPECT_EQ(audio.params, (Params{{"trackIndex", "ignite_320x180_AACAudio_381_2.mpi"}}));

  const IsmTrack& described = ism.tracks[1];
  EXPECT_EQ(described.kind, IsmTrackKind::kAudio);
  EXPECT_EQ(described.src, "audio_description.m4a");
  EXPECT_EQ(described.system_bitrate, 194000u);
  EXPECT_EQ(described.system_language, "eng");
  EXPECT_EQ(described.track_id, std::nullopt);
  EXPECT_EQ(described.track_name, "aac_eng_audio_description");
  EXPECT_EQ(described.accessibility, "description");
  EXPECT_EQ(described.role, "alternate");
  EXPECT_TRUE(described.params.empty());

  const uint32_t video_bitrates[] = {3549855, 2216764, 1154569, 721893, 381027};
  for (size_t i = 0; i < 5; ++i) {
    const IsmTrack& v = ism.tracks[2 + i];
    EXPECT_EQ(v.kind, IsmTrackKind::kVideo);
    EXPECT_EQ(v.system_bitrate, video_bitrates[i]);
    EXPECT_EQ(v.track_id, 1u);
    EXPECT_EQ(v.track_name, "video");
    EXPECT_EQ(v.system_language, "");
    ASSERT_EQ(v.params.size(), 1u);
    EXPECT_EQ(v.params[0].first, "trackIndex");
  }
  EXPECT_EQ(ism.tracks[2].src, "ignite_1280x720_AACAudio_3549.mp4");
  EXPECT_EQ(ism.tracks[6].src, "ignite_320x180_AACAudio_381.mp4");
}

// Apart from the hand-added descriptive audio track, the example is encoder output: the writer
// must give back those exact bytes.
TEST(IsmExamples, WriterReproducesEncoderOutputByteForByte) {
  LOAD_EXAMPLE_OR_SKIP(xml, "doc_v3_encoder_output_descriptive_audio.ism");
  size_t begin = xml.find("      <audio src=\"audio_description.m4a\"");
  ASSERT_NE(begin, std::string::npos);
  size_t end = xml.find("</audio>", begin);
  ASSERT_NE(end, std::string::npos);
  end = xml.find('\n', end);
  std::string encoder_output = xml.substr(0, begin) + xml.substr(end + 1);
  Result<Ism> r = parse_ism(encoder_output);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->tracks.size(), 6u);
  EXPECT_EQ(write_ism(*r), encoder_output);
}

TEST(IsmExamples, SdkSingleLine) {
  LOAD_EXAMPLE_OR_SKIP(xml, "sdk_php_test_small.ism");
  Result<Ism> r = parse_ism(xml);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->client_manifest_relative_path, "small.ismc");
  EXPECT_EQ(r->formats, "");
  ASSERT_EQ(r->tracks.size(), 1u);
  EXPECT_EQ(r->tracks[0].kind, IsmTrackKind::kVideo);
  EXPECT_EQ(r->tracks[0].src, "small.ismv");
  EXPECT_EQ(r->tracks[0].system_bitrate, 952962u);
  EXPECT_EQ(r->tracks[0].track_id, 1u);
  EXPECT_EQ(r->tracks[0].track_name, "");
}

TEST(IsmExamples, HlsPackingRatio) {
  LOAD_EXAMPLE_OR_SKIP(xml, "doc_hls_packing_ratio.ism");
  // As documented, the switch holds only "...": valid XML but no track.
  Status empty = parse_status(xml);
  EXPECT_EQ(empty.code(), StatusCode::kInvalidData);
  EXPECT_EQ(empty.message(), ".ism has no track in <smil><body><switch>");

  size_t dots = xml.find("...");
  ASSERT_NE(dots, std::string::npos);
  std::string filled = xml;
  filled.replace(dots, 3, "<video src=\"v.mp4\" systemBitrate=\"1000\"/>");
  Result<Ism> r = parse_ism(filled);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->formats, "mp4");
  EXPECT_EQ(r->fragments_per_hls_segment, 1u);
  ASSERT_EQ(r->tracks.size(), 1u);
  EXPECT_EQ(r->tracks[0].system_bitrate, 1000u);
}

TEST(IsmExamples, TextstreamSnippet) {
  LOAD_EXAMPLE_OR_SKIP(xml, "doc_textstream_ism_snippet.xml");
  // A fragment of a switch: several top-level elements, none of them <smil>.
  EXPECT_EQ(parse_status(xml).code(), StatusCode::kInvalidData);

  Result<Ism> r = parse_ism(in_switch(xml));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->tracks.size(), 2u);
  const IsmTrack& en = r->tracks[0];
  EXPECT_EQ(en.kind, IsmTrackKind::kText);
  EXPECT_EQ(en.src, "english.vtt");
  EXPECT_EQ(en.system_bitrate, 0u);
  EXPECT_EQ(
      en.params,
      (Params{{"textDisplayName", "English"}, {"outputFlag", "2"}, {"armId", "english.vtt"}}));
  const IsmTrack& es = r->tracks[1];
  EXPECT_EQ(es.src, "spanish.vtt");
  EXPECT_EQ(
      es.params,
      (Params{{"textDisplayName", "Spanish"}, {"outputFlag", "2"}, {"armId", "spanish.vtt"}}));
}

TEST(IsmExamples, EveryExampleIsmRoundTrips) {
  std::optional<fs::path> dir = examples_dir();
  if (!dir) {
    GTEST_FAIL()
        << "the AMS examples folder $AMS_SOURCE_ROOT/../shared/reference/examples is absent";
  }
  int parsed = 0;
  for (const auto& entry : fs::directory_iterator(*dir)) {
    if (entry.path().extension() != ".ism") continue;
    Result<Ism> r = parse_ism(read_file(entry.path()));
    if (!r.is_ok()) continue;  // doc_hls_packing_ratio.ism has no track, tested above
    ++parsed;
    Result<Ism> again = parse_ism(write_ism(*r));
    ASSERT_TRUE(again.is_ok()) << entry.path() << ": " << again.status().to_string();
    EXPECT_EQ(*again, *r) << entry.path();
  }
  EXPECT_GE(parsed, 2);
}

Ism hand_built() {
  Ism ism;
  ism.client_manifest_relative_path = "sub/a & b.ismc";
  ism.formats = "mp4-v3";
  ism.fragments_per_hls_segment = 100;
  IsmTrack v;
  v.kind = IsmTrackKind::kVideo;
  v.src = "v <1080p> \"q\" 'x'.mp4";
  v.system_bitrate = 4294967295u;
  v.track_id = 0;
  v.track_name = "video";
  v.params = {{"trackIndex", "v.mpi"}, {"empty", ""}, {"trackIndex", "again"}};
  IsmTrack a;
  a.kind = IsmTrackKind::kAudio;
  a.src = "audio/\xc3\xa9t\xc3\xa9.m4a";
  a.system_bitrate = 128000;
  a.system_language = "fra";
  a.track_id = 2;
  a.track_name = "aac\tfra\r\n2";
  a.role = "alternate";
  a.accessibility = "description";
  IsmTrack t;
  t.kind = IsmTrackKind::kText;
  t.src = "%2e%2e.vtt";
  t.params = {{"textDisplayName",
               "Fran\xc3\xa7"
               "ais & <co>"}};
  ism.tracks = {v, a, t};
  return ism;
}

TEST(IsmRoundTrip, HandBuiltValuesWithAwkwardText) {
  Ism ism = hand_built();
  Result<Ism> r = parse_ism(write_ism(ism));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, ism);

  Ism bare;
  bare.tracks.resize(1);
  bare.tracks[0].src = "x.mp4";
  Result<Ism> rb = parse_ism(write_ism(bare));
  ASSERT_TRUE(rb.is_ok()) << rb.status().to_string();
  EXPECT_EQ(*rb, bare);
}

TEST(IsmWrite, EncoderLayout) {
  Ism ism;
  ism.client_manifest_relative_path = "x.ismc";
  ism.fragments_per_hls_segment = 2;
  IsmTrack a;
  a.kind = IsmTrackKind::kAudio;
  a.src = "a&b.mp4";
  a.system_bitrate = 96000;
  a.system_language = "und";
  a.track_id = 2;
  a.track_name = "aac_und_2_96000_2_1";
  a.accessibility = "description";
  a.role = "alternate";
  a.params = {{"trackIndex", "a.mpi"}, {"trackID", "9"}};  // a field's param is not printed twice
  IsmTrack t;
  t.kind = IsmTrackKind::kText;
  t.src = "en.vtt";
  ism.tracks = {a, t};
  EXPECT_EQ(
      write_ism(ism),
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
      "<smil xmlns=\"http://www.w3.org/2001/SMIL20/Language\">\n"
      "  <head>\n"
      "    <meta name=\"clientManifestRelativePath\" content=\"x.ismc\" />\n"
      "    <meta name=\"fragmentsPerHLSSegment\" content=\"2\" />\n"
      "  </head>\n"
      "  <body>\n"
      "    <switch>\n"
      "      <audio src=\"a&amp;b.mp4\" systemBitrate=\"96000\" systemLanguage=\"und\">\n"
      "        <param name=\"systemBitrate\" value=\"96000\" valuetype=\"data\" />\n"
      "        <param name=\"trackID\" value=\"2\" valuetype=\"data\" />\n"
      "        <param name=\"trackName\" value=\"aac_und_2_96000_2_1\" valuetype=\"data\" />\n"
      "        <param name=\"systemLanguage\" value=\"und\" valuetype=\"data\" />\n"
      "        <param name=\"accessibility\" value=\"description\" valuetype=\"data\" />\n"
      "        <param name=\"role\" value=\"alternate\" valuetype=\"data\" />\n"
      "        <param name=\"trackIndex\" value=\"a.mpi\" valuetype=\"data\" />\n"
      "      </audio>\n"
      "      <textstream src=\"en.vtt\" systemBitrate=\"0\">\n"
      "        <param name=\"systemBitrate\" value=\"0\" valuetype=\"data\" />\n"
      "      </textstream>\n"
      "    </switch>\n"
      "  </body>\n"
      "</smil>\n");
}

TEST(IsmParse, AttributesWinAndParamsFillIn) {
  Result<Ism> r = parse_ism(in_switch(
      "<audio src='a.mp4' systemBitrate='1000' systemLanguage='eng'>"
      "<param name='systemBitrate' value='2000'/><param name='systemLanguage' value='fra'/></audio>"
      "<audio src='b.mp4'>"
      "<param name='systemBitrate' value=' 3000 '/><param name='systemLanguage' value='deu'/>"
      "<param name='TRACKID' value='7'/><param name='Role' value='main'/></audio>"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->tracks.size(), 2u);
  EXPECT_EQ(r->tracks[0].system_bitrate, 1000u);
  EXPECT_EQ(r->tracks[0].system_language, "eng");
  EXPECT_EQ(r->tracks[1].system_bitrate, 3000u);
  EXPECT_EQ(r->tracks[1].system_language, "deu");
  EXPECT_EQ(r->tracks[1].track_id, 7u);
  EXPECT_EQ(r->tracks[1].role, "main");
  EXPECT_TRUE(r->tracks[1].params.empty());
}

TEST(IsmParse, ToleratesWhatRealFilesContain) {
  std::string body = in_switch("<video src='v.mp4' systemBitrate='1'/>",
                               "<meta name='somethingElse' content='x'/>");
  // UTF-8 byte order mark, DOCTYPE, comments, unknown elements and attributes.
  std::string xml = "\xEF\xBB\xBF<?xml version='1.0'?><!DOCTYPE smil><!-- c -->" + body;
  Result<Ism> r = parse_ism(xml);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->tracks.size(), 1u);

  Result<Ism> extra = parse_ism(
      "<smil><head><layout/></head><body><switch><video src='v.mp4' foo='bar'><x/>text"
      "</video></switch><seq/></body></smil>");
  ASSERT_TRUE(extra.is_ok()) << extra.status().to_string();
  EXPECT_EQ(extra->tracks[0].src, "v.mp4");
}

TEST(IsmParse, ConvertsUtf16WithByteOrderMark) {
  std::string utf8 = in_switch("<video src='\xc3\xa9.mp4' systemBitrate='5'/>");
  std::string le = "\xFF\xFE", be = "\xFE\xFF";
  // The test text is ASCII except U+00E9, which is one UTF-16 unit.
  for (size_t i = 0; i < utf8.size(); ++i) {
    char16_t c = static_cast<unsigned char>(utf8[i]);
    if (c == 0xC3) c = 0xE9, ++i;
    le += static_cast<char>(c & 0xFF), le += static_cast<char>(c >> 8);
    be += static_cast<char>(c >> 8), be += static_cast<char>(c & 0xFF);
  }
  for (const std::string& xml : {le, be}) {
    Result<Ism> r = parse_ism(xml);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    EXPECT_EQ(r->tracks[0].src, "\xc3\xa9.mp4");
  }
  EXPECT_EQ(parse_status("\xFF\xFE<\x00s"s).code(), StatusCode::kInvalidData);
}

struct Hostile {
  const char* what;
  std::string xml;
  StatusCode code;
  std::string message;  // empty: not checked
};

TEST(IsmParse, RejectsHostileAndBrokenInput) {
  const std::string v = "<video src='v.mp4' systemBitrate='1'/>";
  const std::vector<Hostile> cases = {
      {"empty", "", StatusCode::kInvalidData, ""},
      {"not xml", "hello", StatusCode::kInvalidData, ""},
      {"unclosed", "<smil><body><switch>" + v, StatusCode::kInvalidData, ""},
      {"mismatched", "<smil><body></switch></body></smil>", StatusCode::kInvalidData, ""},
      {"root", "<html><body><switch>" + v + "</switch></body></html>", StatusCode::kInvalidData,
       "the root element is <html>, not <smil>"},
      {"two roots", in_switch(v) + "<smil/>", StatusCode::kInvalidData, ""},
      {"no tracks", in_switch(""), StatusCode::kInvalidData,
       ".ism has no track in <smil><body><switch>"},
      {"no src", in_switch("<audio systemBitrate='1'/>"), StatusCode::kInvalidData,
       "track 1 <audio> has no src"},
      {"empty src", in_switch(v + "<video src=''/>"), StatusCode::kInvalidData,
       "track 2 <video> src: path is empty"},
      {"dotdot", in_switch("<video src='../x.mp4'/>"), StatusCode::kInvalidData,
       "track 1 <video> src: path \"../x.mp4\" has a \"..\" component"},
      {"inner dotdot", in_switch("<video src='a/../../b.mp4'/>"), StatusCode::kInvalidData,
       "track 1 <video> src: path \"a/../../b.mp4\" has a \"..\" component"},
      {"absolute", in_switch("<textstream src='/etc/passwd'/>"), StatusCode::kInvalidData,
       "track 1 <textstream> src: path \"/etc/passwd\" is absolute"},
      {"backslash", in_switch("<video src='..\\x.mp4'/>"), StatusCode::kInvalidData,
       "track 1 <video> src: path \"..\\x.mp4\" contains a backslash"},
      {"escaped dotdot", in_switch("<video src='&#46;&#46;/x.mp4'/>"), StatusCode::kInvalidData,
       "track 1 <video> src: path \"../x.mp4\" has a \"..\" component"},
      {"nul", in_switch("<video src='x\0.mp4'/>"s), StatusCode::kInvalidData,
       ".ism contains a NUL byte"},
      {"bitrate", in_switch("<video src='v.mp4' systemBitrate='fast'/>"), StatusCode::kInvalidData,
       "track 1 <video>: systemBitrate \"fast\" is not a number"},
      {"negative bitrate", in_switch("<video src='v.mp4' systemBitrate='-1'/>"),
       StatusCode::kInvalidData, ""},
      {"overflow bitrate", in_switch("<video src='v.mp4' systemBitrate='4294967296'/>"),
       StatusCode::kInvalidData, ""},
      {"bitrate param",
       in_switch("<video src='v.mp4'><param name='systemBitrate' value='1e6'/></video>"),
       StatusCode::kInvalidData, "track 1 <video>: param systemBitrate \"1e6\" is not a number"},
      {"track id", in_switch("<video src='v.mp4'><param name='trackID' value='one'/></video>"),
       StatusCode::kInvalidData, "track 1 <video>: param trackID \"one\" is not a number"},
      {"duplicate param",
       in_switch("<video src='v.mp4'><param name='trackID' value='1'/>"
                 "<param name='trackid' value='2'/></video>"),
       StatusCode::kInvalidData, "track 1 <video>: param trackID given twice"},
      {"nameless param", in_switch("<video src='v.mp4'><param value='1'/></video>"),
       StatusCode::kInvalidData, "track 1 <video>: <param> without a name"},
      {"packing 0", in_switch(v, "<meta name='fragmentsPerHLSSegment' content='0'/>"),
       StatusCode::kInvalidData,
       "meta fragmentsPerHLSSegment \"0\" is not an integer from 1 to 100"},
      {"packing 101", in_switch(v, "<meta name='fragmentsPerHLSSegment' content='101'/>"),
       StatusCode::kInvalidData, ""},
      {"packing 1.5", in_switch(v, "<meta name='fragmentsPerHLSSegment' content='1.5'/>"),
       StatusCode::kInvalidData, ""},
      {"packing empty", in_switch(v, "<meta name='fragmentsPerHLSSegment'/>"),
       StatusCode::kInvalidData, ""},
      {"duplicate meta",
       in_switch(v, "<meta name='formats' content='mp4'/><meta name='formats' content='mp4'/>"),
       StatusCode::kInvalidData, "meta formats given twice"},
      {"client manifest", in_switch(v, "<meta name='clientManifestRelativePath' content='../x'/>"),
       StatusCode::kInvalidData, ""},
      {"ref", in_switch("<ref src='x'/>"), StatusCode::kUnsupported,
       "<switch> child <ref> is not supported"},
      {"outside switch", "<smil><body>" + v + "</body></smil>", StatusCode::kInvalidData,
       "<video> is not inside <smil><body><switch>"},
      {"in head", "<smil><head><switch>" + v + "</switch></head></smil>", StatusCode::kInvalidData,
       "<video> is not inside <smil><body><switch>"},
      {"duplicate attribute", in_switch("<video src='v.mp4' src='../x.mp4'/>"),
       StatusCode::kInvalidData, "<video> has two src attributes"},
      {"entity", "<!DOCTYPE smil [<!ENTITY e 'x.mp4'>]>" + in_switch("<video src='&e;'/>"),
       StatusCode::kInvalidData, ""},
  };
  for (const Hostile& c : cases) {
    Status s = parse_status(c.xml);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s.to_string();
    if (!c.message.empty()) {
      EXPECT_EQ(s.message(), c.message) << c.what;
    }
  }
}

TEST(IsmParse, MalformedXmlSaysWhere) {
  Status s = parse_status("<smil>\n<body>\n<switch></body></smil>");
  EXPECT_EQ(s.code(), StatusCode::kInvalidData);
  EXPECT_EQ(s.message().rfind("malformed XML: Error on line 3", 0), 0u) << s.message();
}

TEST(IsmLimits, InputSize) {
  std::string big = in_switch("<video src='v.mp4'/>");
  big.insert(big.find("<body>"), std::string(kMaxIsmBytes, ' '));
  Status s = parse_status(big);
  EXPECT_EQ(s.code(), StatusCode::kResourceLimit);
}

TEST(IsmLimits, TrackCount) {
  std::string tracks;
  for (size_t i = 0; i < kMaxIsmTracks; ++i) tracks += "<video src='v.mp4'/>";
  Result<Ism> at_limit = parse_ism(in_switch(tracks));
  ASSERT_TRUE(at_limit.is_ok()) << at_limit.status().to_string();
  EXPECT_EQ(at_limit->tracks.size(), kMaxIsmTracks);
  EXPECT_EQ(parse_status(in_switch(tracks + "<audio src='a.mp4'/>")).code(),
            StatusCode::kResourceLimit);
}

TEST(IsmLimits, ParamsPerTrackAndDepth) {
  std::string params;
  for (size_t i = 0; i <= kMaxIsmParamsPerTrack; ++i) params += "<param name='p' value='1'/>";
  EXPECT_EQ(parse_status(in_switch("<video src='v.mp4'>" + params + "</video>")).code(),
            StatusCode::kResourceLimit);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<x>";
  for (int i = 0; i < 100; ++i) deep += "</x>";
  EXPECT_EQ(parse_status(in_switch("<video src='v.mp4'/>", deep)).code(),
            StatusCode::kResourceLimit);
}

}  // namespace
}  // namespace ams::smil
