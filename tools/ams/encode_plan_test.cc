#include "encode_plan.h"

#include <gtest/gtest.h>

namespace ams::tools {
namespace {

std::vector<RungRequest> default_ladder() {
  return parse_ladder("1080,720,540,360,270,180").value();
}

TEST(EncodePlan, LadderStopsAtTheSourceHeight) {
  std::vector<Rung> rungs = plan_ladder(default_ladder(), 1280, 720, 1, 1);
  ASSERT_EQ(rungs.size(), 5u);
  EXPECT_EQ(rungs[0].width, 1280);
  EXPECT_EQ(rungs[0].height, 720);
  EXPECT_EQ(rungs[0].video_kbps, 3400u);
  EXPECT_EQ(rungs[2].width, 640);
  EXPECT_EQ(rungs[4].width, 320);
  EXPECT_EQ(rungs[4].height, 180);
  EXPECT_EQ(rungs[4].video_kbps, 380u);
}

TEST(EncodePlan, WidthsFollowTheDisplayAspectAndAreEven) {
  // 720x576 with 64:45 pixels is 16:9 on screen.
  std::vector<Rung> rungs = plan_ladder(parse_ladder("540,270").value(), 720, 576, 64, 45);
  ASSERT_EQ(rungs.size(), 2u);
  EXPECT_EQ(rungs[0].width, 960);
  EXPECT_EQ(rungs[1].width, 480);
  // 4:3 at 270 is 360 wide; 2.39:1 at 180 is 430.2 -> 430.
  EXPECT_EQ(plan_ladder(parse_ladder("270").value(), 640, 480, 1, 1)[0].width, 360);
  EXPECT_EQ(plan_ladder(parse_ladder("180").value(), 1920, 804, 1, 1)[0].width, 430);
}

TEST(EncodePlan, ASourceBelowEveryRungGetsItsOwnHeight) {
  std::vector<Rung> rungs = plan_ladder(default_ladder(), 176, 145, 1, 1);
  ASSERT_EQ(rungs.size(), 1u);
  EXPECT_EQ(rungs[0].height, 144);
  EXPECT_EQ(rungs[0].width, 174);
}

TEST(EncodePlan, LadderTextCarriesBitratesAndRejectsNonsense) {
  std::vector<RungRequest> requests = parse_ladder("720:3000,360").value();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].video_kbps, 3000u);
  EXPECT_FALSE(requests[1].video_kbps.has_value());
  EXPECT_FALSE(parse_ladder("").is_ok());
  EXPECT_FALSE(parse_ladder("721").is_ok());
  EXPECT_FALSE(parse_ladder("720,").is_ok());
  EXPECT_FALSE(parse_ladder("720:").is_ok());
  EXPECT_FALSE(parse_ladder("720:0").is_ok());
  EXPECT_FALSE(parse_ladder("-720").is_ok());
}

TEST(EncodePlan, LanguagesAreThreeLetterCodesWithoutDuplicates) {
  EXPECT_EQ(parse_languages("eng,fre").value(), (std::vector<std::string>{"eng", "fre"}));
  EXPECT_FALSE(parse_languages("en").is_ok());
  EXPECT_FALSE(parse_languages("ENG").is_ok());
  EXPECT_FALSE(parse_languages("eng,eng").is_ok());
}

TEST(EncodePlan, FileNamesAndIsmFollowTheAmsEncoder) {
  AssetPlan plan;
  plan.base = "ignite";
  plan.rungs = plan_ladder(parse_ladder("720,180").value(), 1280, 720, 1, 1);
  plan.audio = AudioPlan{128, {"eng", "fre"}};
  EXPECT_EQ(rung_file_name(plan, plan.rungs[0]), "ignite_1280x720_AACAudio_3528.mp4");
  EXPECT_EQ(extra_audio_file_name(plan, "fre"), "ignite_AACAudio_fre_128.mp4");

  smil::Ism ism = make_ism(plan);
  EXPECT_EQ(ism.formats, "mp4-v3");
  EXPECT_TRUE(ism.client_manifest_relative_path.empty());
  ASSERT_EQ(ism.tracks.size(), 4u);
  const smil::IsmTrack& audio = ism.tracks[0];
  EXPECT_EQ(audio.kind, smil::IsmTrackKind::kAudio);
  EXPECT_EQ(audio.src, "ignite_1280x720_AACAudio_3528.mp4");
  EXPECT_EQ(audio.track_id, 2u);
  EXPECT_EQ(audio.track_name, "aac_eng_2_128000_2_1");
  EXPECT_EQ(audio.system_language, "eng");
  EXPECT_EQ(audio.system_bitrate, 128000u);
  const smil::IsmTrack& french = ism.tracks[1];
  EXPECT_EQ(french.src, "ignite_AACAudio_fre_128.mp4");
  EXPECT_EQ(french.track_id, 1u);
  EXPECT_EQ(french.track_name, "aac_fre_2_128000_1_1");
  const smil::IsmTrack& low = ism.tracks[3];
  EXPECT_EQ(low.kind, smil::IsmTrackKind::kVideo);
  EXPECT_EQ(low.src, "ignite_320x180_AACAudio_508.mp4");
  EXPECT_EQ(low.system_bitrate, 380000u);
  EXPECT_EQ(low.track_id, 1u);
  EXPECT_EQ(low.track_name, "video");
}

TEST(EncodePlan, VideoOnlyFilesHaveNoAudioInTheirName) {
  AssetPlan plan;
  plan.base = "clip";
  plan.rungs = plan_ladder(parse_ladder("360").value(), 640, 360, 1, 1);
  EXPECT_EQ(rung_file_name(plan, plan.rungs[0]), "clip_640x360_1250.mp4");
  EXPECT_EQ(make_ism(plan).tracks.size(), 1u);
}

TEST(EncodePlan, BaseNamesCannotLeaveTheFolder) {
  EXPECT_TRUE(is_valid_base("ignite"));
  EXPECT_FALSE(is_valid_base(""));
  EXPECT_FALSE(is_valid_base(".."));
  EXPECT_FALSE(is_valid_base("a/b"));
  EXPECT_FALSE(is_valid_base("a\nb"));
}

}  // namespace
}  // namespace ams::tools
