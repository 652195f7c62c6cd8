#include "take_number.h"

#include <gtest/gtest.h>

namespace memory::internal {
namespace {

TEST(TakeNumberTest, DigitsOrChineseNumeralsAreTakenOffTheFront) {
  std::string_view text = "12月31日";
  EXPECT_EQ(TakeNumber(text), 12);
  EXPECT_EQ(text, "月31日");
  struct Case {
    std::string_view written;
    int value;
    std::string_view rest;
  };
  for (const Case& c : {Case{"五月", 5, "月"}, Case{"两款", 2, "款"}, Case{"十月", 10, "月"}, Case{"十二月", 12, "月"},
                        Case{"二十三届", 23, "届"}, Case{"三季度", 3, "季度"}}) {
    std::string_view rest = c.written;
    EXPECT_EQ(TakeNumber(rest), c.value) << c.written;
    EXPECT_EQ(rest, c.rest) << c.written;
  }
  // Nothing to take: the text stays as it was.
  std::string_view none = "月底";
  EXPECT_EQ(TakeNumber(none), 0);
  EXPECT_EQ(none, "月底");
  std::string_view empty;
  EXPECT_EQ(TakeNumber(empty), 0);
}

}  // namespace
}  // namespace memory::internal
