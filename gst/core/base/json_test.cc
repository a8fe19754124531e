#include "base/json.h"

#include <gtest/gtest.h>

namespace ams {
namespace {

TEST(Json, WritesNestedValuesCompactAndEscaped) {
  JsonWriter w(false);
  w.begin_object().key("name").value("a\"b\\c\n").key("n").value(int64_t{-3});
  w.key("list").begin_array().value(true).null().value(1.5).end_array();
  w.key("empty").begin_object().end_object().end_object();
  EXPECT_EQ(w.str(), R"({"name":"a\"b\\c\n","n":-3,"list":[true,null,1.500000],"empty":{}})");
}

TEST(Json, PrettyPrintsWithTwoSpaces) {
  JsonWriter w;
  w.begin_object().key("a").begin_array().value(1).value(2).end_array().end_object();
  EXPECT_EQ(w.str(), "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
}

TEST(Json, EscapesControlCharactersAndKeepsUtf8) {
  EXPECT_EQ(json_escape("a\"b\\c\nd\x01\xC3\xA9/"), "a\\\"b\\\\c\\nd\\u0001\xC3\xA9/");
}

TEST(Json, EmptyContainersPrintOnOneLine) {
  JsonWriter w;
  w.begin_object().key("k\"").begin_array().end_array().key("o").begin_object().end_object();
  w.end_object();
  EXPECT_EQ(w.str(), "{\n  \"k\\\"\": [],\n  \"o\": {}\n}");
}

}  // namespace
}  // namespace ams
