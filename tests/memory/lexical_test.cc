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

TEST(LexicalTest, VersionThreeJoinsWordsHyphenatedAcrossLines) {
  // PDF text extraction leaves U+2043 where a line broke a word: "中影CINI⁃\nTY电影系统".
  EXPECT_THAT(LexicalTerms("中影CINI⁃\nTY电影系统"), ElementsAre("中影", "ciniti", "电影", "影系", "系统"));  // stemmed, as the query is
  EXPECT_THAT(LexicalTerms("宣布成功完成Deep⁃\n  Seek 模型适配"),
              ElementsAre("宣布", "布成", "成功", "功完", "完成", "deepseek", "模型", "型适", "适配"));
  // Not without a line break, not before CJK or punctuation, and not in the versions before.
  EXPECT_THAT(LexicalTerms("Deep⁃ Seek"), ElementsAre("deep", "seek"));
  EXPECT_THAT(LexicalTerms("Deep⁃\n模型"), ElementsAre("deep", "模型"));
  EXPECT_THAT(LexicalTerms("Deep⁃\n(Seek)"), ElementsAre("deep", "seek"));
  EXPECT_THAT(LexicalTerms("Deep⁃\nSeek", 2), ElementsAre("deep", "seek"));
  // A mark at the very end of the text ends the word.
  EXPECT_THAT(LexicalTerms("Deep⁃\n"), ElementsAre("deep"));
}

TEST(LexicalTest, VersionFiveReadsChineseOnAcrossSpacing) {
  // PDF text extraction broke "全年累计票房" across lines, and a query for "累计票房" missed "累计"
  // and "计票"; "2023 年 中国" is "2023年中国" as a reader types it.
  EXPECT_THAT(LexicalTerms("全年累\n\n计票房"), ElementsAre("全年", "年累", "累计", "计票", "票房"));
  EXPECT_THAT(LexicalTerms("2023 年 中国"), ElementsAre("2023", "年中", "中国"));
  // Not across anything but spacing, nor before a Latin word; a lone character stays a unigram.
  EXPECT_THAT(LexicalTerms("票房。 全年"), ElementsAre("票房", "全年"));
  EXPECT_THAT(LexicalTerms("中 AI 国"), ElementsAre("中", "ai", "国"));
  // A collection made with version 4 keeps reading as it did.
  EXPECT_THAT(LexicalTerms("全年累\n\n计票房", 4), ElementsAre("全年", "年累", "计票", "票房"));
}

}  // namespace
}  // namespace memory
