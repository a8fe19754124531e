#include "base/path.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ams {
namespace {

namespace fs = std::filesystem;

TEST(PathCheck, AcceptsPlainRelativePaths) {
  for (const char* ok : {"x.mp4", "a/b/x.mp4", "./x.mp4", "a//b", "...", "..x", "x..", "a/..b/c",
                         "%2e%2e/x.mp4", "%2e%2e%2fetc%2fpasswd", "name with spaces.mp4"}) {
    EXPECT_TRUE(check_relative_path(ok).is_ok()) << ok;
  }
}

TEST(PathCheck, RejectsPathsThatCanLeaveTheFolder) {
  using namespace std::string_literals;
  for (const std::string& bad : {""s, "/abs"s, "/"s, ".."s, "../x"s, "a/../../b"s, "a/.."s,
                                 "a/../b"s, "a\\b"s, "..\\x"s, "x\0.mp4"s, "a/b/.."s}) {
    Status s = check_relative_path(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(PathCheck, MessagesNameThePathAndTheReason) {
  EXPECT_EQ(check_relative_path("../secret").message(),
            "path \"../secret\" has a \"..\" component");
  EXPECT_EQ(check_relative_path("/etc/passwd").message(), "path \"/etc/passwd\" is absolute");
  EXPECT_EQ(check_relative_path("a\\b").message(), "path \"a\\b\" contains a backslash");
  EXPECT_EQ(check_relative_path(std::string_view("a\0b", 3)).message(),
            "path \"a\\0b\" contains a NUL byte");
  EXPECT_EQ(check_relative_path("").message(), "path is empty");
}

// A temporary folder laid out as
//   root/asset/x.mp4, root/asset/sub/y.mp4, root/secret.txt
// removed when the test ends.
class PathResolve : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "ams-path-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    asset_ = root_ / "asset";
    fs::create_directories(asset_ / "sub");
    std::ofstream(asset_ / "x.mp4") << "x";
    std::ofstream(asset_ / "sub" / "y.mp4") << "y";
    std::ofstream(root_ / "secret.txt") << "secret";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string real(const fs::path& p) { return fs::canonical(p).string(); }

  fs::path root_;
  fs::path asset_;
};

TEST_F(PathResolve, ReturnsTheResolvedPathOfAFileInside) {
  auto r = resolve_inside(asset_.string(), "sub/y.mp4");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, real(asset_ / "sub" / "y.mp4"));
  auto dot = resolve_inside(asset_.string(), "./x.mp4");
  ASSERT_TRUE(dot.is_ok()) << dot.status().to_string();
  EXPECT_EQ(*dot, real(asset_ / "x.mp4"));
}

TEST_F(PathResolve, FollowsSymlinksThatStayInside) {
  fs::create_symlink("sub/y.mp4", asset_ / "link.mp4");
  auto r = resolve_inside(asset_.string(), "link.mp4");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, real(asset_ / "sub" / "y.mp4"));
}

TEST_F(PathResolve, RejectsASymlinkToAFileOutside) {
  fs::create_symlink(root_ / "secret.txt", asset_ / "evil.mp4");
  auto r = resolve_inside(asset_.string(), "evil.mp4");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("outside"), std::string::npos) << r.status().message();
}

TEST_F(PathResolve, RejectsASymlinkedFolderLeadingOutside) {
  fs::create_directory_symlink(root_, asset_ / "up");
  auto r = resolve_inside(asset_.string(), "up/secret.txt");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PathResolve, RejectsDotDotBeforeTouchingTheFileSystem) {
  auto r = resolve_inside(asset_.string(), "../secret.txt");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  auto abs = resolve_inside(asset_.string(), (root_ / "secret.txt").string());
  EXPECT_EQ(abs.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PathResolve, DoesNotDecodePercentEscapes) {
  // "%2e%2e" is an ordinary (missing) name, not "..".
  auto r = resolve_inside(asset_.string(), "%2e%2e/secret.txt");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  fs::create_directory(asset_ / "%2e%2e");
  std::ofstream(asset_ / "%2e%2e" / "secret.txt") << "inside";
  auto inside = resolve_inside(asset_.string(), "%2e%2e/secret.txt");
  ASSERT_TRUE(inside.is_ok()) << inside.status().to_string();
  EXPECT_EQ(*inside, real(asset_ / "%2e%2e" / "secret.txt"));
}

TEST_F(PathResolve, MissingFileOrFolderIsNotFound) {
  EXPECT_EQ(resolve_inside(asset_.string(), "nope.mp4").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(resolve_inside(asset_.string(), "x.mp4/inner").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(resolve_inside((root_ / "missing").string(), "x.mp4").status().code(),
            StatusCode::kNotFound);
}

TEST_F(PathResolve, ADanglingSymlinkIsNotFound) {
  fs::create_symlink(asset_ / "gone.mp4", asset_ / "dangling.mp4");
  EXPECT_EQ(resolve_inside(asset_.string(), "dangling.mp4").status().code(), StatusCode::kNotFound);
}

TEST_F(PathResolve, ABaseReachedThroughASymlinkStillWorks) {
  fs::create_directory_symlink(asset_, root_ / "alias");
  auto r = resolve_inside((root_ / "alias").string(), "x.mp4");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r, real(asset_ / "x.mp4"));
}

TEST_F(PathResolve, ASiblingFolderSharingThePrefixIsOutside) {
  // root/asset-evil starts with the text "root/asset" but is not inside it.
  fs::create_directory(root_ / "asset-evil");
  std::ofstream(root_ / "asset-evil" / "z.mp4") << "z";
  fs::create_symlink(root_ / "asset-evil" / "z.mp4", asset_ / "z.mp4");
  EXPECT_EQ(resolve_inside(asset_.string(), "z.mp4").status().code(), StatusCode::kInvalidArgument);
}

TEST(PathNames, SplitLikePosix) {
  EXPECT_EQ(dirname_of("a/b/x.ism"), "a/b");
  EXPECT_EQ(basename_of("a/b/x.ism"), "x.ism");
  EXPECT_EQ(stem_of("a/b/x.ism"), "x");
  EXPECT_EQ(dirname_of("x.ism"), ".");
  EXPECT_EQ(basename_of("x.ism"), "x.ism");
  EXPECT_EQ(dirname_of("/x.ism"), "/");
  EXPECT_EQ(basename_of("/x.ism"), "x.ism");
  EXPECT_EQ(dirname_of("/"), "/");
  EXPECT_EQ(basename_of("/"), "/");
  EXPECT_EQ(dirname_of("a/b/"), "a");
  EXPECT_EQ(basename_of("a/b/"), "b");
  EXPECT_EQ(dirname_of("a//b"), "a");
  EXPECT_EQ(dirname_of(""), ".");
  EXPECT_EQ(basename_of(""), "");
}

TEST(PathNames, StemDropsOnlyTheLastExtension) {
  EXPECT_EQ(stem_of("x.tar.gz"), "x.tar");
  EXPECT_EQ(stem_of(".hidden"), ".hidden");
  EXPECT_EQ(stem_of("noext"), "noext");
  EXPECT_EQ(stem_of("dir.d/noext"), "noext");
  EXPECT_EQ(stem_of("x."), "x");
}

}  // namespace
}  // namespace ams
