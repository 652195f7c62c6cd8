// Sentences and headings a report may quote from a passage (memory/sentences.h), and their
// ranking against a question (memory/sentence_ranker.h), on text shaped like the seed corpus:
// PDF lines with blank lines between them, captions, page furniture, tables.
#include "memory/sentences.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <chrono>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory/chunker.h"
#include "memory/sentence_ranker.h"
#include "answer_type.h"
#include "leaning.h"
#include "share_of_whole.h"
#include "utf8_text.h"

namespace memory {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

template <typename Sentence>
std::vector<std::string> Texts(const std::vector<Sentence>& items) {
  std::vector<std::string> out;
  for (const Sentence& s : items) out.push_back(s.text);
  return out;
}

// PDF-extracted Chinese: one short line per row of the page, blank lines between them.
constexpr char kPdfPage[] =
    "影院特效厅多方竞逐\n\n国产系统悄然崛起\n\n2024年，国内电影产业降温明显。全年累\n\n计票房约425亿元（含服务费，下同），较2023年\n\n"
    "的 549亿元减少 124亿元，降幅 22.6%。相较于\n\n整体票房，特效厅去年的票房也整体下降\n\n23.4%。\n\n"
    "图 3: DeepSeek-V3 的 API 服务价格\n\n资料来源：DeepSeek 官网，华龙证券研究所\n\n"
    "请务必阅读正文之后的免责声明部分\n\n2) 在 C 端场景下，AI Agent 作为生成式 AI 的商业化应用，可以\n\n广泛应用于电商、教育等行业。\n\n"
    "GPT-4o\t9.3\t13.4\t74.6\n\no1-mini\t63.6\t80.0\t90.0\n\n";

TEST(SentencesTest, JoinsPdfLinesAndKeepsWholeSentencesOnly) {
  PassageSentences found = SplitSentences(kPdfPage, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences),
              ElementsAre("2024年，国内电影产业降温明显。",
                          "全年累计票房约425亿元（含服务费，下同），较2023年的 549亿元减少 124亿元，降幅 22.6%。",
                          "相较于整体票房，特效厅去年的票房也整体下降23.4%。",
                          "在 C 端场景下，AI Agent 作为生成式 AI 的商业化应用，可以广泛应用于电商、教育等行业。"));
  // Headings: the title lines and the caption without its label; never furniture or table rows.
  EXPECT_THAT(Texts(found.headings), ElementsAre("影院特效厅多方竞逐", "国产系统悄然崛起", "DeepSeek-V3 的 API 服务价格"));
  // Every sentence is verbatim in the passage once its lines are joined, and its offsets point
  // at it.
  const std::string joined = NormalizeSpacing(kPdfPage);
  for (const PassageSentence& s : found.sentences) {
    EXPECT_NE(joined.find(s.text), std::string::npos) << s.text;
    EXPECT_LT(s.start, s.end);
    EXPECT_LE(s.end, CodePointCount(kPdfPage));
  }
}

TEST(SentencesTest, ASentenceMayOpenOnATitlesMark) {
  // PDF lines broken inside the titles; a sentence opening on "《" names the films, while one
  // opening on other punctuation is a fragment.
  PassageSentences found = SplitSentences(
      "今年春节档上映的影片“工业大片”\n\n属性明显。《射雕英雄传：侠之大者》《封神第二\n\n部：战火西岐》《哪吒之魔童闹海》等都是视效大\n\n"
      "片。在这些影片带动下，更多观众今年选择在\n\n体验更佳的特效厅观影。、这是一句以顿号开头的残句，不应被当作句子。",
      {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences),
              ElementsAre("今年春节档上映的影片“工业大片”属性明显。",
                          "《射雕英雄传：侠之大者》《封神第二部：战火西岐》《哪吒之魔童闹海》等都是视效大片。",
                          "在这些影片带动下，更多观众今年选择在体验更佳的特效厅观影。"));
  // A page's list of related reports is no sentence.
  found = SplitSentences("《智谱发布新模型——传媒行业周报》2025.01.20\n\n《CES 2025 盛大开幕——传媒行业周报》2025.01.14\n\n摘要：\n\n"
                         "- **DeepSeek-V3 和 R1 模型凭借卓越的性能和创新的技术，迅速在全球 AI 领域崭露头角。**2024 年 12 月 26 日，公司发布"
                         "全新系列模型 DeepSeek-V3 并同步开源。",
                         {.starts_at_sentence = true});
  for (const PassageSentence& s : found.sentences) EXPECT_THAT(s.text, ::testing::Not(::testing::HasSubstr("周报"))) << s.text;
  EXPECT_FALSE(found.sentences.empty());
}

TEST(SentencesTest, AnOutlinesNumberedHeadingsEndAtTheirLines) {
  // A PDF's outline, every line set apart by a blank one and as long as the prose's: run on,
  // the two headings and the paragraph under them were one "sentence".
  const std::string page =
      "2. AI：行业发展仍处快车道，AGI 及 AIGC 或将深入影响传媒行业 \n\n"
      "2.1 全球 AI：产业投资及模型训练成本激增，头部机构领先优势明显 \n\n"
      "全球 AI 产业已经形成了较清晰且完善的产业体系，上游为算力基础设施与数据资源 \n\n"
      "供给方，中游为模型研发与平台服务方。\n\n";
  PassageSentences found = SplitSentences(page, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences),
              ElementsAre("全球 AI 产业已经形成了较清晰且完善的产业体系，上游为算力基础设施与数据资源供给方，中游为模型研发与平台服务方。"));
  EXPECT_THAT(Texts(found.headings), Contains("全球 AI：产业投资及模型训练成本激增，头部机构领先优势明显"));
  // A wrapped line that opens with a number and its unit, or a number and a small word, is prose.
  const std::string prose =
      "预计到 2025 年，全球生成式 AI 市场规模将增长至 2023 年的 \n\n2.1 倍，其中中国市场的增速将高于全球平均水平并保持领先 \n\n"
      "地位，而中国市场的增速将高于全球平均水平，其中增速将高。\n\n";
  EXPECT_THAT(Texts(SplitSentences(prose, {.starts_at_sentence = true}).sentences),
              ElementsAre(::testing::HasSubstr("2023 年的2.1 倍，其中")));
  const std::string english =
      "Shipments reached a record in the year as demand from utilities rose to \n\n2.1 million units and more "
      "are expected next year from the new factories.\n\n";
  EXPECT_THAT(Texts(SplitSentences(english, {.starts_at_sentence = true}).sentences),
              ElementsAre(::testing::HasSubstr("rose to 2.1 million units")));
}

TEST(SentencesTest, ATablesHeaderOfShortLabelsIsNoHeading) {
  // A table the PDF flattened to spaces: its caption is a heading, its header row is not.
  const std::string page =
      " 图表 8：海内外头部初创 AI 企业融资情况 \n \n\n时间 公司 募资 估值 \n\n"
      "2024 年 9 月 OpenAI 计划向投资者筹集 65 亿美元 1,570 亿美元 \n\n";
  EXPECT_THAT(Texts(SplitSentences(page, {.starts_at_sentence = true}).headings),
              ElementsAre("海内外头部初创 AI 企业融资情况"));
  // Short words alone do not make a header: a title with a Latin word, or of two words, stays one.
  for (const char* title : {"生成式 AI 产业图谱", "推理成本 持续下降"}) {
    EXPECT_THAT(Texts(SplitSentences(title, {.starts_at_sentence = true}).headings), ElementsAre(title));
  }
}

TEST(SentencesTest, ATableOfContentsEntryIsNoSentenceButAnEllipsisInProseIs) {
  const std::string page =
      "## 目录\n\n1. 行业复盘：股价有所承压，营收呈弱复苏.....\t5\n"
      "2.3 昆仑万维：布局大模型，All in AI 开辟新增长曲线.....\t14\n3. 影视：经营秩序恢复………………20\n\n"
      "他们谈到了成本、效率……最后决定开源。\n\n";
  EXPECT_THAT(Texts(SplitSentences(page, {.starts_at_sentence = true}).sentences),
              ElementsAre("他们谈到了成本、效率……最后决定开源。"));
}

TEST(SentencesTest, ASentenceOfFiguresIsKeptButARunOfNumbersIsNot) {
  // Most of the first sentence's characters are digits, but each number is one word of it: it
  // answers "2023年全年电影票房收入有多少亿元？" and was dropped as "mostly digits". A sentence
  // of numbers alone still is.
  const std::string page =
      "2023 年全年票房收入已达 548.47 亿元、恢复至 2019 年的 86.3%，2024 年前 5 月累计票房达 216.47 亿元、"
      "恢复至 2019 年同期的 80.2%。\n\n1.2%、3.4%、5.6%、7.8% 和 9.0%。\n\n";
  EXPECT_THAT(Texts(SplitSentences(page, {.starts_at_sentence = true}).sentences),
              ElementsAre("2023 年全年票房收入已达 548.47 亿元、恢复至 2019 年的 86.3%，2024 年前 5 月累计票房达 216.47 "
                          "亿元、恢复至 2019 年同期的 80.2%。"));
}

TEST(SentencesTest, APassageFromMidDocumentDropsItsCutOffStart) {
  const std::string passage = "亿元，同比增长 42%。预计 2024 年行业规模将达 1,412 亿元，同比增速 17%。";
  EXPECT_THAT(Texts(SplitSentences(passage, {.starts_at_sentence = false}).sentences),
              ElementsAre("预计 2024 年行业规模将达 1,412 亿元，同比增速 17%。"));
  EXPECT_THAT(Texts(SplitSentences(passage, {.starts_at_sentence = true}).sentences),
              Contains("亿元，同比增长 42%。"));
}

TEST(SentencesTest, AWordHyphenatedAcrossLinesIsQuotedWhole) {
  // PDF extraction leaves U+2043 (or a soft hyphen) where it broke a word at a line end.
  const std::string passage = "据中影科技介绍，中影CINI⁃\nTY电影系统融合了七大技术。Deep\u00ad\nSeek 发布了新模型。";
  EXPECT_THAT(Texts(SplitSentences(passage, {.starts_at_sentence = true}).sentences),
              ElementsAre("据中影科技介绍，中影CINITY电影系统融合了七大技术。", "DeepSeek 发布了新模型。"));
  // Only a Latin word goes on; an ASCII hyphen may be a compound's and stays.
  EXPECT_EQ(NormalizeSpacing("CINI⁃\n\nTY 电影⁃\n系统 state-of-\nthe-art"), "CINITY 电影⁃系统 state-of- the-art");
}

TEST(SentencesTest, AStockRecommendationIsNoSentence) {
  const std::string passage =
      "重点推荐布局大模型的昆仑万维300418.SZ，以及影视主业复苏的上海电影601595.SH。昆仑万维在 2023 年发布了天工大模型。";
  EXPECT_THAT(Texts(SplitSentences(passage, {.starts_at_sentence = true}).sentences),
              ElementsAre("昆仑万维在 2023 年发布了天工大模型。"));
}

TEST(SentencesTest, AFiguresSourceLineEndsWhereItsLineDoes) {
  // PDF text where blank lines are no paragraphs: the source line ran on into the next line's
  // first sentence, and the whole was dropped as furniture with the count of licences in it.
  const std::string passage =
      "海外市场实际销售收入14.18亿美元、同比-0.7%。\n\n图 35：中国客户端游戏市场实际销售收入（亿元）\n\n"
      "资料来源：游戏产业报告，伽马数据，游戏工委《2023中国游戏产业月度报告/4月》，山西证券研究所\n\n"
      "2024年版号发行延续常态化趋势，前5月累计发放524个。月度平均发行数量位于2021年以来的最高值。\n\n"
      "Source: IEA\nGlobal installations doubled in 2024.";
  EXPECT_THAT(Texts(SplitSentences(passage, {.starts_at_sentence = true}).sentences),
              ElementsAre("海外市场实际销售收入14.18亿美元、同比-0.7%。", "2024年版号发行延续常态化趋势，前5月累计发放524个。",
                          "月度平均发行数量位于2021年以来的最高值。", "Global installations doubled in 2024."));
}

TEST(SentencesTest, EnglishProseAndMarkdown) {
  const std::string text =
      "# Market overview\n\nThe AI agent market grew 35% in 2024. Revenue reached 5.4 billion dollars, up from 4.0 "
      "billion.\nThe U.S. share fell to 40% as Chinese vendors expanded!\n\n## Outlook\n\n- Analysts expect growth to "
      "continue through 2028.\nSee [3] for details.\nToo short.\n";
  PassageSentences found = SplitSentences(text, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences),
              ElementsAre("The AI agent market grew 35% in 2024.", "Revenue reached 5.4 billion dollars, up from 4.0 billion.",
                          "The U.S. share fell to 40% as Chinese vendors expanded!",
                          "Analysts expect growth to continue through 2028."));
  EXPECT_THAT(Texts(found.headings), ElementsAre("Market overview", "Outlook"));
}

TEST(SentencesTest, EachSentenceKnowsTheSectionItSitsUnder) {
  // Every section line starts a section, including one too long to show as a heading and one
  // said before; a figure's caption is no section.
  const std::string text =
      "# Market overview\n\nThe AI agent market grew 35% in 2024.\n\n"
      "## Why the market grew faster than analysts expected at the start of the year\n\n"
      "Cloud vendors cut their prices twice in the first half.\n\n"
      "## Outlook\n\nAnalysts expect growth to continue through 2028.\n\n"
      "## Market overview\n\nChinese vendors expanded into Southeast Asia.\n\n"
      "Figure 3: Revenue by region\n\nThe U.S. share fell to 40% over the year.\n";
  PassageSentences found = SplitSentences(text, {.starts_at_sentence = true});
  ASSERT_EQ(found.sentences.size(), 5u);
  EXPECT_EQ(found.sentences[0].section, "Market overview");
  EXPECT_EQ(found.sentences[1].section, "Why the market grew faster than analysts expected at the start of the year");
  EXPECT_EQ(found.sentences[2].section, "Outlook");
  EXPECT_EQ(found.sentences[3].section, "Market overview");
  EXPECT_EQ(found.sentences[4].section, "Market overview");
  // Shown as headings: each short one once, and the caption.
  EXPECT_THAT(Texts(found.headings), ElementsAre("Market overview", "Outlook", "Revenue by region"));
  // No section line before a sentence: no section.
  EXPECT_EQ(SplitSentences("Cloud vendors cut their prices twice this year.", {.starts_at_sentence = true}).sentences.at(0).section, "");
}

