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
  EXPECT_THAT(LexicalTerms("1,234 and 72.6% vs 3.x", 1), ElementsAre("1234", "and", "72.6", "vs", "3", "x"));
}

TEST(LexicalTest, VersionTwoDropsEnglishStopWordsAndStems) {
  EXPECT_THAT(LexicalTerms("What was installed in the ports?"), ::testing::ElementsAre("instal", "port"));
  EXPECT_THAT(LexicalTerms("Installations of batteries"), ::testing::ElementsAre("instal", "batteri"));
  // Chinese, numbers and mixed words are untouched; "US" (the country) is no stop word.
  EXPECT_THAT(LexicalTerms("US 市场 72.6 v3"), ::testing::ElementsAre("us", "市场", "72.6", "v3"));
  // Version 1, which older collections keep, neither drops nor stems.
  EXPECT_THAT(LexicalTerms("What was installed", 1), ::testing::ElementsAre("what", "was", "installed"));
}

}  // namespace
}  // namespace memory
