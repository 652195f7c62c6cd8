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

TEST(DocumentTitleTest, APageOfSeveralArticlesNamesEachAfterTheFirstFromItsByline) {
  // The seed newspaper page: a box-office article, then (from its reporter's byline on) one on
  // DeepSeek whose headline the PDF lost; its opening clause names it, joined across the break.
  const std::string page = Seed("000_37400ed1cf531c96.txt");
  const std::vector<ArticleStart> articles = FindLaterArticles(page);
  ASSERT_EQ(articles.size(), 1u);
  EXPECT_EQ(articles[0].title, "国产开源大模型DeepSeek凭借出色性价比");
  // The offset is in code points and lands on the byline's line.
  const std::u32string wide = [&] {
    std::u32string out;
    for (size_t i = 0; i < page.size();) {
      const unsigned char c = page[i];
      const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      char32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
      for (int k = 1; k < n; ++k) cp = (cp << 6) | (page[i + k] & 0x3F);
      out += cp;
      i += n;
    }
    return out;
  }();
  ASSERT_LT(articles[0].offset, wide.size());
  EXPECT_EQ(wide.substr(articles[0].offset, 9), U" 证券时报记者 阮");
  // A passage is named by the article its middle falls in.
  const std::string page_title = GuessDocumentTitle(page);
  EXPECT_EQ(ArticleTitleAt(articles, page_title, 100, 600), page_title);
  EXPECT_EQ(ArticleTitleAt(articles, page_title, 5512, 6019), articles[0].title);
  EXPECT_EQ(ArticleTitleAt(articles, page_title, articles[0].offset - 100, articles[0].offset + 400), articles[0].title);
  EXPECT_EQ(ArticleTitleAt(articles, page_title, articles[0].offset - 400, articles[0].offset + 100), page_title);
  // The report itself has no bylines past its opening; an English page does.
  EXPECT_TRUE(FindLaterArticles(Seed("002_43b260d425d982aa.txt")).empty());
  const std::string english = "By Ann Lee\n\n" + std::string(300, 'x') + "\n\nBy John Smith\n\nOil prices fell on Monday.\n";
  const std::vector<ArticleStart> two = FindLaterArticles(english);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].title, "Oil prices fell on Monday.");
  EXPECT_TRUE(FindLaterArticles("").empty());
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