TEST(SentencesTest, ATimelinesEntriesAreSentencesAndNoSections) {
  // A timeline from a PDF: each entry a line of its own, no full stop. An entry saying what
  // happened is a sentence; a date with only a label is not; the last line may be cut.
  const std::string text =
      "图表 1：DeepSeek 爆火时间线梳理\n\n日期 时间节点 内容进展\n\n"
      "1 月 11 日 “正式发布” DeepSeek 正式发布官方 APP，并上线 iOS 与安卓应用市场 \n\n"
      "1 月 20 日 “同步开源” \n\n"
      "2 月 2 日 “腾讯力挺” 腾讯支持 DeepSeek-R1 大模型一键部署 \n\n"
      "March 3, 2024 Harbor Robotics opened its Hamburg office\n\n"
      "2024 年 9 月 OpenAI 计划向投资者筹集 65 亿美元 1,570 亿美元\n\n"  // a table's row
      "2 月 4 日 “阿里支持” 阿里云和字节跳动火山引擎宣布支持 DeepSeek";
  PassageSentences found = SplitSentences(text, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences),
              ElementsAre("1 月 11 日 “正式发布” DeepSeek 正式发布官方 APP，并上线 iOS 与安卓应用市场",
                          "2 月 2 日 “腾讯力挺” 腾讯支持 DeepSeek-R1 大模型一键部署",
                          "March 3, 2024 Harbor Robotics opened its Hamburg office"));
  for (const PassageSentence& s : found.sentences) {
    EXPECT_TRUE(s.timeline_entry) << s.text;
    EXPECT_EQ(s.section, "") << s.text;  // "1 " is no section number
  }
  // Outside a timeline, a wrapped line that opens with a date continues the sentence before it;
  // a month's name is a word of its own.
  PassageSentences prose = SplitSentences(
      "January 5, 2025 Harbor Robotics said on Monday that its results for the year will be published on\n"
      "March 3, 2025 at the annual meeting of shareholders in Hamburg, Germany, as planned.\n"
      "The company did not comment further on its plans for the coming year and beyond that.\n",
      {.starts_at_sentence = true});
  ASSERT_FALSE(prose.sentences.empty());
  EXPECT_THAT(prose.sentences[0].text, ::testing::HasSubstr("published on March 3, 2025 at the annual meeting"));
  EXPECT_FALSE(prose.sentences[0].timeline_entry);
  PassageSentences mayors = SplitSentences("3 Mayors of the region met the port authority\n\nThe talks went on into the night.\n",
                                           {.starts_at_sentence = true});
  for (const PassageSentence& s : mayors.sentences) EXPECT_FALSE(s.timeline_entry) << s.text;
  // A numbered section is still one.
  PassageSentences numbered = SplitSentences("1 市场概况\n\nAI Agent 市场在 2024 年增长了 35%。\n", {.starts_at_sentence = true});
  ASSERT_EQ(numbered.sentences.size(), 1u);
  EXPECT_EQ(numbered.sentences[0].section, "市场概况");
  EXPECT_FALSE(numbered.sentences[0].timeline_entry);

  // An entry answers when; to other questions it is a fragment.
  const std::vector<PassageInput> passages = {{.text = text, .starts_at_sentence = true}};
  auto when = RankSentences(nullptr, "DeepSeek 官方APP是哪天正式发布的？", passages, {.k = 2});
  ASSERT_TRUE(when.ok());
  ASSERT_FALSE(when->sentences.empty());
  EXPECT_THAT(when->sentences[0].text, ::testing::StartsWith("1 月 11 日"));
  auto what = RankSentences(nullptr, "DeepSeek 官方APP 有哪些功能？", passages, {.k = 2});
  ASSERT_TRUE(what.ok());
  EXPECT_TRUE(what->sentences.empty());
}

TEST(SentencesTest, HostileTextNeverBreaksTheSplitter) {
  // Invalid UTF-8, lone brackets, only punctuation, only newlines, a very long line.
  for (const std::string& text : {std::string("\xff\xfe。。。\n\n\n[[[]]]"), std::string(5000, '.'), std::string(3000, '\n'),
                                  std::string("。") + std::string(10000, 'a') + "。", std::string()}) {
    PassageSentences found = SplitSentences(text, {.starts_at_sentence = true});
    for (const PassageSentence& s : found.sentences) {
      EXPECT_LE(CodePointCount(s.text), 300u);
      EXPECT_EQ(s.text.find('['), std::string::npos);
    }
  }
}

TEST(SentencesTest, OverlongFormsAndSurrogatesStayInvalidBytes) {
  // "\xC0\xAF" is an overlong '/', "\xE0\x80\xBC" an overlong '<', "\xED\xA0\x80" the surrogate
  // U+D800: a lenient decoder turns them into the characters they disguise.
  const std::string text = NormalizeSpacing("a\xC0\xAF" "b\xE0\x80\xBC" "c\xED\xA0\x80" "d");
  EXPECT_EQ(text.find('/'), std::string::npos) << text;
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_EQ(text.find("\xED\xA0\x80"), std::string::npos) << "a surrogate was passed through as a character";
  EXPECT_EQ(NormalizeSpacing("2023 年 \xE4\xB8\xAD"), "2023 年 中");
}

// Embeds texts as counts of a few marker words: enough to tell the ranker's vector half works.
class MarkerEmbedder final : public Embedder {
 public:
  std::string model_name() const override { return "markers"; }
  int dimension() const override { return 3; }
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const std::string& t : texts) {
      std::vector<float> v = {t.find("市场") != std::string::npos ? 1.0f : 0.0f,
                              t.find("票房") != std::string::npos ? 1.0f : 0.0f, 0.1f};
      float norm = 0;
      for (float x : v) norm += x * x;
      for (float& x : v) x /= std::sqrt(norm);
      out.push_back(v);
    }
    return out;
  }
};

TEST(SentenceRankerTest, TheAnswerComesFirstAndRestatementsAndExclusionsGo) {
  const std::vector<PassageInput> passages = {
      {"2023 年中国 AI Agent 市场规模为 554 亿元，预计至 2028 年将达 8520 亿元。AI Agent 是一种能自主感知环境的智能体。", true},
      {"2024 年特效厅产出的票房为 85.3 亿元，约占国内电影总票房的 20%。特效厅又称特殊厅，是特殊类型影厅的统称。", true},
      // The first sentence again, as an overlapping chunk repeats it (spacing differs).
      {"2023年中国AI Agent市场规模为554亿元，预计至2028年将达8520亿元。中国云计算市场保持高活力，增速较快。", true},
  };
  MarkerEmbedder embedder;
  for (Embedder* e : {static_cast<Embedder*>(nullptr), static_cast<Embedder*>(&embedder)}) {
    auto ranked = RankSentences(e, "2023年中国AI Agent市场规模是多少？", passages, {.k = 4});
    ASSERT_TRUE(ranked.ok()) << ranked.status();
    ASSERT_FALSE(ranked->sentences.empty());
    EXPECT_EQ(ranked->sentences[0].text, "2023 年中国 AI Agent 市场规模为 554 亿元，预计至 2028 年将达 8520 亿元。");
    EXPECT_EQ(ranked->sentences[0].passage, 0);
    EXPECT_DOUBLE_EQ(ranked->sentences[0].score, 1.0);
    for (const RankedSentence& s : ranked->sentences) {
      EXPECT_NE(s.text, "2023年中国AI Agent市场规模为554亿元，预计至2028年将达8520亿元。") << "a restatement was kept";
    }
    auto without = RankSentences(e, "2023年中国AI Agent市场规模是多少？", passages,
                                 {.k = 4, .exclude = {"2023 年中国 AI Agent 市场规模为 554 亿元，预计至 2028 年将达 8520 亿元。"}});
    ASSERT_TRUE(without.ok());
    for (const RankedSentence& s : without->sentences) EXPECT_THAT(s.text, Not(::testing::HasSubstr("554")));
  }
  auto none = RankSentences(nullptr, "anything", {}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->sentences.empty());
}

// Embeds every text alike: the vector half likes everything equally, as a weak embedder does
// across subjects.
class FlatEmbedder final : public Embedder {
 public:
  std::string model_name() const override { return "flat"; }
  int dimension() const override { return 2; }
  absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
    return std::vector<std::vector<float>>(texts.size(), {0.6f, 0.8f});
  }
};

TEST(SentenceRankerTest, ASentenceOfAnotherDocumentSharingNoWordWithTheQuestionIsLeftOut) {
  // The survey's answer shares no word with the question either, but its document is the best
  // sentence's; the roaster's sentence has only "would", a modal verb, and another document.
  const std::vector<PassageInput> passages = {
      {.text = "The authority surveyed commuters to learn what would make them switch from cars to public transport. "
               "When asked what would make them leave the car at home, respondents most often named more frequent service.",
       .starts_at_sentence = true,
       .title = "Metro commuter survey"},
      {.text = "One European roaster said its green coffee costs had increased by 40%, and that retail prices would follow.",
       .starts_at_sentence = true,
       .title = "Coffee market update"},
  };
  FlatEmbedder embedder;
  auto ranked = RankSentences(&embedder, "What would persuade drivers to use public transport?", passages, {.k = 4});
  ASSERT_TRUE(ranked.ok());
  std::vector<std::string> texts;
  for (const RankedSentence& s : ranked->sentences) texts.push_back(s.text);
  EXPECT_THAT(texts, Contains(::testing::StartsWith("When asked")));
  EXPECT_THAT(texts, Not(Contains(::testing::StartsWith("One European roaster"))));
  // Without an embedder, relevance is the words' alone and nothing is adrift.
  auto lexical = RankSentences(nullptr, "What would persuade drivers to use public transport?", passages, {.k = 4});
  ASSERT_TRUE(lexical.ok());
  EXPECT_EQ(lexical->sentences.size(), 3u);
}

TEST(SentenceRankerTest, ASentenceSaysWhetherItSharesAWordWithTheQuestion) {
  // Scores are relative to the best sentence: only shares_query_terms tells a plan that the best
  // one has nothing of the question ("capital", "Mars"), so that it can say nothing was found.
  const std::vector<PassageInput> passages = {
      {.text = "Revenue for the year reached $312 million. The company is headquartered in Rotterdam.",
       .starts_at_sentence = true,
       .title = "Harbor Robotics: annual review 2024"},
  };
  FlatEmbedder embedder;
  auto unanswered = RankSentences(&embedder, "What is the capital of Mars?", passages, {.k = 4});
  ASSERT_TRUE(unanswered.ok());
  ASSERT_FALSE(unanswered->sentences.empty());
  for (const RankedSentence& s : unanswered->sentences) EXPECT_FALSE(s.shares_query_terms) << s.text;
  auto answered = RankSentences(&embedder, "Where is the company headquartered?", passages, {.k = 4});
  ASSERT_TRUE(answered.ok());
  ASSERT_FALSE(answered->sentences.empty());
  EXPECT_THAT(answered->sentences[0].text, ::testing::HasSubstr("Rotterdam"));
  EXPECT_TRUE(answered->sentences[0].shares_query_terms);
  // A word of the document's title counts: the sentence is read under it.
  auto titled = RankSentences(&embedder, "Harbor Robotics revenue", passages, {.k = 4});
  ASSERT_TRUE(titled.ok());
  for (const RankedSentence& s : titled->sentences) EXPECT_TRUE(s.shares_query_terms) << s.text;
}

TEST(SentenceRankerTest, ASentenceSaysWhetherItGivesTheKindOfAnswerAsked) {
  // The fact a "why" asks about, restated, gives no cause: a plan keeps more than the best
  // sentence in view when the best gives none.
  const std::vector<PassageInput> passages = {
      {.text = "LLM 单纯云端部署（例如 ChatGPT）并不广泛接受。88%的参与者倾向于边缘-云协作架构。他们的主要担忧是：1)远程服务的高延迟，"
               "2)将个人数据传输到云端的风险。",
       .starts_at_sentence = true},
  };
  auto why = RankSentences(nullptr, "为什么大语言模型单纯云端部署不被广泛接受？", passages, {.k = 3});
  ASSERT_TRUE(why.ok());
  std::map<std::string, bool> fits;
  for (const RankedSentence& s : why->sentences) fits[s.text] = s.offers_answer_kind;
  ASSERT_TRUE(fits.count("LLM 单纯云端部署（例如 ChatGPT）并不广泛接受。"));
  EXPECT_FALSE(fits["LLM 单纯云端部署（例如 ChatGPT）并不广泛接受。"]);
  ASSERT_EQ(fits.count("他们的主要担忧是：1)远程服务的高延迟，2)将个人数据传输到云端的风险。"), 1u);
  EXPECT_TRUE(fits["他们的主要担忧是：1)远程服务的高延迟，2)将个人数据传输到云端的风险。"]);
  // A question of no particular kind: every sentence gives what it asks.
  auto topic = RankSentences(nullptr, "大语言模型的云端部署", passages, {.k = 3});
  ASSERT_TRUE(topic.ok());
  for (const RankedSentence& s : topic->sentences) EXPECT_TRUE(s.offers_answer_kind) << s.text;
}

TEST(SentenceRankerTest, AQuestionOfAMonthIsAnsweredByASentenceOfThatMonth) {
  const std::vector<PassageInput> passages = {
      {.text = "截至6月25日，传媒指数今年累计下跌24.0%，宏观经济表现、股市资金面等因素共同影响传媒指数走势。"
               "分阶段来看，1月份因股市整体表现不佳，传媒行业又以中小盘股居多，故指数走势较为低迷；",
       .starts_at_sentence = true},
  };
  auto january = RankSentences(nullptr, "为什么2024年1月传媒指数走势低迷？", passages, {.k = 2});
  ASSERT_TRUE(january.ok());
  ASSERT_FALSE(january->sentences.empty());
  EXPECT_THAT(january->sentences[0].text, ::testing::HasSubstr("1月份因股市整体表现不佳"));
  // "N月以来" counts the months after it: June is within "since May", January is not.
  auto since = RankSentences(nullptr, "5月以来传媒指数为什么下跌？", passages, {.k = 2});
  ASSERT_TRUE(since.ok());
  ASSERT_FALSE(since->sentences.empty());
  EXPECT_THAT(since->sentences[0].text, ::testing::StartsWith("截至6月25日"));
}

TEST(SentenceRankerTest, ASectionsFocusKeepsSentencesThatShareOnlyTheTopicsWordsOut) {
  const std::vector<PassageInput> passages = {
      {"2023年中国光芯片市场规模约为137.62亿元，较上年增长10.24%。根据信通院数据，中国云计算市场保持高活力，年均增速达到37%。", true},
  };
  SentenceRankOptions options;
  options.k = 4;
  auto unfocused = RankSentences(nullptr, "中国云计算市场规模 中国AI Agent市场规模", passages, options);
  ASSERT_TRUE(unfocused.ok());
  ASSERT_EQ(unfocused->sentences.size(), 2u) << "without a focus both sentences are candidates";
  options.focus = "中国云计算市场规模";
  options.background = "中国AI Agent市场规模";
  auto focused = RankSentences(nullptr, "中国云计算市场规模 中国AI Agent市场规模", passages, options);
  ASSERT_TRUE(focused.ok());
  ASSERT_EQ(focused->sentences.size(), 1u);
  EXPECT_THAT(focused->sentences[0].text, ::testing::HasSubstr("云计算"));
  // A focus with nothing beyond the background asks for its own words: both sentences name
  // 中国 and 市场.
  options.focus = "中国AI Agent市场规模";
  auto same = RankSentences(nullptr, "中国AI Agent市场规模", passages, options);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->sentences.size(), 2u);
  // "Risks" under "What supply risk does Harbor Robotics name?": a sentence about risk, not the
  // CEO's appointment.
  const std::vector<PassageInput> review = {
      {"Maria Lindqvist has served as chief executive officer since March 2019. The main risk named in the review is "
       "the supply of lidar sensors.", true, "Harbor Robotics: annual review 2024"}};
  options.focus = "Risks";
  options.background = "What supply risk does Harbor Robotics name?";
  auto risks = RankSentences(nullptr, "Risks What supply risk does Harbor Robotics name?", review, options);
  ASSERT_TRUE(risks.ok());
  ASSERT_EQ(risks->sentences.size(), 1u);
  EXPECT_THAT(risks->sentences[0].text, ::testing::HasSubstr("lidar"));
  // A caption's words of any subject ("变化趋势") do not make a sentence on another one its own;
  // nor do a heading's rhetorical adverbs ("悄然"): "国产系统悄然崛起" is on the home-made systems,
  // which "…国产电影放映系统快速发展" is, sharing only 系统 beyond the topic.
  struct FocusCase {
    std::string passage, focus, background, kept;
  };
  for (const FocusCase& c : std::vector<FocusCase>{
           {"国内游戏市场收入变化趋势基本主导着整体游戏收入。年初以来，国内影院上座率为 6.5%，低于 2023 年全年的 8.3%。",
            "历年上座率变化趋势", "2023年全年国内影院上座率是多少？", "上座率"},
           {"近年来，以中国电影旗下CINITY为代表的国产电影放映系统快速发展。视效大片是推动特效厅市场发展的重要动力。",
            "国产系统悄然崛起", "中国电影特效厅市场格局与国产品牌CINITY的崛起", "放映系统"}}) {
    options.focus = c.focus;
    options.background = c.background;
    const std::vector<PassageInput> passage = {{c.passage, true}};
    auto ranked = RankSentences(nullptr, c.focus + " " + c.background, passage, options);
    ASSERT_TRUE(ranked.ok());
    ASSERT_EQ(ranked->sentences.size(), 1u) << c.focus;
    EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr(c.kept)) << c.focus;
  }
}

