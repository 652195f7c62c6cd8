// Oniguruma, the regex engine Hugging Face tokenizers uses, is linked and matches Unicode classes.
#include <gtest/gtest.h>

#include "dependencies/oniguruma_probe.h"

namespace {

TEST(DependenciesTest, OnigurumaMatchesUnicodeClasses) {
  int length = 0;
  EXPECT_EQ(FirstLetterRun("42 深度求索 x", &length), 3);
  EXPECT_EQ(length, 12);  // four CJK characters, 3 bytes each
  EXPECT_EQ(FirstLetterRun("1 2 3", &length), -1);
}

}  // namespace
