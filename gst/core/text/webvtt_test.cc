#include "text/webvtt.h"

#include <gtest/gtest.h>

namespace ams::text {
namespace {

WebVtt parsed(std::string_view text) {
  Result<WebVtt> r = parse_webvtt(text);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? *r : WebVtt{};
}

TEST(WebVttTest, ParsesCuesWithIdsSettingsAndMarkup) {
  const WebVtt v = parsed(
      "\xEF\xBB\xBFWEBVTT - English\r\nKind: captions\r\n\r\n"
      "STYLE\n::cue { color: yellow }\n\n"
      "REGION\nid:r1 width:40%\n\n"
      "NOTE a comment\nspanning lines\n\n"
      "1\n00:00:01.000 --> 00:00:02.500 line:0 align:start\n<v Anna>Hello</v>\nsecond line\n\n"
      "00:03.250 --> 00:04.000\nno id, minutes only\n\n"
      "long\n100:00:00.000 --> 100:00:01.001\nhours beyond two digits\n");
  ASSERT_EQ(v.cues.size(), 3u);
  EXPECT_EQ(v.problem_count, 0u);
  EXPECT_EQ(v.cues[0],
            (Cue{"1", 1000, 2500, "line:0 align:start", "<v Anna>Hello</v>\nsecond line"}));
  EXPECT_EQ(v.cues[1], (Cue{"", 3250, 4000, "", "no id, minutes only"}));
  EXPECT_EQ(v.cues[2].start_ms, 360000000);
  EXPECT_EQ(v.cues[2].end_ms, 360001001);
  ASSERT_EQ(v.header_blocks.size(), 2u);
  EXPECT_EQ(v.header_blocks[0], "STYLE\n::cue { color: yellow }");
  EXPECT_EQ(v.header_blocks[1], "REGION\nid:r1 width:40%");
}

TEST(WebVttTest, AMalformedCueIsReportedAndSkippedNotFatal) {
  const WebVtt v = parsed(
      "WEBVTT\n\n"
      "00:00:01.000 --> 00:00:02.000\nkept\n\n"
      "00:00:61.000 --> 00:01:02.000\nseconds above 59\n\n"
      "00:00:05.000 --> 00:00:04.000\nends before it starts\n\n"
      "00:00:06.00 --> 00:00:07.000\ntwo-digit fraction\n\n"
      "just text\nwithout timings\n\n"
      "00:00:08.000 --> 00:00:09.000\nkept too\n"
      "00:00:09.000 --> 00:00:10.000\na timing line ends the cue before it\n");
  ASSERT_EQ(v.cues.size(), 3u);
  EXPECT_EQ(v.cues[0].text, "kept");
  EXPECT_EQ(v.cues[1].text, "kept too");
  EXPECT_EQ(v.cues[2].start_ms, 9000);
  EXPECT_EQ(v.problem_count, 4u);
  ASSERT_EQ(v.problems.size(), 4u);
  EXPECT_EQ(v.problems[0], "line 6: the start time is not a WebVTT timestamp: cue skipped");
  EXPECT_EQ(v.problems[1], "line 9: the end time is not after the start time: cue skipped");
  EXPECT_EQ(v.problems[3], "line 15: a block without a cue timing line: skipped");
}

TEST(WebVttTest, BytesThatAreNotWebVttAreAnError) {
  EXPECT_EQ(parse_webvtt("").status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(parse_webvtt("WEBVTTX\n").status().code(), StatusCode::kInvalidData);
  EXPECT_EQ(parse_webvtt("1\n00:00:01,000 --> 00:00:02,000\nSRT\n").status().code(),
            StatusCode::kInvalidData);
  EXPECT_EQ(parse_webvtt(std::string_view("WEBVTT\n\0\n", 9)).status().code(),
            StatusCode::kInvalidData);
  EXPECT_EQ(parse_webvtt("WEBVTT\n\n00:01.000 --> 00:02.000\n\xC3\x28\n").status().code(),
            StatusCode::kInvalidData);
  // An overlong encoding and a surrogate are not UTF-8 either; four-byte characters are.
  EXPECT_FALSE(parse_webvtt("WEBVTT\n\xC0\xAF").is_ok());
  EXPECT_FALSE(parse_webvtt("WEBVTT\n\xED\xA0\x80").is_ok());
  EXPECT_TRUE(parse_webvtt("WEBVTT\n\n00:01.000 --> 00:02.000\n\xF0\x9F\x98\x80\n").is_ok());
  EXPECT_EQ(parse_webvtt(std::string(kMaxWebVttBytes + 1, ' ')).status().code(),
            StatusCode::kResourceLimit);
  // The signature alone, and with a tab: a file without cues.
  EXPECT_TRUE(parsed("WEBVTT").cues.empty());
  EXPECT_TRUE(parsed("WEBVTT\tx\r").cues.empty());
}

TEST(WebVttTest, ASegmentHoldsTheCuesItOverlapsUnderItsTimestampMap) {
  const WebVtt v = parsed(
      "WEBVTT\n\nSTYLE\n::cue { color: lime }\n\n"
      "a\n00:00:01.000 --> 00:00:03.000 align:end\nfirst\n\n"
      "00:00:05.500 --> 00:00:06.500\nspans the 6 s boundary\n\n"
      "00:00:06.000 --> 00:00:07.000\nstarts at it\n");
  // On the MPEG-TS timeline (10 s offset): the cues move with the map.
  EXPECT_EQ(write_segment(v, 0, 6000, 10000),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:10.000\n\n"
            "STYLE\n::cue { color: lime }\n\n"
            "a\n00:00:11.000 --> 00:00:13.000 align:end\nfirst\n\n"
            "00:00:15.500 --> 00:00:16.500\nspans the 6 s boundary\n\n");
  EXPECT_EQ(write_segment(v, 6000, 12000, 0),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n"
            "STYLE\n::cue { color: lime }\n\n"
            "00:00:05.500 --> 00:00:06.500\nspans the 6 s boundary\n\n"
            "00:00:06.000 --> 00:00:07.000\nstarts at it\n\n");
  // A segment without cues is still a WebVTT file.
  EXPECT_EQ(write_segment(v, 20000, 26000, 0).substr(0, 7), "WEBVTT\n");
  // What the segment says parses back to the same cues.
  const WebVtt again = parsed(write_segment(v, 0, 60000, 0));
  EXPECT_EQ(again.cues, v.cues);
  EXPECT_EQ(again.header_blocks, v.header_blocks);
  EXPECT_EQ(format_timestamp(3723004), "01:02:03.004");
}

}  // namespace
}  // namespace ams::text
