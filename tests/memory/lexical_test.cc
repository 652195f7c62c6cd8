#include "memory/lexical.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace memory {
namespace {

using ::testing::ElementsAre;

TEST(LexicalTest, ChineseBigramsAndLatinWords) {
  EXPECT_THAT(LexicalTerms("DeepSeek-V3 训练成本 557.6 万"),
              ElementsAre("deepseek", "v3", "训练", "练成", "成本", "557.6", "万"));
}

TEST(LexicalTest, FullWidthAndCaseAreFolded) {
  EXPECT_THAT(LexicalTerms("ＡＩ Agent，ＧＰＴ－４"), ElementsAre("ai", "agent", "gpt", "4"));
}

TEST(LexicalTest, NumbersKeepDecimalsAndDropThousandsSeparators) {
  EXPECT_THAT(LexicalTerms("1,234 and 72.6% vs 3.x"), ElementsAre("1234", "and", "72.6", "vs", "3", "x"));
}

}  // namespace
}  // namespace memory