TEST(SentenceRankerTest, ASentenceUnderTheFocusHeadingIsOnItsSubject) {
  // "Training versus serving" under "The cost of training and serving large language models":
  // the heading's only word beyond the topic is "versus", which no sentence says.
  const std::vector<PassageInput> passages = {
      {"## Hardware\n\nEach new generation of GPUs delivers more memory bandwidth for serving.\n\n"
       "## Training versus serving\n\nTraining remains expensive but happens once. Serving costs, by contrast, grow "
       "with every user.",
       true, "The falling cost of language-model inference"}};
  SentenceRankOptions options{.k = 4};
  options.focus = "Training versus serving";
  options.background = "The cost of training and serving large language models";
  auto ranked = RankSentences(nullptr, "Training versus serving The cost of training and serving large language models",
                              passages, options);
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  ASSERT_EQ(ranked->sentences.size(), 2u);
  for (const RankedSentence& s : ranked->sentences) EXPECT_THAT(s.text, ::testing::Not(::testing::HasSubstr("GPUs")));
}

// Each ranked sentence's `next` (empty when it announces none), by its text.
// Each ranked sentence by its text, pointing into `ranked`.
std::map<std::string, const RankedSentence*> ByText(const RankedSentences& ranked) {
  std::map<std::string, const RankedSentence*> by_text;
  for (const RankedSentence& s : ranked.sentences) by_text[s.text] = &s;
  return by_text;
}

std::map<std::string, std::string> NextOfEach(const std::string& query, const std::vector<PassageInput>& passages,
                                              int k) {
  std::map<std::string, std::string> next;
  auto ranked = RankSentences(nullptr, query, passages, {.k = k});
  EXPECT_TRUE(ranked.ok()) << ranked.status();
  if (!ranked.ok()) return next;
  for (const RankedSentence& s : ranked->sentences) next[s.text] = s.next;
  return next;
}

TEST(SentenceRankerTest, AShortSentenceWithoutAFigureNamesTheOneItAnnounces) {
  const std::vector<PassageInput> passages = {
      {"Lower prices changed project economics. A four-hour battery built in 2024 earns back its cost in seven years.\n\n"
       "Fires led regulators to act. Regulators in New York tightened spacing rules.\n\n"
       "Prices fell by 28% in 2024. Overcapacity is the main reason.\n\n"
       "Analysts expect the market to keep growing.\n\nA new paragraph starts here with another subject.",
       true}};
  std::map<std::string, std::string> next = NextOfEach("battery prices economics regulators market", passages, 8);
  ASSERT_EQ(next.size(), 8u);
  EXPECT_EQ(next["Lower prices changed project economics."],
            "A four-hour battery built in 2024 earns back its cost in seven years.");
  EXPECT_EQ(next["Fires led regulators to act."], "Regulators in New York tightened spacing rules.");
  EXPECT_EQ(next["Prices fell by 28% in 2024."], "") << "a figure: it says what it says";
  EXPECT_EQ(next["Analysts expect the market to keep growing."], "") << "the paragraph ends there";
  EXPECT_EQ(next["A four-hour battery built in 2024 earns back its cost in seven years."], "") << "not short";
}

TEST(SentenceRankerTest, ASentenceGivingAClaimsFiguresOrAddingAFewIsItsNext) {
  // A claim dated by a year, then its figures: quoted alone, the claim is an opinion without the
  // evidence (the capex report had "我们认为…超级周期。" and none of the giants' budgets).
  const std::vector<PassageInput> passages = {
      {"我们认为 2025 年中国将正式开启 AI 基建超级周期。我们预测腾讯 2025 年资本开支或达人民币 1,000+亿元，阿里巴巴约 "
       "1,500 亿元。\n\n"
       "在预训练阶段，公司追求极致的 AI 训练效率。公司设计了一个 FP8 混合精度 AI 训练框架。\n\n"
       "2023 年起，公司围绕 AI 全产业链开发运营。公司在 2023 年 12 月正式启动 AI 影院合作计划。\n\n"
       "上座率略有下滑，AI 影院的平均票价保持提升。\n\n年初以来，国内 AI 影院上座率为 6.5%。\n\n"
       "2023 年，AI 影院实现票房收入 6.32 亿元。票房市占率 1.17%、同比+0.25pct。\n\n"
       "根据研究院，AI 数据中心的资本开支主要集中在 IT 侧。\n\n其中，服务器约占 IT 侧成本的 70%。\n\n"
       "AI 数据中心的建设仍在加快。\n\n数据中心的资本开支约为 500 亿元。\n\n"
       "**AI 影院业务初显实力。**公司 AI 影院业务收入 0.41 亿元。",
       true}};
  std::map<std::string, std::string> next =
      NextOfEach("AI 资本开支 训练 影院 上座率 票价 周期 票房 数据中心 服务器", passages, 16);
  ASSERT_EQ(next.size(), 16u);
  EXPECT_EQ(next["我们认为 2025 年中国将正式开启 AI 基建超级周期。"],
            "我们预测腾讯 2025 年资本开支或达人民币 1,000+亿元，阿里巴巴约 1,500 亿元。");
  EXPECT_EQ(next["在预训练阶段，公司追求极致的 AI 训练效率。"], "") << "FP8 names a format: no figure";
  EXPECT_EQ(next["2023 年起，公司围绕 AI 全产业链开发运营。"], "") << "a date is no figure";
  EXPECT_EQ(next["上座率略有下滑，AI 影院的平均票价保持提升。"], "") << "the paragraph ends there";
  // A short sentence adding figures to the figures before it has no subject of its own.
  EXPECT_EQ(next["2023 年，AI 影院实现票房收入 6.32 亿元。"], "票房市占率 1.17%、同比+0.25pct。");
  EXPECT_EQ(next["年初以来，国内 AI 影院上座率为 6.5%。"], "") << "the paragraph ends there";
  // Figures that lean on the claim ("其中") complete it across a line break, as a PDF's text
  // breaks lines; figures standing alone in the next paragraph do not.
  EXPECT_EQ(next["根据研究院，AI 数据中心的资本开支主要集中在 IT 侧。"], "其中，服务器约占 IT 侧成本的 70%。");
  EXPECT_EQ(next["AI 数据中心的建设仍在加快。"], "");
  // A Markdown report's bold lead and its paragraph are one paragraph.
  EXPECT_EQ(next["AI 影院业务初显实力。"], "公司 AI 影院业务收入 0.41 亿元。");
}

TEST(SentenceRankerTest, FiguresFollowedByAParallelClaimAndItsFiguresBringThem) {
  // "另外" adds a claim of the same kind, which its own figures back: the data-centre report had
  // the IT side's split and not the power supply's 69%, two sentences on.
  const std::vector<PassageInput> passages = {
      {"AI 数据中心的资本开支主要集中在 IT 侧。其中，服务器约占 IT 侧成本的 70%。另外，非 IT 侧的机电设备也占到资本开支的一定比例。"
       "其中，供电系统占比约 69%，制冷系统占比约 18%。\n\n"
       "数据中心的服务器出货量约为 500 万台。另外，数据中心的建设仍在加快。",
       true}};
  auto ranked = RankSentences(nullptr, "AI 数据中心 资本开支 IT 侧 服务器 出货量", passages, {.k = 8});
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  std::map<std::string, const RankedSentence*> by_text = ByText(*ranked);
  const RankedSentence* claim = by_text["AI 数据中心的资本开支主要集中在 IT 侧。"];
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->next, "其中，服务器约占 IT 侧成本的 70%。");
  EXPECT_THAT(claim->further, ::testing::ElementsAre("非 IT 侧的机电设备也占到资本开支的一定比例。",
                                                     "其中，供电系统占比约 69%，制冷系统占比约 18%。"));
  // An addition no figure backs is no parallel claim.
  const RankedSentence* shipments = by_text["数据中心的服务器出货量约为 500 万台。"];
  ASSERT_NE(shipments, nullptr);
  EXPECT_EQ(shipments->next, "");
}

TEST(SentenceRankerTest, AClaimBorneOutTwoSentencesOnByFiguresANamedSourceGivesBringsBoth) {
  // The capex report quoted "…但投资力度差异显著。" without CB Insights' 12%, two sentences on.
  const std::vector<PassageInput> passages = {
      {"中美互联网龙头持续加码 AI，但投资力度差异显著。美国企业在 AI 竞赛中更加激进，也更加坚决。"
       "根据 CB Insights 数据，2023 年中国 AI 市场的总投资额只有美国的 12%左右。\n\n"
       "中国互联网龙头的 AI 投入仍在加快。中国云服务商也在加大投入。中国云计算市场规模预计达到 2,000 亿元。\n\n"
       "美国互联网龙头的 AI 投入更加坚决。这一轮投入主要集中在算力。根据这些投入，算力需求预计增长 30%。",
       true}};
  auto ranked = RankSentences(nullptr, "中美 互联网龙头 AI 投资 投入 算力 云计算", passages, {.k = 9});
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  std::map<std::string, const RankedSentence*> by_text = ByText(*ranked);
  const RankedSentence* claim = by_text["中美互联网龙头持续加码 AI，但投资力度差异显著。"];
  ASSERT_NE(claim, nullptr);
  EXPECT_EQ(claim->next, "美国企业在 AI 竞赛中更加激进，也更加坚决。");
  EXPECT_THAT(claim->further, ::testing::ElementsAre("根据 CB Insights 数据，2023 年中国 AI 市场的总投资额只有美国的 12%左右。"));
  // Figures no source is named for may be a new point; and "根据这些…" points back, naming none.
  for (const char* unsourced : {"中国互联网龙头的 AI 投入仍在加快。", "美国互联网龙头的 AI 投入更加坚决。"}) {
    const RankedSentence* s = by_text[unsourced];
    ASSERT_NE(s, nullptr) << unsourced;
    EXPECT_EQ(s->next, "") << unsourced;
  }
}

TEST(SentenceRankerTest, PartsFollowedByTheirWholeOrAShareOfItBringIt) {
  // The capex report quoted the giants' budgets without their total, the sentence after them; the
  // game report the market's revenue without the domestic games' share of it.
  const std::vector<PassageInput> passages = {
      {"我们预测腾讯 2025 年资本开支或达人民币 1,000 亿元，阿里巴巴约 1,500 亿元。"
       "中国互联网巨头的整体资本支出或接近翻倍，有望增加到 4,000 亿-6,000 亿元。\n\n"
       "2024年4月，我国游戏市场实际销售收入224.32亿元、同比-4.2%。"
       "自主研发游戏国内市场实际销售收入181.16亿元，占总收入比重为80.8%。\n\n"
       "全年累计票房约425亿元，降幅 22.6%。相较于整体票房，特效厅去年的票房也整体下降23.4%。",
       true}};
  std::map<std::string, std::string> next = NextOfEach("资本开支 资本支出 游戏 销售收入 票房", passages, 6);
  EXPECT_EQ(next["我们预测腾讯 2025 年资本开支或达人民币 1,000 亿元，阿里巴巴约 1,500 亿元。"],
            "中国互联网巨头的整体资本支出或接近翻倍，有望增加到 4,000 亿-6,000 亿元。");
  EXPECT_EQ(next["2024年4月，我国游戏市场实际销售收入224.32亿元、同比-4.2%。"],
            "自主研发游戏国内市场实际销售收入181.16亿元，占总收入比重为80.8%。");
  ASSERT_TRUE(next.contains("全年累计票房约425亿元，降幅 22.6%。"));
  EXPECT_EQ(next["全年累计票房约425亿元，降幅 22.6%。"], "") << "a part set against the whole is another subject";
}

TEST(SentenceRankerTest, ABreakdownInPercentagesGoingOnIsTheNextOfItsFirstShare) {
  const std::vector<PassageInput> passages = {
      {"Private cars remain the most common way to get to work: 46% of respondents drive alone. Buses carry 23% of "
       "commuters, the metro 17%, and bicycles 9%.\n\n"
       "Commuters pay 12% more for parking. Buses carry 23% of commuters and cost $4.50 a day.\n\n"
       "Metro ridership rose 8% in 2024. The metro carried 17% of trips, buses 23%, bicycles 9% and walking 5% in every one "
       "of the city's twelve districts last year.",
       true}};
  std::map<std::string, std::string> next = NextOfEach("commuters buses metro parking ridership", passages, 6);
  ASSERT_EQ(next.size(), 6u);
  EXPECT_EQ(next["Private cars remain the most common way to get to work: 46% of respondents drive alone."],
            "Buses carry 23% of commuters, the metro 17%, and bicycles 9%.");
  EXPECT_EQ(next["Commuters pay 12% more for parking."], "") << "a price is no share of the whole";
  EXPECT_EQ(next["Metro ridership rose 8% in 2024."], "") << "too long to go on with it";
}

TEST(SentenceRankerTest, ASentenceTakingUpTheThingItsPredecessorIntroducesIsQuotedAfterIt) {
  // "the backlog" is the one the sentence before says is $540 million: quoted alone, a reader
  // asks which backlog (the Southeast Asia report had it so).
  const std::vector<PassageInput> passages = {
      {"The order backlog stood at $540 million at the end of December, the largest in the company's history. Two thirds of the backlog comes from ports in "
       "Southeast Asia.\n\n"
       "A new European Union rule on deforestation-free supply chains was postponed. Traders expect the rule to add "
       "paperwork costs.\n\n"
       "Falling cell prices drove the boom. The average price of a battery pack for storage dropped to $97.\n\n"
       "Most capacity went to China. In the United States, California and Texas made up most installations.\n\n"
       "Revenue rose in the year. Revenue for the year reached $312 million.\n\n"
       "公司发布“天工 3.0”大模型，采用 4000 亿参数 MoE 架构。“天工 3.0”在语义理解等方面的能力实现飞升。\n\n"
       "公司发布“天工 2.0”大模型。“天工 3.0”的数学能力提升超 30%。\n\n"
       "Acme said revenue rose. Separately, the company said it would hire.",
       true}};
  auto ranked = RankSentences(nullptr, "backlog ports rule costs battery price installations revenue 天工 能力 大模型",
                              passages, {.k = 16});
  ASSERT_TRUE(ranked.ok()) << ranked.status();
  std::map<std::string, const RankedSentence*> by_text = ByText(*ranked);
  ASSERT_EQ(by_text.size(), 16u);
  const RankedSentence* backlog = by_text["Two thirds of the backlog comes from ports in Southeast Asia."];
  ASSERT_NE(backlog, nullptr);
  EXPECT_TRUE(backlog->leans_on_context);
  EXPECT_EQ(backlog->previous, "The order backlog stood at $540 million at the end of December, the largest in the company's history.");
  EXPECT_EQ(by_text["Traders expect the rule to add paperwork costs."]->previous,
            "A new European Union rule on deforestation-free supply chains was postponed.");
  // Its own "of" says which price; "the United States" is a name; "the year" is a time; after
  // "the company" comes its verb, no noun.
  for (const char* alone : {"The average price of a battery pack for storage dropped to $97.",
                            "Separately, the company said it would hire.",
                            "In the United States, California and Texas made up most installations.",
                            "Revenue for the year reached $312 million."}) {
    ASSERT_NE(by_text[alone], nullptr) << alone;
    EXPECT_FALSE(by_text[alone]->leans_on_context) << alone;
    EXPECT_EQ(by_text[alone]->previous, "") << alone;
  }
  // A quoted name the sentence before introduced; not one it did not.
  ASSERT_NE(by_text["“天工 3.0”在语义理解等方面的能力实现飞升。"], nullptr);
  EXPECT_EQ(by_text["“天工 3.0”在语义理解等方面的能力实现飞升。"]->previous, "公司发布“天工 3.0”大模型，采用 4000 亿参数 MoE 架构。");
  ASSERT_NE(by_text["“天工 3.0”的数学能力提升超 30%。"], nullptr);
  EXPECT_EQ(by_text["“天工 3.0”的数学能力提升超 30%。"]->previous, "");
}

