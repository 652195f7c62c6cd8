// Titles for documents that came without one: the openings of the seed corpus's reports and
// article (front matter, headlines over two lines, a byline and no headline), Markdown, plain
// English, and text where nothing reads like a title.
#include "memory/document_title.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace memory {
namespace {

std::string Seed(const std::string& name) {
  std::ifstream in(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/" + name, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  EXPECT_FALSE(buffer.str().empty()) << name;
  return buffer.str();
}

TEST(DocumentTitleTest, TheSeedReportsAreNamedByTheirHeadlines) {
  // A section name and the report date come first; the subtitle on the next line joins.
  EXPECT_EQ(GuessDocumentTitle(Seed("001_8105c39df311472b.txt")),
            "DeepSeek 重塑 AI 产业格局，助力 AI 端侧落地——AI 产业系列跟踪专题研究报告");
  // The analysts' line after the headline stays out of it.
  EXPECT_EQ(GuessDocumentTitle(Seed("002_43b260d425d982aa.txt")), "DeepSeek：技术颠覆 or 创新共赢");
  // The section, the report's kind and its rating are passed over.
  EXPECT_EQ(GuessDocumentTitle(Seed("003_0abbb2d7a034f7b6.txt")), "AI 发展仍处快车道，关注传媒行业应用落地");
  // A headline broken after its comma.
  EXPECT_EQ(GuessDocumentTitle(Seed("004_c2b6eb545692ecdc.txt")),
            "DeepSeek 推动 AI 大模型行业创新，中国科技龙头大幅提升 AI 战略地位");
  // A news article: the reporter's byline, then no headline; its opening sentence names it.
  EXPECT_EQ(GuessDocumentTitle(Seed("000_37400ed1cf531c96.txt")), "刚刚过去的2025年春节档创下了新的档期票房纪录");
}

TEST(DocumentTitleTest, MarkdownAndPlainText) {
  EXPECT_EQ(GuessDocumentTitle("\n# Coffee market update, December 2024\n\nArabica futures ended the year..."),
            "Coffee market update, December 2024");
  EXPECT_EQ(GuessDocumentTitle("Page 1\n\nQuarterly review of the shipping market\n\nRates rose."),
            "Quarterly review of the shipping market");
  // A headline broken after a colon, in English: joined with a space.
  EXPECT_EQ(GuessDocumentTitle("Harbor Robotics:\nannual review 2024\n\nBody text."), "Harbor Robotics: annual review 2024");
  // A line that is a whole sentence stands as it is.
  EXPECT_EQ(GuessDocumentTitle("Prices rose in every market this year.\nThe rest follows."),
            "Prices rose in every market this year.");
}

TEST(DocumentTitleTest, NothingTitleLikeGivesEmpty) {
  EXPECT_EQ(GuessDocumentTitle(""), "");
  EXPECT_EQ(GuessDocumentTitle(" \n\t\n\xE3\x80\x80\n"), "");
  EXPECT_EQ(GuessDocumentTitle("传媒\n\n2024-06-26\n\n12345 67.8%\n"), "");
  EXPECT_EQ(GuessDocumentTitle("分析师：张三\n邮箱：a@b.c\n"), "");
}

TEST(DocumentTitleTest, LongLinesAreClippedOnCodePointsAndBadBytesPassThrough) {
  std::string long_line;
  for (int i = 0; i < 150; ++i) long_line += "长";
  const std::string title = GuessDocumentTitle(long_line);
  std::string expected;
  for (int i = 0; i < 99; ++i) expected += "长";
  EXPECT_EQ(title, expected + "…");
  EXPECT_EQ(GuessDocumentTitle("A title with \xFF\xFE bad bytes\nbody"), "A title with \xFF\xFE bad bytes");
  // Only the first 40 non-empty lines are looked at.
  std::string late;
  for (int i = 0; i < 45; ++i) late += "记者 某某\n";
  EXPECT_EQ(GuessDocumentTitle(late + "The real headline here\n"), "");
}

}  // namespace
}  // namespace memory
