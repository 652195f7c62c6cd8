// The bracket scan that measures JSON nesting before anything parses it: strings, escapes,
// malformed text and the early stop.
#include "engine/json_nesting.h"

#include <string>

#include <gtest/gtest.h>

namespace engine {
namespace {

TEST(JsonNestingTest, CountsBracketsOutsideStrings) {
  EXPECT_EQ(JsonNesting(""), 0);
  EXPECT_EQ(JsonNesting("42"), 0);
  EXPECT_EQ(JsonNesting(R"({"a": [1, {"b": []}], "c": {}})"), 4);
  // Brackets inside strings do not count, escaped quotes do not end the string.
  EXPECT_EQ(JsonNesting(R"({"a": "[[[[{{{{"})"), 1);
  EXPECT_EQ(JsonNesting(R"(["\"[[[", "\\", [[]]])"), 3);
  // Unbalanced or malformed text is measured as far as its brackets go.
  EXPECT_EQ(JsonNesting("]]]][["), 2);
  EXPECT_EQ(JsonNesting("[[[\"unterminated [[[["), 3);
}

TEST(JsonNestingTest, StopsOncePastTheLimit) {
  const std::string deep = std::string(1000000, '[');
  EXPECT_EQ(JsonNesting(deep, 128), 129);
  EXPECT_TRUE(JsonNestedTooDeeply(deep));
  EXPECT_FALSE(JsonNestedTooDeeply(std::string(128, '[') + std::string(128, ']')));
  EXPECT_TRUE(JsonNestedTooDeeply(std::string(129, '{')));
  // Depth, not count: many siblings are fine.
  std::string wide = "[";
  for (int i = 0; i < 10000; ++i) wide += "[],";
  wide += "[]]";
  EXPECT_EQ(JsonNesting(wide), 2);
}

}  // namespace
}  // namespace engine