TEST(SentenceRankerTest, SentencesThatContinueAThoughtRankBelowOnesThatStandAlone) {
  // The same words; one opens with 例如 (the second half of a thought the quote lacks), one with
  // 该 (a pronoun: leans a little), one stands alone.
  const std::vector<PassageInput> passages = {
      {"例如，AI Agent 可以自动处理大量审核工作。该 AI Agent 可以自动处理大量客服工作。AI Agent 可以自动处理大量运营工作。",
       true},
  };
  auto ranked = RankSentences(nullptr, "AI Agent 自动处理工作", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 3u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("AI Agent"));
  EXPECT_THAT(ranked->sentences[1].text, ::testing::StartsWith("该"));
  EXPECT_THAT(ranked->sentences[2].text, ::testing::StartsWith("例如"));
  EXPECT_LT(ranked->sentences[2].score, 0.7 * ranked->sentences[0].score);
  // And they say so, for a writer that orders them.
  EXPECT_FALSE(ranked->sentences[0].leans_on_context);
  EXPECT_TRUE(ranked->sentences[1].leans_on_context);
  EXPECT_TRUE(ranked->sentences[2].leans_on_context);
  // The sentence one leans on comes with it when it stands alone (here it leans too).
  EXPECT_EQ(ranked->sentences[1].previous, "");
  EXPECT_TRUE(ranked->sentences[1].previous_leans);
  EXPECT_EQ(ranked->sentences[2].previous, "") << "the passage's first sentence";

  const std::vector<PassageInput> pronouns = {
      {"DeepSeek-R1 真正令人瞩目的地方在于其极低的训练成本。它仅用 557.6 万美元完成了模型训练。此外，它还开源了全部模型权重。",
       true}};
  auto leaning = RankSentences(nullptr, "DeepSeek-R1 训练成本 模型", pronouns, {.k = 3});
  ASSERT_TRUE(leaning.ok());
  for (const RankedSentence& s : leaning->sentences) {
    if (s.text.starts_with("它")) {
      EXPECT_EQ(s.previous, "DeepSeek-R1 真正令人瞩目的地方在于其极低的训练成本。");
    }
    if (s.text.starts_with("此外")) {
      EXPECT_EQ(s.previous, "") << "it only adds";
    }
    if (s.text.starts_with("DeepSeek")) {
      EXPECT_EQ(s.previous, "");
    }
  }
}

TEST(SentenceRankerTest, ASentenceThatSumsUpWhatCameBeforeLeansOnIt) {
  const std::vector<PassageInput> passages = {
      {"Serving engines now batch requests and apply speculative decoding. Together these techniques raise "
       "throughput three to five times on the same hardware.",
       true},
  };
  auto ranked = RankSentences(nullptr, "techniques that raise serving throughput", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  bool seen = false;
  for (const RankedSentence& s : ranked->sentences) {
    if (!s.text.starts_with("Together")) continue;
    seen = true;
    EXPECT_TRUE(s.leans_on_context);
    EXPECT_EQ(s.previous, "Serving engines now batch requests and apply speculative decoding.");
  }
  EXPECT_TRUE(seen);
}

TEST(SentenceRankerTest, ControlCharactersOfAPlansPassagesAreSpaces) {
  // Passages a plan brings (a web search's results) never pass the store: their control
  // characters become spaces here, one code point for one, so quotes obey nothing on a terminal
  // and their offsets still point into the passage.
  const std::vector<PassageInput> passages = {
      {"Zorblax widget sales rose 6% in 2024.\x1b" "c Zorblax\x08\x08 margins \xc2\x9b" "2J held at 9%.", true}};
  auto ranked = RankSentences(nullptr, "Zorblax widget sales margins", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  bool margins = false;
  for (const RankedSentence& s : ranked->sentences) {
    for (const char c : s.text) EXPECT_FALSE(c == '\x1b' || c == '\x08') << s.text;
    EXPECT_EQ(s.text.find("\xc2\x9b"), std::string::npos) << s.text;
    if (s.text.find("margins") != std::string::npos) {
      margins = true;
      // The span is the passage's own, one code point for each: it ends at the passage's end.
      EXPECT_EQ(s.end, 73u) << s.text;
      EXPECT_EQ(s.text, "c Zorblax margins 2J held at 9%.");
    }
  }
  EXPECT_TRUE(margins);
}

TEST(SentenceRankerTest, APersonNamedInTheSentenceBeforeLeansOnIt) {
  // "she" after an opening phrase names the person of the sentence before: quoted alone under a
  // question on supply risks, "Before joining Harbor Robotics she ran…" said nothing of who.
  const std::vector<PassageInput> passages = {
      {"Maria Lindqvist has served as chief executive officer since March 2019. Before joining Harbor Robotics she ran "
       "the automation division of a Swedish forklift maker. When the port opened in 2011, the company sold its first "
       "crane controller.",
       true},
  };
  auto ranked = RankSentences(nullptr, "Harbor Robotics forklift division port crane", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  int seen = 0;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("Before")) {
      ++seen;
      EXPECT_TRUE(s.leans_on_context);
      EXPECT_EQ(s.previous, "Maria Lindqvist has served as chief executive officer since March 2019.");
    }
    if (s.text.starts_with("When")) {  // an opening phrase without a person's pronoun stands alone
      ++seen;
      EXPECT_FALSE(s.leans_on_context);
    }
  }
  EXPECT_EQ(seen, 2);
}

TEST(SentenceRankerTest, AnExampleLeansOnWhatCameBefore) {
  const std::vector<PassageInput> passages = {
      {"AI 原生应用的用户规模快速增长。以字节为例，豆包 app 的月活跃用户达到了 7522 万。以色列的 AI 公司数量增长了 20%。",
       true},
  };
  auto ranked = RankSentences(nullptr, "豆包 app 月活跃用户 以色列 AI 公司", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  int seen = 0;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("以字节为例")) {
      ++seen;
      EXPECT_TRUE(s.leans_on_context);
      EXPECT_EQ(s.previous, "AI 原生应用的用户规模快速增长。");
    }
    if (s.text.starts_with("以色列")) {
      ++seen;
      EXPECT_FALSE(s.leans_on_context) << "以 opens a name here, not an example";
    }
  }
  EXPECT_EQ(seen, 2);

  // An example with more of the question than its claim (which has nothing the example lacks)
  // answers it alone: the claim on inference demand opened "豆包的用户规模". Its "以 X 为例，"
  // stays, X often the rest's subject.
  const std::string page = "推理的需求规模往往是训练需求的 5-10 倍。以字节为例，根据 QuestMobile 的数据，豆包 app 的月活跃用户达到了 7522 万，"
      "AI 原生 APP 的月活跃用户规模达到了 1.2 亿。";
  auto alone = RankSentences(nullptr, "豆包的用户规模", std::vector<PassageInput>{{page, true}}, {.k = 2});
  ASSERT_TRUE(alone.ok());
  ASSERT_FALSE(alone->sentences.empty());
  const RankedSentence& example = alone->sentences[0];
  EXPECT_THAT(example.text, ::testing::StartsWith("以字节为例，根据 QuestMobile 的数据"));
  EXPECT_FALSE(example.leans_on_context);
  EXPECT_TRUE(example.previous.empty());
  // Its "其" right after the opening is the example itself.
  const std::string its = "AI 大模型大体遵循规模定律，即各家大模型厂商初期通过大幅提升参数量快速提升基础能力。以 DeepSeek 为例，其参数量从 "
      "2024 年 5 月发布的 DeepSeek-V2 的2,360 亿快速增长至 DeepSeek-V3 的 6,710 亿参数。";
  auto own = RankSentences(nullptr, "DeepSeek-V2的参数量是多少？", std::vector<PassageInput>{{its, true}}, {.k = 2});
  ASSERT_TRUE(own.ok());
  ASSERT_FALSE(own->sentences.empty());
  EXPECT_THAT(own->sentences[0].text, ::testing::StartsWith("以 DeepSeek 为例，其参数量"));
  EXPECT_FALSE(own->sentences[0].leans_on_context);
  EXPECT_TRUE(own->sentences[0].previous.empty());

  // A sentence leaning on what precedes it on its line, where that is no quotable sentence (a
  // table's cells), is left out: "该耳机…" would name nothing the report quotes. At a line's start
  // its subject may be a heading's, and it stays.
  const std::string cells =
      "智能耳机\t字节跳动\tOla Friend 为开放式耳机，接入了豆包大模型。该耳机接入了字节豆包大模型的 Seed-ASR 技术模型。\n\n"
      "该模型可以高精度识别中英文、口音，接入了豆包大模型。\n";
  auto without = RankSentences(nullptr, "豆包大模型", std::vector<PassageInput>{{cells, true}}, {.k = 4});
  ASSERT_TRUE(without.ok());
  EXPECT_THAT(Texts(without->sentences), ::testing::ElementsAre("该模型可以高精度识别中英文、口音，接入了豆包大模型。"));

  // "上述…" (the one named before) leans as a pronoun does. (What "前述报告显示，" — the report
  // named before shows — says is quoted without it: ASentenceThatOnlyAddsIsQuotedWithoutItsConnective.)
  const std::vector<PassageInput> report = {
      {"国产品牌的特效厅越来越多。上述品牌中，2024年中影CINITY品牌特效厅的票房达到 2.49亿元。", true}};
  auto cinity = RankSentences(nullptr, "CINITY 特效厅 票房", report, {.k = 2});
  ASSERT_TRUE(cinity.ok());
  bool found = false;
  for (const RankedSentence& s : cinity->sentences) {
    if (!s.text.starts_with("上述")) continue;
    found = true;
    EXPECT_TRUE(s.leans_on_context);
    EXPECT_EQ(s.previous, "国产品牌的特效厅越来越多。");
  }
  EXPECT_TRUE(found);
}

// "通过 X，克服了…" names the means and the verb, its subject (DeepSeek) in the sentence before:
// the key findings on DeepSeek-V3's training opened on it, saying nothing of who overcame what.
TEST(SentenceRankerTest, ASentenceOpeningOnItsVerbLeansOnTheOneNamingItsSubject) {
  const std::vector<PassageInput> passages = {
      {"DeepSeek 设计了一个 FP8 混合精度训练框架，并首次在超大规模模型上验证了 FP8 训练的可行性和有效性。"
       "通过算法、框架和硬件的协同设计，克服了跨节点 MoE 训练中的通信瓶颈，实现了近乎完全的计算与通信重叠。"
       "通过补贴，公司实现了盈利。为了降低成本，公司采用了 MoE 架构。实现了 MoE 训练的通信重叠。",
       true},
  };
  auto ranked = RankSentences(nullptr, "MoE 训练 通信 重叠 成本 补贴", passages, {.k = 5});
  ASSERT_TRUE(ranked.ok());
  int seen = 0;
  for (const RankedSentence& s : ranked->sentences) {
    SCOPED_TRACE(s.text);
    if (s.text.starts_with("通过算法")) {
      ++seen;
      EXPECT_TRUE(s.leans_on_context);
      EXPECT_THAT(s.previous, ::testing::StartsWith("DeepSeek 设计了"));
    } else if (s.text.starts_with("实现了")) {
      ++seen;
      EXPECT_TRUE(s.leans_on_context);
    } else if (s.text.starts_with("通过补贴") || s.text.starts_with("为了")) {
      ++seen;
      EXPECT_FALSE(s.leans_on_context) << "its subject is in it";
    }
  }
  EXPECT_EQ(seen, 4);
  // A clause a "；" parted from its subject's, opening on what the subject achieves: 联通云's, which
  // after another company's answer read as that one's.
  const std::vector<PassageInput> clauses = {
      {"联通云宣布已基于星罗平台实现国产及主流算力适配多规格DeepSeek-R1模型，为客户带来开箱即用的使用体验；"
       "实现多产品场景调用，可在全国 270多个骨干云池预部署，全面接入联通云桌面、编程助手等多产品场景；",
       true},
  };
  ranked = RankSentences(nullptr, "多产品场景调用 骨干云池 预部署", clauses, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  bool clause_seen = false;
  for (const RankedSentence& s : ranked->sentences) {
    if (!s.text.starts_with("实现多产品")) continue;
    clause_seen = true;
    EXPECT_TRUE(s.leans_on_context);
    EXPECT_THAT(s.previous, ::testing::StartsWith("联通云宣布"));
  }
  EXPECT_TRUE(clause_seen);
}

TEST(SentenceRankerTest, AHowMuchQuestionRanksTheAmountOverASentenceSayingMuch) {
  // "much" is how the question asks, not what it names: the sentence that says "much cheaper"
  // ranked over the one saying by how much the price fell.
  const std::vector<PassageInput> passages = {
      {"Inference has become much cheaper in two years. The price per million output tokens fell roughly "
       "tenfold.",
       true},
  };
  auto ranked = RankSentences(nullptr, "By how much did inference prices fall?", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("tenfold"));
  // Nor is the verb that earns the amount ("make", which "made up" is): the services' share of
  // revenue ranked over the revenue.
  const std::vector<PassageInput> revenue = {
      {"Harbor Robotics services made up 41% of revenue. Harbor Robotics revenue was $312 million.", true},
  };
  ranked = RankSentences(nullptr, "How much revenue did Harbor Robotics make?", revenue, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("$312 million"));
}

TEST(SentenceRankerTest, ASentenceThatOnlyAddsIsQuotedWithoutItsConnective) {
  // "同时，" (meanwhile) only adds: quoted from "公司以仅…", the pre-training's hours answer the
  // question about the pre-training, ahead of the full training's, which shares as many of its
  // words, and can open a paragraph.
  const std::vector<PassageInput> passages = {
      {.text = "DeepSeek 完整训练仅需 278.8 万 H800 GPU 小时，展现高效成本效益。在预训练阶段，公司追求极致的训练效率。"
               "同时，公司以仅 266.4 万 H800 GPU 小时的经济成本，完成了 DeepSeek-V3 的预训练。",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "DeepSeek-V3预训练花费了多少H800 GPU小时？", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("公司以仅 266.4"));
  EXPECT_FALSE(ranked->sentences[0].leans_on_context);
  // Its place in the passage starts where the quote does.
  const internal::DecodedText passage = internal::DecodeUtf8(passages[0].text);
  const RankedSentence& quote = ranked->sentences[0];
  EXPECT_EQ(passages[0].text.substr(passage.byte_offsets[quote.start], passage.byte_offsets[quote.end] - passage.byte_offsets[quote.start]),
            quote.text);

  // English: after the comma and a line break; not when the rest would open in lower case or
  // leans itself.
  const std::vector<PassageInput> english = {
      {.text = "Revenue rose to $312 million. Moreover,\nHarbor Robotics hired 200 engineers. Moreover, the backlog grew. "
               "In addition, it opened a plant.",
       .starts_at_sentence = true}};
  auto trimmed = RankSentences(nullptr, "Harbor Robotics engineers backlog plant revenue", english, {.k = 4});
  ASSERT_TRUE(trimmed.ok());
  std::vector<std::string> texts;
  for (const RankedSentence& s : trimmed->sentences) {
    texts.push_back(s.text);
    const internal::DecodedText text = internal::DecodeUtf8(english[0].text);
    EXPECT_EQ(english[0].text.substr(text.byte_offsets[s.start], text.byte_offsets[s.end] - text.byte_offsets[s.start])
                  .find(s.text.substr(0, 6)),
              0u)
        << s.text;
  }
  EXPECT_THAT(texts, ::testing::Contains("Harbor Robotics hired 200 engineers."));
  EXPECT_THAT(texts, ::testing::Contains("Moreover, the backlog grew."));
  EXPECT_THAT(texts, ::testing::Contains("In addition, it opened a plant."));

  // "而" and a space before a clause of its own; not "而是".
  const std::vector<PassageInput> contrast = {
      {.text = "2024年我国特效厅数量为 9949个，占全国影厅总数的12.3%；而 2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。"
               "而是特效厅的票房占比更高。然而，IMAX 影厅的票房增长更快。",
       .starts_at_sentence = true}};
  auto contrasted = RankSentences(nullptr, "2024年特效厅产出的票房是多少？", contrast, {.k = 4});
  ASSERT_TRUE(contrasted.ok());
  texts.clear();
  for (const RankedSentence& s : contrasted->sentences) texts.push_back(s.text);
  EXPECT_THAT(texts, ::testing::Contains("2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。"));
  EXPECT_THAT(texts, ::testing::Contains("而是特效厅的票房占比更高。"));
  EXPECT_THAT(texts, ::testing::Contains("IMAX 影厅的票房增长更快。"));

  // What a source named before shows, the quote's citation naming it; not a pronoun of another
  // kind ("该公司").
  const std::vector<PassageInput> attributed = {
      {.text = "前述报告显示，2024年，中影CINITY品牌特效厅的票房达到 2.49亿元，较 2019年的1.31亿元近乎翻倍。"
               "该公司称，CINITY 影厅的数量还将增加。",
       .starts_at_sentence = true}};
  auto shown = RankSentences(nullptr, "CINITY特效厅的票房是多少？", attributed, {.k = 4});
  ASSERT_TRUE(shown.ok());
  texts.clear();
  for (const RankedSentence& s : shown->sentences) texts.push_back(s.text);
  EXPECT_THAT(texts, ::testing::Contains("2024年，中影CINITY品牌特效厅的票房达到 2.49亿元，较 2019年的1.31亿元近乎翻倍。"));
  EXPECT_THAT(texts, ::testing::Contains("该公司称，CINITY 影厅的数量还将增加。"));

  // One of a sequence: the next step says its date.
  const std::vector<PassageInput> sequence = {
      {.text = "2025 年 1 月 30 日，英伟达宣布 DeepSeek-R1 模型上线。紧接着，1 月 29 日，微软将 DeepSeek-R1 纳入 Azure AI Foundry 平台。",
       .starts_at_sentence = true}};
  auto next = RankSentences(nullptr, "微软是哪天将DeepSeek-R1纳入Azure AI Foundry平台的？", sequence, {.k = 2});
  ASSERT_TRUE(next.ok());
  ASSERT_FALSE(next->sentences.empty());
  EXPECT_EQ(next->sentences[0].text, "1 月 29 日，微软将 DeepSeek-R1 纳入 Azure AI Foundry 平台。");
}

TEST(SentenceRankerTest, ASentenceQuotedAfterTheOneItContinuesLeansNoMoreThanAPronounsDoes) {
  // "但…" continues the clause a "；" ended, which is quoted before it: together they answer.
  const std::vector<PassageInput> passages = {
      {.text = "根据年报，2024年我国特效厅数量为 9949个，占全国影厅总数的12.3%；但 2024年特效厅产出的票房为 85.3亿元，"
               "约占国内电影总票房的20%。全球 2%的高端特效厅产出的票房占整体的 25%以上。",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年特效厅产出的票房是多少？", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("85.3"));
  EXPECT_THAT(ranked->sentences[0].previous, ::testing::HasSubstr("9949"));
}

TEST(SentenceRankerTest, ASentenceOpeningOnItsPredecessorsTimeIsReadWithIt) {
  // "全年…" is the whole of the year the sentence before names: read with it, it answers the
  // year's question, where a sentence on a part of the year's box office names every other word.
  const std::vector<PassageInput> passages = {
      {.text = "2024年，国内电影产业降温明显。全年累计票房约425亿元（含服务费，下同），较2023年的 549亿元减少 124亿元，"
               "降幅 22.6%。",
       .starts_at_sentence = true},
      {.text = "2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年国内电影全年票房是多少？", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  const RankedSentence& best = ranked->sentences[0];
  EXPECT_THAT(best.text, ::testing::StartsWith("全年累计票房约425亿元"));
  EXPECT_TRUE(best.leans_on_context);
  EXPECT_EQ(best.previous, "2024年，国内电影产业降温明显。");
}

TEST(SentenceRankerTest, ASentenceThatPointsBackPastItsOpeningIsReadWithWhatItPointsTo) {
  // "这一方面是因为…" explains the decline the sentence before states: read with it, it answers
  // why; alone it ranked below a figure that shares the question's words.
  const std::vector<PassageInput> passages = {
      {.text = "相较于整体票房，特效厅去年的票房也整体下降23.4%。有业内人士向记者表示，这一方面是因为好莱坞巨制等头部"
               "视效影片匮乏，导致特效厅需求受到冲击；另一方面，影院需要考量特效厅的投入产出比。",
       .starts_at_sentence = true},
      {.text = "2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "为什么特效厅的票房下降了？", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("有业内人士向记者表示，这一方面是因为"));
  EXPECT_EQ(ranked->sentences[0].previous, "相较于整体票房，特效厅去年的票房也整体下降23.4%。");
  // One side announces the other, which follows it.
  EXPECT_EQ(ranked->sentences[0].next, "另一方面，影院需要考量特效厅的投入产出比。");
  // A means taken from the sentence before ("通过这些方式") leans on it as a pronoun does.
  EXPECT_LT(internal::StandsAlone("通过这些方式，DeepSeek 在有限算力的情况下，实现更加优秀的模型性能。"), 1.0);
  EXPECT_LT(internal::StandsAlone("在此基础上，公司推出了新模型。"), 1.0);
  EXPECT_EQ(internal::StandsAlone("在 2024 年，公司推出了新模型。"), 1.0);
  EXPECT_EQ(internal::StandsAlone("公司表示，新模型将于明年推出。"), 1.0);
  // A short subject, a copula and "该": the thing named before.
  EXPECT_LT(internal::StandsAlone("中国为该新规中定义的第三类国家（图表 22），即武器禁运国家和地区。"), 1.0);
  EXPECT_TRUE(internal::ReadsWithItsPredecessor("中国为该新规中定义的第三类国家（图表 22），即武器禁运国家和地区。"));
  EXPECT_EQ(internal::StandsAlone("中国为全球最大的光模块生产国。"), 1.0);
  // "当时" is the time the sentence before names.
  EXPECT_LT(internal::StandsAlone("当时由于国内仅有十多个 IMAX 影厅，《阿凡达》IMAX 版本一度一票难求。"), 1.0);
  EXPECT_TRUE(internal::ReadsWithItsPredecessor("当时由于国内仅有十多个 IMAX 影厅，《阿凡达》IMAX 版本一度一票难求。"));
}

TEST(SentenceRankerTest, AFigureWithoutItsSubjectIsReadWithTheSentenceNamingIt) {
  // "票房市占率 1.17%…" is Shanghai Film's share, named only in the sentence before: quoted
  // alone under a heading on cinema chains it said nothing of whose share it was.
  const std::vector<PassageInput> passages = {
      {.text = "电影主业复苏态势明显。2023 年，上海电影实现票房收入 6.32 亿元、同比+129.71%。票房市占率 1.17%、同比+0.25pct。",
       .starts_at_sentence = true},
      {.text = "影院票房市占率普遍回升，行业集中度提高。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "上海电影的票房市占率是多少？", passages, {.k = 4});
  ASSERT_TRUE(ranked.ok());
  const RankedSentence* share = nullptr;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("票房市占率")) share = &s;
  }
  ASSERT_NE(share, nullptr);
  EXPECT_TRUE(share->leans_on_context);
  EXPECT_THAT(share->previous, ::testing::StartsWith("2023 年，上海电影实现票房收入"));
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("归母净利润 79.21 亿元、同比-30.5%。"));
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("营收1196亿元，同比+0.4%。"));
  // A time or an estimate opening on a figure names no measure; nor does a subject with a verb.
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("截至 2024 年，公司拥有 50 家影院。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("预计 2025 年市场规模将达到 100 亿元。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("上海电影市场规模为 6.32 亿元。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("市场规模持续增长 10%。"));
}

TEST(SentenceRankerTest, ASentenceNamingWhatCameBeforeIsReadWithIt) {
  // "…符合这一基本趋势" — which trend? The judgement before it states it; quoted alone, the prices
  // opened the key findings on a trend the report never named.
  const std::vector<PassageInput> passages = {
      {.text = "我们有一个基本判断，即 AI 大模型厂商作为供应端推动 AI 大模型的成本下降。"
               "OpenAI、字节、阿里等 AI 大模型这两年的价格符合这一基本趋势（图表 4）。",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "AI 大模型的价格", passages, {.k = 4});
  ASSERT_TRUE(ranked.ok());
  const RankedSentence* prices = nullptr;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("OpenAI")) prices = &s;
  }
  ASSERT_NE(prices, nullptr);
  EXPECT_THAT(prices->previous, ::testing::StartsWith("我们有一个基本判断"));
  // In its first clause only: later, a demonstrative may name what the sentence said first.
  EXPECT_FALSE(internal::NamesWhatCameBefore("公司推出了新模型，这一模型在多项测试中领先。"));
  EXPECT_TRUE(internal::NamesWhatCameBefore("DeepSeek 的这一突破为行业带来了新的思路。"));
  EXPECT_TRUE(internal::NamesWhatCameBefore("另一个值得关注的趋势是，国产品牌的身影更多了。"));
}

TEST(SentenceRankerTest, AnOutcomeNamedWithoutItsCauseLeansOnTheSentenceBefore) {
  // "Low stocks amplified the effect." opened a report's section on commodities: which effect?
  // The paragraph before names the harvests that raised prices.
  EXPECT_TRUE(internal::NamesAnOutcomeBefore("Low stocks amplified the effect."));
  EXPECT_TRUE(internal::NamesAnOutcomeBefore("Three forces drove the decline: better hardware, better serving software and smaller models."));
  EXPECT_TRUE(internal::NamesAnOutcomeBefore("Roasters felt these increases first."));
  // Saying of what, it stands alone.
  EXPECT_FALSE(internal::NamesAnOutcomeBefore("The effect of the drought lasted into 2025."));
  EXPECT_FALSE(internal::NamesAnOutcomeBefore("The rise in arabica prices was the steepest since 1977."));
  EXPECT_FALSE(internal::NamesAnOutcomeBefore("Prices rose 70% and breathe no easier."));
  EXPECT_FALSE(internal::NamesAnOutcomeBefore("干旱的影响延续到了 2025 年。"));
  const std::vector<PassageInput> passages = {
      {.text = "A severe drought in Brazil damaged flowering in the main arabica regions.\n\nLow stocks amplified the "
               "effect. Certified arabica inventories fell to their lowest level in twenty-five years.",
       .starts_at_sentence = true}};
  auto ranked = RankSentences(nullptr, "Why did low stocks matter for prices?", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  const RankedSentence* effect = nullptr;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("Low stocks")) effect = &s;
  }
  ASSERT_NE(effect, nullptr);
  EXPECT_TRUE(effect->leans_on_context);
  EXPECT_THAT(effect->previous, ::testing::StartsWith("A severe drought"));
}

TEST(SentenceRankerTest, AQuestionOfAYearPrefersASentenceOfThatYear) {
  // "2023年…是多少？" opened on the forecast for 2024, which shares as many of its words.
  const std::vector<PassageInput> passages = {
      {.text = "中商产业研究院预测，2024年中国光芯片市场规模将增长至151.56亿元。", .starts_at_sentence = true},
      {.text = "2023年中国光芯片市场的规模约为137.62亿元，较上年增长10.24%，增速较快。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2023年中国光芯片市场规模是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 2u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("137.62"));
  // The same question of 2024 keeps the forecast first.
  ranked = RankSentences(nullptr, "2024年中国光芯片市场规模是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("151.56"));
}

TEST(SentenceRankerTest, AWholeASentenceGivesAShareOfIsNotWhatItStates) {
  // "约占国内电影总票房的20%" states the special halls' takings; it held "电影总票房" unbroken and
  // answered "2024年全国电影总票房是多少？" before the year's box office.
  const std::vector<PassageInput> passages = {
      {.text = "2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。", .starts_at_sentence = true},
      {.text = "2024年全年电影票房约425亿元，较2023年下降22.6%。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年全国电影总票房是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 2u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("425"));
  // A question of the share itself keeps the whole's words.
  ranked = RankSentences(nullptr, "2024年特效厅票房占全国电影总票房的比例是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("20%"));

  EXPECT_EQ(internal::WithoutWholes("约占国内电影总票房的20%"), "约 20%");
  EXPECT_EQ(internal::WithoutWholes("占全国影厅总数的12.3%；占总收入比重为80.8%"), " 12.3%； 比重为80.8%");
  // To hold ("占据"), or a span a clause's punctuation ends, is no whole.
  EXPECT_EQ(internal::WithoutWholes("阿里云占据市场份额前五的位置"), "阿里云占据市场份额前五的位置");
  EXPECT_EQ(internal::WithoutWholes("占，全国的"), "占，全国的");
  EXPECT_EQ(internal::WithoutWholes("其中占比最高的是游戏"), "其中占比最高的是游戏");
  EXPECT_TRUE(internal::AsksForAShare("AI Agent 的渗透率是多少？"));
  EXPECT_TRUE(internal::AsksForAShare("特效厅票房占比是多少？"));
  EXPECT_TRUE(internal::AsksForAShare("What share of revenue came from services?"));
  EXPECT_FALSE(internal::AsksForAShare("2024年全国电影总票房是多少？"));
}

TEST(SentenceRankerTest, AQuestionOfAWholeYearIsNotAnsweredByAPartOfIt) {
  // "…2024 年前 5 月累计票房达 216.47 亿元" gives five months of 2024, not the year.
  const std::vector<PassageInput> passages = {
      {.text = "2024 年前 5 月全国电影票房达 216.47 亿元。", .starts_at_sentence = true},
      {.text = "2024年，全国电影票房约425亿元，同比下降较多。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年全国电影票房是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 2u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("425"));
  // Statistics of the whole year name its months ("1-12月") or its last day; "前十名" is no part.
  for (const char* whole : {"2024年1-12月全国电影票房约425亿元。", "截至2024年12月31日，全国电影票房约425亿元。",
                            "2024 年 1 月至 12 月全国电影票房约425亿元。",
                            "2024年前十名全国电影票房约 216.47 亿元。"}) {
    const std::vector<PassageInput> one = {passages[0], {.text = whole, .starts_at_sentence = true}};
    ranked = RankSentences(nullptr, "2024年全国电影票房是多少？", one, {.k = 2});
    ASSERT_TRUE(ranked.ok());
    ASSERT_FALSE(ranked->sentences.empty());
    EXPECT_EQ(ranked->sentences[0].text, whole);
  }
  // A question of the part is answered by the part.
  ranked = RankSentences(nullptr, "2024年前5月全国电影票房是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("216.47"));
}

TEST(SentenceRankerTest, AQuestionOfAMeasureIsAnsweredByASentenceNamingIt) {
  // The count of special halls from "《2024年中国电影产业年报》" shares the question's year and
  // "电影" but gives no box office.
  const std::vector<PassageInput> passages = {
      {.text = "根据《2024年中国电影产业年报》，2024年我国特效厅数量为 9949个。", .starts_at_sentence = true},
      {.text = "2024年国内电影票房约425亿元。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年中国电影票房是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 2u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("425"));
}

TEST(SentenceRankerTest, AQuestionOfOnesShareIsNotAnsweredByAnothers) {
  EXPECT_THAT(internal::ShareHolderTerms("AI算力芯片占AI服务器成本的比例是多少？"), ::testing::ElementsAre("ai", "算力", "力芯", "芯片"));
  EXPECT_THAT(internal::ShareHolderTerms("2024年特效厅票房占全国票房的比例是多少？"), ::testing::ElementsAre("特效", "效厅", "厅票", "票房"));
  EXPECT_THAT(internal::ShareHolderTerms("服务器在数据中心IT侧成本中占比多少？"), ::testing::IsEmpty());  // 占比: no holder before it
  // Not the wholes "在…中" nor an adverb before "占".
  EXPECT_THAT(internal::ShareHolderTerms("全球高端特效厅在影厅数量和票房中分别占多大比例？"),
              ::testing::ElementsAre("全球", "球高", "高端", "端特", "特效", "效厅"));
  EXPECT_TRUE(internal::GivesTheShareOf({"全球", "球高", "高端", "端特", "特效", "效厅"}, "全球 2%的高端特效厅产出的票房占整体的 25%以上。"));
  const std::vector<std::string> chip_terms = internal::ShareHolderTerms("AI算力芯片占AI服务器成本的比例是多少？");
  const std::unordered_set<std::string> chips(chip_terms.begin(), chip_terms.end());
  // A holding is no share ("占有率", "占据"), and "的" breaks the holder's words.
  EXPECT_THAT(internal::ShareHolderTerms("宁德时代的市场占有率是多少？"), ::testing::IsEmpty());
  EXPECT_THAT(internal::ShareHolderTerms("宁德时代的电池占全球装机量的比例是多少？"), ::testing::ElementsAre("宁德", "德时", "时代", "电池"));
  // A share said in other words is not judged.
  EXPECT_TRUE(internal::GivesTheShareOf(chips, "AI 算力芯片成本的比重为 50%。"));
  EXPECT_TRUE(internal::GivesTheShareOf(chips, "根据算力和服务器配置，AI 算力芯片大约占AI 服务器的 30%-60%。"));
  EXPECT_FALSE(internal::GivesTheShareOf(chips, "作为配合 AI 算力芯片，存储芯片在 AI 运算中提供重要支撑，约占服务器成本的 10%。"));
  EXPECT_FALSE(internal::GivesTheShareOf(chips, "散热部分约占服务器成本的 10%。"));
  // A clause that opens on "约占" has its holder in the clause before.
  const std::vector<std::string> hall_terms = internal::ShareHolderTerms("2024年特效厅票房占全国票房的比例是多少？");
  EXPECT_TRUE(internal::GivesTheShareOf(std::unordered_set<std::string>(hall_terms.begin(), hall_terms.end()),
                                        "2024年特效厅产出的票房为 85.3亿元，约占国内电影总票房的20%。"));
  // Megabytes of "占" are read a bounded stretch at a time.
  std::string hostile;
  for (int i = 0; i < 300000; ++i) hostile += "占";
  EXPECT_FALSE(internal::GivesTheShareOf(chips, hostile));
  const std::vector<PassageInput> passages = {
      {.text = "作为配合 AI 算力芯片，存储芯片在 AI 运算中提供重要支撑，约占服务器成本的 10%。散热部分约占服务器成本的 10%。"
               "根据算力和服务器配置，AI 算力芯片大约占AI 服务器的 30%-60%。",
       .starts_at_sentence = true}};
  auto ranked = RankSentences(nullptr, "AI算力芯片占AI服务器成本的比例是多少？", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("30%-60%"));
}

TEST(SentenceRankerTest, AQuestionOfAMeasureIsAnsweredBySentencesOnItsHolder) {
  // The whole media industry's net profit shares more of the question's words than the sector's.
  const std::vector<PassageInput> passages = {
      {.text = "2024 年一季度，传媒板块实现归母净利润 79.21 亿元、同比增长-30.5%。", .starts_at_sentence = true},
      {.text = "影视院线归母净利润同比+32.2%。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年一季度影视院线板块归母净利润同比增长多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("影视院线"));
}

TEST(SentenceRankerTest, AQuestionOfOneVersionIsNotAnsweredByASentenceOnAnother) {
  // "DeepSeek-V3的API服务价格是多少？" opened on R1's price, which shares "DeepSeek" and the pricing.
  const std::vector<PassageInput> passages = {
      {.text = "DeepSeek-R1 API 服务定价为每百万输入 tokens 1 元，每百万输出 tokens 16 元。", .starts_at_sentence = true},
      {.text = "DeepSeek 的 API 服务定价为每百万输入 tokens 0.5 元，输出 8 元。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "DeepSeek-V3 API 服务定价为每百万输入多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("0.5 元"));
  // Nor by a sentence whose "其" is the sibling the sentence before names.
  const std::vector<PassageInput> after_its_name = {
      {.text = "DeepSeek-V3 模型性价比极为突出。定价远低于同类产品，其 API 服务定价为每百万输入 tokens 0.5 元，输出 8 元。",
       .starts_at_sentence = true},
      {.text = "R1 的 API 定价为每百万输入 1 元，输出 16 元。", .starts_at_sentence = true},
  };
  ranked = RankSentences(nullptr, "DeepSeek-R1 API 服务定价为每百万输入多少？", after_its_name, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("16 元"));
}

TEST(SentenceRankerTest, AComparisonWithoutItsOtherSideLeansOnTheSentenceBefore) {
  EXPECT_TRUE(internal::ComparesWithItsPredecessor("Robusta prices, which set the cost of most instant coffee, rose even faster in relative terms."));
  EXPECT_TRUE(internal::ComparesWithItsPredecessor("Costs fell still further in 2024."));
  EXPECT_FALSE(internal::ComparesWithItsPredecessor("Robusta rose even faster than arabica."));
  EXPECT_FALSE(internal::ComparesWithItsPredecessor("The second source is still under review."));
  EXPECT_FALSE(internal::ComparesWithItsPredecessor("Prices stayed high even after the harvest."));
  EXPECT_FALSE(internal::ComparesWithItsPredecessor("Investors still prefer washed arabica."));
  // A sequence's step is quoted without its connective only before its date.
  EXPECT_GT(internal::ConnectiveOpener("紧接着，1 月 29 日，微软将 DeepSeek-R1 纳入 Azure AI Foundry 平台。"), 0u);
  EXPECT_EQ(internal::ConnectiveOpener("随后，股价反弹8.9%。"), 0u);
  // A conclusion's connective before a sentence naming its own cause; a Chinese connective whose
  // comma a PDF set as a space before a Latin word.
  const std::string concluded = "因此，在 DeepSeek 出现之前，市场普遍认为受制于最先进 AI 算力芯片的限制，中国的 AI 大模型能力与美国存在差距。";
  EXPECT_EQ(concluded.substr(internal::ConnectiveOpener(concluded)).rfind("在 DeepSeek 出现之前", 0), 0u);
  EXPECT_EQ(internal::ConnectiveOpener("因此，中国的 AI 大模型能力与美国存在差距。"), 0u);
  const std::string spaced = "同时 Skywork-MoE 的总参数大小比 DeepSeekV2 的总参数大小要小 1/3。";
  EXPECT_EQ(spaced.substr(internal::ConnectiveOpener(spaced)), "Skywork-MoE 的总参数大小比 DeepSeekV2 的总参数大小要小 1/3。");
  EXPECT_EQ(internal::ConnectiveOpener("同时 ，"), 0u);
  EXPECT_EQ(internal::ConnectiveOpener("不过 3 天，票房就突破了 10 亿元。"), 0u);  // "only three days"
  // A pointer to a figure the quote does not show.
  const std::string pointed = "如下图统计所示，88%的参与者倾向于边缘-云协作架构。";
  EXPECT_EQ(pointed.substr(internal::ConnectiveOpener(pointed)), "88%的参与者倾向于边缘-云协作架构。");
  // What a source shows against the sentence before is quoted from the fact it shows; "但" before
  // anything else stays.
  const std::string shown = "但报告显示，国内 IMAX影厅的票房已从2019年的24.3亿元降至 2024年的 14.36亿元；";
  EXPECT_EQ(shown.substr(internal::ConnectiveOpener(shown)), "国内 IMAX影厅的票房已从2019年的24.3亿元降至 2024年的 14.36亿元；");
  EXPECT_EQ(internal::ConnectiveOpener("但仍为负值。"), 0u);
  // Quoted after the sentence with the figure it is compared with.
  const std::vector<PassageInput> passages = {
      {.text = "Arabica futures ended the year at $3.44 per pound, 70% above where they started the year. Robusta prices, "
               "which set the cost of most instant coffee, rose even faster in relative terms.",
       .starts_at_sentence = true}};
  auto ranked = RankSentences(nullptr, "How did robusta prices move compared with arabica in 2024?", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  bool found = false;
  for (const RankedSentence& s : ranked->sentences) {
    if (!s.text.starts_with("Robusta")) continue;
    found = true;
    EXPECT_THAT(s.previous, ::testing::StartsWith("Arabica futures ended the year"));
    // (Its words are its own: a writer answering with them may quote it first.)
    EXPECT_TRUE(s.compares_with_previous);
  }
  EXPECT_TRUE(found);
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("Arabica")) {
      EXPECT_FALSE(s.compares_with_previous);
    }
  }
}

TEST(SentenceRankerTest, FiguresListedWithoutTheirSubjectAndADatedPronounLeanOnTheSentenceBefore) {
  // "净利润增速分别为：…影视院线+32.2%…" (whose? which quarter?) follows the revenue line it goes on
  // from; "平均票价为 43.57 元" a sentence on the cinemas; "2月 5日，该公司股价上涨11.19%。" the
  // company the sentence before names; "上文提到，…" something said earlier.
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("净利润增速分别为：游戏-35.8%、影视院线+32.2%。"));
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("平均票价为 43.57 元，保持升势。"));
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("票房市占率 1.17%、同比+0.25pct。"));
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("月度平均发行数量位于2021年以来的最高值。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("月度平均发行数量位于合理区间。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("率先推出 3 款新品。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("2023 年中国 AI Agent 市场规模为 554 亿元。"));
  // A measure that names its scope names its subject.
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("中国市场规模为 500 亿元。"));
  EXPECT_FALSE(internal::StatesAFigureWithoutItsSubject("全国票房达 425 亿元。"));
  // "行业" and "公司" opening it are the ones the sentence before names.
  EXPECT_TRUE(internal::StatesAFigureWithoutItsSubject("行业毛利率为 67.8%，同比-1.0pct、环比-2.79pct。"));
  EXPECT_FALSE(internal::PointsBackAfterItsOpening("2023年，其他公司也推出了类似产品。"));
  EXPECT_TRUE(internal::PointsBackAfterItsOpening("2月 5日，该公司股价上涨11.19%。"));
  EXPECT_FALSE(internal::PointsBackAfterItsOpening("2月 5日，海光信息股价上涨11.19%。"));
  // Data on what the sentence before named: whose downloads?
  EXPECT_TRUE(internal::PointsBackAfterItsOpening("移动应用分析机构 SensorTower 的数据显示，其应用软件在 18 天内的下载量达到1600万次。"));
  EXPECT_FALSE(internal::PointsBackAfterItsOpening("移动应用分析机构 SensorTower 的数据显示，其中印度贡献了 15.6%。"));
  EXPECT_FALSE(internal::PointsBackAfterItsOpening("SensorTower 的数据显示，DeepSeek 在 18 天内获得了 1600 万次下载。"));
  EXPECT_DOUBLE_EQ(internal::StandsAlone("上文提到，美国的 CSP 大幅增加资本开支。"), 0.85);
  EXPECT_TRUE(internal::NamesWhatCameBefore("正如上文提到的，推理需求将持续增长。"));
  // Read with its predecessor, the listed figures come with it.
  const std::vector<PassageInput> passages = {
      {.text = "2024 年一季度，传媒行业各个子板块营收增速分别为：游戏+6.9%、影视院线-9.4%。净利润增速分别为：游戏-35.8%、"
               "影视院线+32.2%。",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2024年一季度影视院线净利润增速是多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  const RankedSentence* profits = nullptr;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text.starts_with("净利润增速")) profits = &s;
  }
  ASSERT_NE(profits, nullptr);
  EXPECT_THAT(profits->previous, ::testing::StartsWith("2024 年一季度"));
}

TEST(SentenceRankerTest, AClauseASemicolonEndedBringsTheRestOfItsSentence) {
  // "…中国数据规模达到 23.9ZB；" ended the key findings mid-thought; the forecast that completes it
  // follows it now, as the other side follows one side.
  const std::vector<PassageInput> passages = {
      {.text = "未来五年，全球数据量将维持增长，2022 年，全球数据规模已达到 103ZB，中国数据规模达到 23.9ZB；预计 2027 年，"
               "全球数据规模可达到 284.3ZB，中国数据量规模则可达到 76.6ZB。",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "2022年中国数据规模达到了多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::EndsWith("23.9ZB；"));
  EXPECT_THAT(ranked->sentences[0].next, ::testing::StartsWith("预计 2027 年"));
}

TEST(SentenceRankerTest, AReasonForWhatTheSentenceBeforeSaysIsReadWithIt) {
  // "主要原因在于…" names the reasons, not what they explain: read alone it shared no word of "why
  // did DeepSeek take off so fast", and ranked seventh; read with the sentence before, it answers.
  const std::vector<PassageInput> passages = {
      {.text = "DeepSeek 在较短的时间内成为国内和海外热度较高的话题之一。我们认为主要原因在于 DeepSeek 在三个方面超出市场预期："
               "1）其性能与最领先的 AI 大模型接近，2）其成本大幅低于其他模型，3）其为中国本土的初创企业，并实现开源。",
       .starts_at_sentence = true},
      {.text = "DeepSeek 成立于 2023 年 7 月，成立时间较短，但是已经发布多个模型。", .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "为什么DeepSeek会在短时间内爆火？", passages, {.k = 4});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("我们认为主要原因在于"));
  EXPECT_THAT(ranked->sentences[0].previous, ::testing::StartsWith("DeepSeek 在较短的时间内"));
  EXPECT_TRUE(internal::ExplainsItsPredecessor("有业内人士表示，这是因为影片供给不足。"));
  EXPECT_FALSE(internal::ExplainsItsPredecessor("票房下降的主要原因在于影片供给不足。"));
}

TEST(SentencesTest, AnInlineListAndAQuotationOverSeveralSentencesAreQuotable) {
  // "1）…2）…3）" closed brackets it never opened: the sentence answering why DeepSeek took off
  // was dropped as unbalanced. So were the first and last sentences of a quotation running over
  // three: their marks are trimmed, the brackets inside a sentence still pair up.
  const std::string text =
      "我们认为主要原因在于 DeepSeek 在三个方面超出市场预期：1）其性能接近头部模型；2）其成本大幅降低；3）其为中国本土的初创企业。"
      "“采用最新的 LED显示技术，是CINITY实现‘换道超车’的核心竞争优势。LED 显示技术突破了投影的瓶颈。2024年的影片正是用了这一技术。”"
      "边巍介绍。这句话（没有闭合括号。";
  const std::vector<std::string> texts = Texts(SplitSentences(text, {.starts_at_sentence = true}).sentences);
  EXPECT_THAT(texts, ::testing::Contains("我们认为主要原因在于 DeepSeek 在三个方面超出市场预期：1）其性能接近头部模型；"
                                         "2）其成本大幅降低；3）其为中国本土的初创企业。"));
  EXPECT_THAT(texts, ::testing::IsSupersetOf({"采用最新的 LED显示技术，是CINITY实现‘换道超车’的核心竞争优势。",
                                             "LED 显示技术突破了投影的瓶颈。", "2024年的影片正是用了这一技术。"}));
  // A list the sentence opens inside itself goes on past its "；": cut there, the quote gave the
  // first item and promised the rest.
  const std::string list =
      "AI Agent 市场规模包括 ToC 端和 ToB 端的应用价值：1) 在 B 端场景下，AI Agent 将对 SaaS 应用进行全面重构；"
      "2) 在 C 端场景下，AI Agent 可以广泛应用于电商、教育等行业。2023 年市场规模为 554 亿元；增速较快。";
  EXPECT_THAT(Texts(SplitSentences(list, {.starts_at_sentence = true}).sentences),
              ::testing::ElementsAre("AI Agent 市场规模包括 ToC 端和 ToB 端的应用价值：1) 在 B 端场景下，AI Agent 将对 SaaS 应用进行全面"
                                     "重构；2) 在 C 端场景下，AI Agent 可以广泛应用于电商、教育等行业。",
                                     "2023 年市场规模为 554 亿元；"));
  // A bracket left open still makes a sentence unquotable.
  for (const std::string& t : texts) EXPECT_EQ(t.find("没有闭合"), std::string::npos) << t;
}

TEST(SentencesTest, ABulletedShortLineIsAHeadingOfItsOwn) {
  // PDF text of one width, a symbol-font bullet (U+F06C) before a heading: run on, the heading
  // and the paragraph under it were quoted as one sentence.
  const std::string page =
      "作为数据中心 IT 侧占比约 70%的服务器产业链将获得显著成长。中国的服务器\n\n"
      "品牌和制造、AI 算力芯片、存储芯片、散热部件、电源设备等环节受益明显。\n\n"
      "\xEF\x81\xAC DeepSeek 缓解美对中的 AI 半导体制裁 \n\n"
      "今年 1 月份，美国政府公布人工智能芯片管制新规，意欲加强和完善其出口管\n\n"
      "制框架，规范先进的人工智能模型和大型先进计算集成电路在全球的传播。\n\n";
  const PassageSentences found = SplitSentences(page, {.starts_at_sentence = true});
  for (const std::string& text : Texts(found.sentences)) EXPECT_EQ(text.find("制裁"), std::string::npos) << text;
  EXPECT_THAT(Texts(found.headings), ::testing::Contains("DeepSeek 缓解美对中的 AI 半导体制裁"));
}

TEST(SentencesTest, TheAdvertisementOfAReportSharingSiteIsFurniture) {
  // Stamped on the PDFs such sites pass on, it was quoted as a finding under the report's title.
  const std::string page =
      "知识星球 行业与管理资源\n\n专业知识社群：每月分享8000+份行业研究报告、商业计划、市场研究、企业运营及咨询管理方案等，"
      "涵盖科技、金融、教育、互联网等；已成为投资、产业研究、企业运营、价值传播等工作助手。\n\n微信扫码，行研无忧\n\n"
      "1. 进群福利：进群即领万份行业研究、管理方案及其他学习资源，直接打包下载\n\n"
      "端侧 AI 技术的快速发展将推动终端设备的智能化升级。";
  EXPECT_THAT(Texts(SplitSentences(page, {.starts_at_sentence = true}).sentences),
              ::testing::ElementsAre("端侧 AI 技术的快速发展将推动终端设备的智能化升级。"));
}

TEST(SentencesTest, AHeadingWrappedOntoASecondLineIsWhole) {
  // It headed a section cut off at "有望大幅"; the paragraphs around it keep their sentences. (Its
  // line stops mid-phrase; a bulleted one that wraps goes on too.)
  const std::string page =
      "同时，国产大模型在多项评测中已接近海外领先水平，推理成本也在快速下降之中，\n\n"
      "带动了下游应用的加速落地和商业化进程，相关的产业链环节将明显受益。\n\n"
      "资料来源：Wind、浦银国际 \n 中国互联网龙头加大 AI 投入，有望大幅\n\n提升 AI 大模型能力 \n\n"
      "\xEF\x81\xAC 中国将正式开启 AI 基建超级周期 \n\n"
      "中国科技龙头在 AI 的投入，有望跟随美国头部科技企业在 ChatGPT 爆发之后的模式，进入投资上行\n\n"
      "期。这将开启中国 AI 基建超级周期，从而打开中国云计算长期增长空间，并带动软件服务行业的需求。\n\n";
  const PassageSentences found = SplitSentences(page, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.headings), ::testing::ElementsAre("中国互联网龙头加大 AI 投入，有望大幅提升 AI 大模型能力",
                                                            "中国将正式开启 AI 基建超级周期"));
  for (const std::string& text : Texts(found.sentences)) EXPECT_EQ(text.find("有望大幅"), std::string::npos) << text;
  EXPECT_THAT(Texts(found.sentences), ::testing::Contains(::testing::StartsWith("这将开启中国 AI 基建超级周期")));
  const std::string bulleted = "\xEF\x81\xAC 中国互联网龙头提升 AI 战略地位，有望大幅提\n\n升 AI 大模型能力 \n\n" +
                               page.substr(page.find("\xEF\x81\xAC 中国将正式开启"));
  EXPECT_THAT(Texts(SplitSentences(bulleted, {.starts_at_sentence = true}).headings),
              ::testing::Contains("中国互联网龙头提升 AI 战略地位，有望大幅提升 AI 大模型能力"));
  // Two headings whose first ends on a word's last character ("方向", "显著") stay two.
  for (const char* first : {"未来发展方向", "业绩增长显著"}) {
    const std::string two = page.substr(0, page.find("资料来源")) + "资料来源：Wind、浦银国际 \n" + first + "\n\n行业竞争格局\n\n" +
                            page.substr(page.find("\xEF\x81\xAC 中国将正式开启"));
    EXPECT_THAT(Texts(SplitSentences(two, {.starts_at_sentence = true}).headings), ::testing::Contains(first)) << first;
  }
}

TEST(SentencesTest, AChineseSectionsHeadingEndsItsLineAndAListsAnnouncementBringsItsFirstItem) {
  // "（一）…价值", the announcement "…两方面：" and the list's first item ran on as one sentence,
  // which its "**" emphasis kept out: the answer to "DeepSeek对通信行业的影响" was never offered.
  const std::string page =
      "预计随着推理侧算力部署的逐步增多，以及后训练算力的规模提升，相对较低速率光芯片市场空\n\n"
      "间将进一步提升，在我国光芯片相关企业有望直接受益，产业链的多个环节都将从中获得发展。\n\n"
      "（一）运营商、光模块等细分板块仍旧具备较大投资价值\n\n"
      "我们认为 DeepSeek 对通信行业的推动作用主要体现在两方面：\n\n \n"
      "1) **强化国产算力产业链**：为中国 AI 发展带来新机遇，为中美科技竞争增添变数。DeepSeek-R1/V3 支持华为昇腾平台。\n\n";
  const PassageSentences found = SplitSentences(page, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.headings), ::testing::Contains("运营商、光模块等细分板块仍旧具备较大投资价值"));
  for (const std::string& text : Texts(found.sentences)) EXPECT_EQ(text.find("价值"), std::string::npos) << text;
  auto ranked = RankSentences(nullptr, "DeepSeek对通信行业的影响", std::vector<PassageInput>{{.text = page, .starts_at_sentence = true}},
                              {.k = 4});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  const RankedSentence& first = ranked->sentences[0];
  EXPECT_THAT(first.text, ::testing::StartsWith("我们认为 DeepSeek 对通信行业的推动作用主要体现在两方面："));
  // On its own line, it brings the list's first item (its emphasis in pairs, which Markdown shows).
  if (first.text.ends_with("：")) {
    EXPECT_THAT(first.next, ::testing::StartsWith("**强化国产算力产业链**"));
  }
  // A "**" left over from a cut emphasis is stray markup: not offered.
  EXPECT_THAT(Texts(SplitSentences("推理侧的算力需求**将持续增长下去。这是另一句完整而且足够长的话语，用于测试。", {.starts_at_sentence = true}).sentences),
              ::testing::ElementsAre("这是另一句完整而且足够长的话语，用于测试。"));
  // An announcement a passage ends on, its list cut off, is not offered.
  auto cut = RankSentences(nullptr, "DeepSeek对通信行业的影响",
                           std::vector<PassageInput>{{.text = "研究显示如下。\n\n我们认为 DeepSeek 对通信行业的推动作用主要体现在两方面：\n\n下一行",
                                                      .starts_at_sentence = true}},
                           {.k = 4});
  ASSERT_TRUE(cut.ok());
  for (const RankedSentence& s : cut->sentences) EXPECT_FALSE(s.text.ends_with("：") && s.next.empty()) << s.text;
}

TEST(SentencesTest, AListsAnnouncementAfterASentenceOnItsLineBringsTheWholeList) {
  // "…具体特点包括：" ended a line after a sentence on it: it was dropped as a fragment, and
  // "天工AI搜索有哪些技术特点？" opened on the last item alone (the one naming 天工).
  const std::string page =
      "同时，天工 AI 搜索还为搜索结果提供包括文字、视频、咨询、图片等在内的参考链接，保证搜索质量。天工 AI 搜索呈现的具体特点包括：\n\n"
      "- 引入跨语言检索技术（CLIR），借助大模型的跨语言理解能力，使中文查询能够深入全球英文知识库。\n"
      "- 在理解用户搜索指令时，采用大模型技术对查询语句进行改写和扩写，更准确地捕捉用户真实意图。\n"
      "- 天工 AI 搜索还集成了检索增强生成（RAG）技术，显著提升了搜索答案的质量。\n\n"
      "图 18：昆仑万维天工大模型的推理成本\n\n该公司推出了多款产品，其中包括音乐与视频生成。\n";
  const PassageSentences found = SplitSentences(page, {.starts_at_sentence = true});
  ASSERT_GE(found.sentences.size(), 6u);
  EXPECT_EQ(found.sentences[1].text, "天工 AI 搜索呈现的具体特点包括：");
  std::vector<bool> items;
  for (const PassageSentence& s : found.sentences) items.push_back(s.list_item);
  EXPECT_THAT(items, ::testing::ElementsAre(false, false, true, true, true, false));
  auto ranked = RankSentences(nullptr, "天工AI搜索有哪些技术特点？", std::vector<PassageInput>{{.text = page, .starts_at_sentence = true}},
                              {.k = 6});
  ASSERT_TRUE(ranked.ok());
  const RankedSentence* announcement = nullptr;
  for (const RankedSentence& s : ranked->sentences) {
    if (s.text == found.sentences[1].text) announcement = &s;
  }
  ASSERT_NE(announcement, nullptr);
  EXPECT_EQ(announcement->next, found.sentences[2].text);
  EXPECT_THAT(announcement->further, ::testing::ElementsAre(found.sentences[3].text, found.sentences[4].text));
  // A sentence that announces no list brings none.
  for (const RankedSentence& s : ranked->sentences) {
    if (&s != announcement) {
      EXPECT_TRUE(s.further.empty()) << s.text;
    }
  }
}

TEST(SentencesTest, AListQuestionIsAnsweredByTheNamedThingsList) {
  // "天工 AI 搜索呈现的具体特点包括：" (short, 天工 and 特点) opened "天工SkyMusic有哪些特点？" above
  // SkyMusic's own list; and a sentence that lists is preferred to one that does not.
  const std::string page =
      "天工 AI 搜索呈现的具体特点包括：\n\n- 引入跨语言检索技术（CLIR），借助大模型的跨语言理解能力。\n\n"
      "天工 Skymusic 音乐以便捷的创作流程降低了音乐创作门槛。天工 SkyMusic 的特点包括：1) 支持 80 秒双声道立体声 AI 歌曲；"
      "2) 高品质人声合成，尤其在中文表现上好于国外同类产品；3) 歌词段落控制较为精准，有助于表达细腻情感。\n";
  auto ranked = RankSentences(nullptr, "天工SkyMusic有哪些特点？", std::vector<PassageInput>{{.text = page, .starts_at_sentence = true}}, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("天工 SkyMusic 的特点包括："));
}

TEST(SentencesTest, ARunInHeadingIsNoSentence) {
  // A paragraph's lead-in, a caption's phrase with a full stop, read as a finding that says nothing.
  const PassageSentences found = SplitSentences(
      "中国云服务市场增速及竞争格局。根据信通院数据，中国云计算市场保持高活力，预计 2023-2027E 年均增速达到 37%。\n\n"
      "行业竞争格局。\n\n竞争格局趋于稳定，头部厂商份额提升。\n",
      {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences), ::testing::ElementsAre("根据信通院数据，中国云计算市场保持高活力，预计 2023-2027E 年均增速达到 37%。",
                                                             "竞争格局趋于稳定，头部厂商份额提升。"));
  // A claim ending on such a noun is a sentence: its verb says something of it.
  EXPECT_THAT(Texts(SplitSentences("游戏行业收入增速呈放缓趋势。2024年4月，我国游戏市场实际销售收入224.32亿元、同比-4.2%。",
                                   {.starts_at_sentence = true}).sentences),
              ::testing::ElementsAre("游戏行业收入增速呈放缓趋势。", "2024年4月，我国游戏市场实际销售收入224.32亿元、同比-4.2%。"));
}

TEST(SentencesTest, ABrokeragesRatingScaleIsFurniture) {
  // Its lines headed a section of "为什么传媒指数下跌？" and were quoted under it.
  const std::string page =
      "评级标准为报告发布日后的 6 到 12 个月行业指数相对市场表现。\n\n\t\t中性：相对基准指数涨幅在-5%~10%之间\n\n"
      "\t\t回避：相对基准指数跌幅 5%以上\n\n增持：相对同期沪深300指数涨幅 10%以上。\n\n"
      "截至6月25日，传媒指数今年累计下跌24.0%。";
  const PassageSentences found = SplitSentences(page, {.starts_at_sentence = true});
  EXPECT_THAT(Texts(found.sentences), ::testing::ElementsAre("截至6月25日，传媒指数今年累计下跌24.0%。"));
  EXPECT_THAT(Texts(found.headings), ::testing::IsEmpty());
  // Prose that compares with the year before is no rating scale.
  EXPECT_THAT(Texts(SplitSentences("2024年一季度，公司营收相对同期增长12%，毛利率有所提升。", {.starts_at_sentence = true}).sentences),
              ::testing::ElementsAre("2024年一季度，公司营收相对同期增长12%，毛利率有所提升。"));
  // Nor is a brokerage's suitability notice a finding: it stood among a report's risks.
  EXPECT_THAT(Texts(SplitSentences("若您并非银河证券客户中的专业投资者，为保证服务质量、控制投资风险、应首先联系银河证券机构销售部门或客户经理，"
                                   "完成投资者适当性匹配。\n\n风险提示：市场需求增长不及预期、技术研发进展不及预期。",
                                   {.starts_at_sentence = true})
                        .sentences),
              ::testing::ElementsAre("风险提示：市场需求增长不及预期、技术研发进展不及预期。"));
  // Nor the legal statements that close a report: they answered a question of its risks.
  EXPECT_THAT(Texts(SplitSentences("据此投资所造成的任何一切后果或损失，本公司及相关研究人员均不承担任何形式的法律责任。\n\n"
                                   "依据《证券期货经营机构及其工作人员廉洁从业规定》，特此声明。\n\n"
                                   "投资风险：中国科技企业投资力度持续性不足。",
                                   {.starts_at_sentence = true})
                        .sentences),
              ::testing::ElementsAre("投资风险：中国科技企业投资力度持续性不足。"));
  // A company's own report writes its results as "本公司": those stay.
  EXPECT_THAT(Texts(SplitSentences("本公司2024年实现营业收入312亿元，同比增长12%。", {.starts_at_sentence = true}).sentences),
              ::testing::ElementsAre("本公司2024年实现营业收入312亿元，同比增长12%。"));
}

TEST(SentencesTest, AFiguresCellsAreNoHeadings) {
  // 图表 22 in the PDF's text: its cells set line by line. Two of them ("第一类 盟友，可以不受限制地
  // 获", read past its broken character) headed sections of "美国AI芯片出口管制框架下第二类国家最多可以
  // 获得多少算力？".
  std::ifstream in(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/004_c2b6eb545692ecdc.txt", std::ios::binary);
  const std::string document((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t from = document.find("国家和地区。美国对该类国家"), source = document.find("资料来源：BIS"),
               to = document.find("行期。", source);
  ASSERT_NE(to, std::string::npos);
  const std::string figure = document.substr(from, to + std::string("行期。").size() - from);
  const PassageSentences found = SplitSentences(figure, {.starts_at_sentence = true});
  // (Twelve cells were headings before: "层级 定位 国家及地区 具体条例", "法国、德国、意大利、西班", …)
  EXPECT_THAT(Texts(found.headings), ::testing::ElementsAre("中国 AI 数据中心产业链有望迎来增量"));
  // The second tier's limit is still a sentence; the first tier's short rule, a cell, is none.
  EXPECT_THAT(Texts(found.sentences), ::testing::Contains(::testing::StartsWith("每个第二类国家或地区最多可以获得 7.9 亿 TPP")));
  EXPECT_THAT(Texts(found.sentences), ::testing::Not(::testing::Contains("不限制先进计算芯片获得数量；")));
  // A passage that starts inside the figure (its caption in the chunk before): up to the source line.
  const std::string inside = figure.substr(figure.find("第二类 除第一类"));
  EXPECT_THAT(Texts(SplitSentences(inside, {.starts_at_sentence = true}).headings),
              ::testing::ElementsAre("中国 AI 数据中心产业链有望迎来增量"));
}

TEST(SentenceRankerTest, ASourcesQuestionIsNotOffered) {
  // It introduces what follows; quoted under "国产特效厅的发展", it stood in the key findings.
  const std::vector<PassageInput> passages = {
      {.text = "在国外品牌云集的特效厅里，国产科技是如何实现突围的？据中影科技介绍，中影CINITY电影系统融合了七大技术。"
               "Why did prices fall? “Can storage pay?” Cell costs fell by a fifth.",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "国产特效厅的发展 storage prices", passages, {.k = 8});
  ASSERT_TRUE(ranked.ok());
  std::vector<std::string> texts;
  for (const RankedSentence& s : ranked->sentences) texts.push_back(s.text);
  EXPECT_THAT(texts, ::testing::UnorderedElementsAre("据中影科技介绍，中影CINITY电影系统融合了七大技术。", "Cell costs fell by a fifth."));
}

TEST(SentenceRankerTest, AListsItemsLeanOnTheListAndItsLaterOnesMore) {
  // "首先" announces items a quote will not have (a pronoun's weight); "其次" and "Finally,"
  // are the later items of a list the quote lacks (a continuation's).
  const std::vector<PassageInput> passages = {
      {"首先，AI Agent 可以自动处理大量审核工作。其次，AI Agent 可以自动处理大量客服工作。AI Agent 可以自动处理大量运营工作。",
       true},
      {"Finally, agents handle support tickets overnight. Agents handle support tickets in many firms, a survey found last year.", true},
  };
  auto ranked = RankSentences(nullptr, "AI Agent 自动处理工作", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 3u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("AI Agent"));
  EXPECT_THAT(ranked->sentences[1].text, ::testing::StartsWith("首先"));
  EXPECT_THAT(ranked->sentences[2].text, ::testing::StartsWith("其次"));
  EXPECT_TRUE(ranked->sentences[1].leans_on_context);
  EXPECT_TRUE(ranked->sentences[2].leans_on_context);
  auto english = RankSentences(nullptr, "agents handle support tickets", std::span(passages).subspan(1), {.k = 2});
  ASSERT_TRUE(english.ok());
  ASSERT_EQ(english->sentences.size(), 2u);
  EXPECT_THAT(english->sentences[0].text, ::testing::StartsWith("Agents"));
  EXPECT_TRUE(english->sentences[1].leans_on_context);
}

TEST(SentenceRankerTest, AShortSentenceWhoseTermsALongerOneChosenHoldsIsARestatement) {
  // 6 of the short one's 8 terms are in the long one: a Jaccard overlap of 0.3, but it says
  // nothing the long one has not said.
  const std::vector<PassageInput> passages = {
      {"AI+影视：AIGC 有望在影视生产全环节得到广泛应用。", true},
      {"AI+影视: 赋能生产全环节;", true},
      {"多模态 AI 可以低成本地生产影视素材。", true},
  };
  auto ranked = RankSentences(nullptr, "AIGC 影视生产全环节 广泛应用", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 2u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("AI+影视：AIGC"));
  EXPECT_THAT(ranked->sentences[1].text, ::testing::StartsWith("多模态"));
}

TEST(SentenceRankerTest, ASentenceNeedNotRepeatItsDocumentsSubject) {
  // Every sentence of the passage is read under its document's title: the one that answers the
  // rest of the question comes before those that only name the company again.
  const std::vector<PassageInput> passages = {
      {.text = "Harbor Robotics designs straddle carriers for container ports. Revenue for the year reached $312 million. "
               "Service contracts for installed machines made up 41% of revenue. Management expects revenue growth of "
               "about 20% next year. Harbor Robotics ended the year with a staff of 1,240.",
       .starts_at_sentence = true,
       .title = "Harbor Robotics: annual review 2024"},
  };
  auto ranked = RankSentences(nullptr, "What was Harbor Robotics revenue in 2024?", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("evenue"));
  // Without the title, the sentences naming the company win.
  std::vector<PassageInput> untitled = passages;
  untitled[0].title.clear();
  auto bare = RankSentences(nullptr, "What was Harbor Robotics revenue in 2024?", untitled, {.k = 3});
  ASSERT_TRUE(bare.ok());
  EXPECT_THAT(bare->sentences[0].text, ::testing::StartsWith("Harbor Robotics"));
}

TEST(SentenceRankerTest, AQuestionOfWhereIsAnsweredByASentenceThatNamesAPlace) {
  // The company's name is the question's only word that the sentences have (as context, from
  // the title); the one that places it wins over the one that names it again.
  const std::vector<PassageInput> passages = {
      {.text = "Harbor Robotics designs straddle carriers for ports. The company was founded in 2011 by three "
               "engineers from Delft and is headquartered in Rotterdam, next to the Maasvlakte terminals.",
       .starts_at_sentence = true,
       .title = "Harbor Robotics: annual review 2024"},
  };
  auto ranked = RankSentences(nullptr, "Where is Harbor Robotics based?", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_EQ(ranked->sentences.size(), 2u);
  EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("Rotterdam"));
}

TEST(SentenceRankerTest, TheQuestionsWordsSaidUnbrokenOutrankTheSameWordsAboutAPart) {
  // Both hold every term of the question; the second says "我国游戏市场实际销售收入" unbroken, the
  // first only of the mobile game market ("我国移动游戏市场…"), a part of what was asked.
  const std::vector<PassageInput> passages = {
      {.text = "2024年4月，我国移动游戏市场实际销售收入159.05亿元、同比-6.2%，客户端游戏市场实际销售收入56.42亿元、"
               "同比+2.1%。2024年4月，我国游戏市场实际销售收入224.32亿元、同比-4.2%，虽增速较3月有所回升，但仍为负值。",
       .starts_at_sentence = true},
  };
  // As the shipped embedder did, the vector half likes the part's sentence better (0.9 against 1).
  class LikesThePart final : public Embedder {
   public:
    std::string model_name() const override { return "likes-the-part"; }
    int dimension() const override { return 2; }
    absl::StatusOr<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts) override {
      std::vector<std::vector<float>> out;
      for (const std::string& t : texts) {
        out.push_back(t.find("224.32") != std::string::npos ? std::vector<float>{0.9f, 0.436f} : std::vector<float>{1, 0});
      }
      return out;
    }
  } embedder;
  for (Embedder* e : {static_cast<Embedder*>(nullptr), static_cast<Embedder*>(&embedder)}) {
    auto ranked = RankSentences(e, "2024年4月我国游戏市场实际销售收入是多少？", passages, {.k = 2});
    ASSERT_TRUE(ranked.ok());
    ASSERT_EQ(ranked->sentences.size(), 2u);
    EXPECT_THAT(ranked->sentences[0].text, ::testing::HasSubstr("224.32")) << (e == nullptr ? "words alone" : "with vectors");
  }
}

TEST(SentenceRankerTest, APastFormAndANumberInWordsMeetTheQuestionsWords) {
  // "fell" meets "fall", "Four" meets "4": the answers share the question's verb and number only
  // through their other forms.
  const std::vector<PassageInput> passages = {
      {.text = "Rental prices for GPUs are about two dollars per hour. The price per million tokens fell tenfold.",
       .starts_at_sentence = true},
      {.text = "Storing weights in 8-bit or 4-bit formats cuts the memory read. Four-bit weights make decoding three "
               "times faster.",
       .starts_at_sentence = true},
  };
  auto prices = RankSentences(nullptr, "By how much did prices fall?", passages, {.k = 2});
  ASSERT_TRUE(prices.ok());
  ASSERT_FALSE(prices->sentences.empty());
  EXPECT_THAT(prices->sentences[0].text, ::testing::HasSubstr("tenfold"));
  auto faster = RankSentences(nullptr, "How much faster is decoding with 4-bit weights?", passages, {.k = 2});
  ASSERT_TRUE(faster.ok());
  ASSERT_FALSE(faster->sentences.empty());
  EXPECT_THAT(faster->sentences[0].text, ::testing::StartsWith("Four-bit"));
}

TEST(SentenceRankerTest, ASentenceIsReadUnderItsSectionsHeading) {
  // The cause has no causal word and shares only "arabica" with the question; its section's
  // heading asks why prices rose. The year's closing price shares more words and names no cause.
  const std::string document =
      "# Coffee market update, December 2024\n\n"
      "Arabica futures ended the year at $3.44 per pound on the New York exchange, the highest price since 1977 "
      "and 70% above where they started the year.\n\n"
      "## Why prices rose\n\n"
      "A severe drought in Brazil, the largest producer, damaged flowering in the main arabica regions between "
      "August and October.\n\n"
      "## Effects on roasters\n\n"
      "Large roasters raised wholesale prices twice during the year.\n";
  const std::vector<PassageInput> passages = {{.text = document, .starts_at_sentence = true,
                                               .title = "Coffee market update, December 2024"}};
  auto ranked = RankSentences(nullptr, "Why did arabica coffee prices rise?", passages, {.k = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("A severe drought"));
  // The same sentence under a heading that names no cause and shares no word: the price first.
  std::string plain = document;
  plain.replace(plain.find("Why prices rose"), 15, "Weather report");
  auto unheaded = RankSentences(nullptr, "Why did arabica coffee prices rise?",
                                std::vector<PassageInput>{{.text = plain, .starts_at_sentence = true,
                                                           .title = passages[0].title}},
                                {.k = 3});
  ASSERT_TRUE(unheaded.ok());
  ASSERT_FALSE(unheaded->sentences.empty());
  EXPECT_THAT(unheaded->sentences[0].text, ::testing::StartsWith("Arabica futures"));
}

TEST(SentenceRankerTest, EveryCorpusQuestionFindsItsAnswerAmongTheTopSentencesOfItsDocument) {
  // Lexical ranking alone over each question's source document, cut into chunks as memory cuts
  // them: the sentence with the answer is among the best 8 for most questions (tables hold the
  // rest).
  std::ifstream questions(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/questions.jsonl");
  std::string line;
  int asked = 0, found = 0;
  while (std::getline(questions, line)) {
    auto field = [&](const std::string& name) {
      const size_t at = line.find("\"" + name + "\": \"") + name.size() + 5;
      return line.substr(at, line.find('"', at) - at);
    };
    std::ifstream in(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/" + field("source"));
    std::stringstream document;
    document << in.rdbuf();
    std::vector<PassageInput> passages;
    for (const Chunk& chunk : ChunkText(document.str(), {})) passages.push_back({chunk.text, chunk.start == 0});
    auto ranked = RankSentences(nullptr, field("question"), passages, {.k = 8});
    ASSERT_TRUE(ranked.ok());
    ++asked;
    std::string answer = field("answer_contains");
    for (const RankedSentence& s : ranked->sentences) {
      std::string squashed;
      for (char c : s.text) if (c != ' ') squashed.push_back(c);
      std::string a;
      for (char c : answer) if (c != ' ') a.push_back(c);
      if (squashed.find(a) != std::string::npos) {
        ++found;
        break;
      }
    }
  }
  EXPECT_EQ(asked, 12);
  EXPECT_GE(found, 10);
}

TEST(TablesTest, TabSeparatedRowsWithTheirHeaderAndTheRowThatAnswers) {
  const std::string passage =
      "图 5: 蒸馏小模型超越 OpenAI o1-mini\n\n"
      "\tAIME 2024 pass@1\tMATH-500 pass@1\tCodeForces rating\n"
      "GPT-4o-0513\t9.3\t74.6\t759.0\n"
      "DeepSeek-R1-Distill-Qwen-32B\t72.6\t94.3\t1691.0\n"
      "DeepSeek-R1-Distill-Llama-70B\t70.0\t94.5\t1633.0\n\n"
      "资料来源：DeepSeek 官网\n";
  std::vector<PassageTable> tables = FindTables(passage);
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_THAT(tables[0].header, ElementsAre("", "AIME 2024 pass@1", "MATH-500 pass@1", "CodeForces rating"));
  ASSERT_EQ(tables[0].rows.size(), 3u);
  EXPECT_THAT(tables[0].rows[1].cells, ElementsAre("DeepSeek-R1-Distill-Qwen-32B", "72.6", "94.3", "1691.0"));
  // A table cut off before its header (a chunk starting mid-table) is no table.
  EXPECT_TRUE(FindTables("GPT-4o-0513\t9.3\t74.6\t759.0\no1-mini\t63.6\t90.0\t1820.0\n").empty());

  // A row set apart by a blank line and a rule, as wide as the header, is the table's (a total
  // row); the rule is no row, and a line after the blank that reads as a header is another table.
  const std::vector<PassageTable> with_total = FindTables(
      "\t2023\t2024E\t2025E\t2028E\nB 端\t550\t688\t1718\t8390\nC 端\t4\t7.28\t17.16\t130.35\n\n"
      "合计\t554\t695.28\t1735.16\t8520.35\n--\t-----\t-----\t-----\t-----\n\n"
      "\t2030\t2031E\t2032E\t2033E\n甲\t1\t2\t3\t4\n");
  ASSERT_EQ(with_total.size(), 2u);
  ASSERT_EQ(with_total[0].rows.size(), 3u);
  EXPECT_THAT(with_total[0].rows[2].cells, ElementsAre("合计", "554", "695.28", "1735.16", "8520.35"));
  EXPECT_THAT(with_total[1].header, ElementsAre("", "2030", "2031E", "2032E", "2033E"));
  // A passage that opens with the header has lost the header's empty corner cell to trimming:
  // the columns are the rows' last ones.
  const std::vector<PassageTable> trimmed = FindTables("2023\t2024E\t2025E\t2026E\nB 端\t550\t688\t1718\t3222\n");
  ASSERT_EQ(trimmed.size(), 1u);
  EXPECT_THAT(trimmed[0].header, ElementsAre("", "2023", "2024E", "2025E", "2026E"));
  // After a blank line, a second table whose header reads as numbers ("Region 2023 2024") is no
  // total row of the first: a row followed by more rows starts its own table.
  const std::vector<PassageTable> two = FindTables(
      "Company\tRevenue\tProfit\nAcme\t10\t2\nBeta\t20\t3\n\nRegion\t2023\t2024\nEurope\t5\t6\nAsia\t7\t8\n");
  ASSERT_FALSE(two.empty());
  EXPECT_EQ(two[0].rows.size(), 2u);
  EXPECT_EQ(two[0].rows.back().cells[0], "Beta");
  // Rows that end in a tab (an empty last cell) under a header that is not the passage's first
  // line keep their columns: no corner cell is added.
  const std::vector<PassageTable> trailing = FindTables("intro text\nItem\tQ1\tQ2\nRevenue\t10\t20\t\nCost\t5\t6\t\n");
  ASSERT_EQ(trailing.size(), 1u);
  EXPECT_THAT(trailing[0].header, ElementsAre("Item", "Q1", "Q2"));
  // A row of another width after a blank line is not the table's.
  EXPECT_EQ(FindTables("\tA\tB\n甲\t1\t2\n\n乙\t1\t2\t3\n")[0].rows.size(), 1u);

  auto ranked = RankSentences(nullptr, "DeepSeek-R1-Distill-Qwen-32B 在 AIME 2024 上的 pass@1 是多少？",
                              std::vector<PassageInput>{{passage, true}}, {.k = 4, .k_rows = 3});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->rows.empty());
  EXPECT_EQ(ranked->rows[0].cells[0], "DeepSeek-R1-Distill-Qwen-32B");
  EXPECT_GE(ranked->rows[0].coverage, 0.6);
  // No table rows unless asked for.
  EXPECT_TRUE(RankSentences(nullptr, "AIME", std::vector<PassageInput>{{passage, true}}, {})->rows.empty());
  // A hyphenated name is held by a header that writes it as one word: the training costs' row
  // covered half of the question and was not quoted.
  const std::string models = "\tGPT-4\tDeepSeekV3\tDeepSeekR1\n训练成本\t6300 万美元\t557.6 万美元\t-\n是否开源\t否\t是\t是\n";
  auto costs = RankSentences(nullptr, "DeepSeek-V3和GPT-4的训练成本相比如何？", std::vector<PassageInput>{{models, true}},
                             {.k = 4, .k_rows = 3});
  ASSERT_TRUE(costs.ok());
  ASSERT_FALSE(costs->rows.empty());
  EXPECT_EQ(costs->rows[0].cells[0], "训练成本");
  EXPECT_GE(costs->rows[0].coverage, 0.6);
  // A header of kilobytes (a hostile page's) gives no rows: each row kept a copy of it.
  std::string wide = "\t" + std::string(3000, 'h') + "\tB\tC\n";
  for (int r = 0; r < 100; ++r) wide += "row" + std::to_string(r) + "\t1\t2\t3\n";
  EXPECT_TRUE(RankSentences(nullptr, "row7 是多少？", std::vector<PassageInput>{{wide, true}}, {.k = 4, .k_rows = 3})->rows.empty());
}

TEST(SentenceRankerTest, AForecastAskedByWhoseItIsIsThatOnes) {
  // "LightCounting预测…" asks LightCounting's forecast: another's forecast of another market
  // ("中商产业研究院预测…光芯片市场规模将达到…") had opened above it, sharing more of the question's words.
  const std::vector<PassageInput> passages = {
      {.text = "中商产业研究院预测，2024年全球光芯片市场规模将达到31.7亿美元。", .starts_at_sentence = true},
      {.text = "LightCounting 预测，到 2029 年，400G+市场预计将以 28% 以上的复合年增长率扩张，达 125 亿美元。",
       .starts_at_sentence = true},
  };
  auto ranked = RankSentences(nullptr, "LightCounting预测2029年400G+光模块市场规模将达到多少？", passages, {.k = 2});
  ASSERT_TRUE(ranked.ok());
  ASSERT_FALSE(ranked->sentences.empty());
  EXPECT_THAT(ranked->sentences[0].text, ::testing::StartsWith("LightCounting"));
}

}  // namespace
}  // namespace memory
