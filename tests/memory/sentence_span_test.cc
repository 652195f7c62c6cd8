// Widening a chunk to the sentences it was cut inside (memory/src/sentence_span.h).
#include "sentence_span.h"

#include <codecvt>
#include <locale>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "memory/chunker.h"
#include "memory/sentences.h"

namespace memory::internal {
namespace {

using ::testing::ElementsAre;

// Where `needle` starts in `text`, in code points.
uint64_t Find(const std::string& text, const std::string& needle, size_t from = 0) {
  return CodePointCount(text.substr(0, text.find(needle, from)));
}

// The document's code points [start, end) of `window`, which begins at `window_start`.
std::string Span(const std::string& window, uint64_t window_start, const SentenceSpan& span) {
  std::u32string wide = std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().from_bytes(window);
  return std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().to_bytes(
      wide.substr(span.start - window_start, span.end - span.start));
}

TEST(SentenceSpanTest, BothEdgesMoveOutSoTheCutSentencesCanBeQuotedWhole) {
  // PDF-style lines: a blank line after each, one sentence running over three of them and
  // starting in the middle of a line.
  const std::string window =
      "如何实现突围的？据中影科技介绍，中影CINI⁃\nTY电影系统开创性实现了 4K、3D、高亮度、高\n\n帧率、高动态范围、广色域、沉浸式声音七大电\n\n"
      "影放映高新技术的融合。\n\n这些技术与观影体验息息相关。";
  const uint64_t cut_start = Find(window, "高动态范围");  // inside the long sentence
  const uint64_t cut_end = Find(window, "息息相关");      // inside the last one
  SentenceSpan span = WidenToSentences(window, 1000, false, 1000 + cut_start, 1000 + cut_end);
  // The start moves to the line the sentence starts on, whose first piece is a fragment.
  EXPECT_EQ(span.start, 1000u);
  EXPECT_FALSE(span.starts_sentence);
  EXPECT_EQ(span.end, 1000 + CodePointCount(window));
  const std::string widened = Span(window, 1000, span);
  std::vector<std::string> quotable;
  for (const auto& s : SplitSentences(widened, {.starts_at_sentence = span.starts_sentence}).sentences) quotable.push_back(s.text);
  EXPECT_THAT(quotable, ElementsAre("据中影科技介绍，中影CINITY电影系统开创性实现了 4K、3D、高亮度、高帧率、高动态范围、广色域、沉浸式声音七大电影放映高新技术的融合。",
                                    "这些技术与观影体验息息相关。"));
  // A sentence that starts a line and leans on the one before it ("这些技术"): the span takes
  // that one in, from its line's start as above.
  span = WidenToSentences(window, 1000, false, 1000 + Find(window, "观影体验"), 1000 + CodePointCount(window));
  EXPECT_EQ(span.start, 1000u);
  EXPECT_FALSE(span.starts_sentence);
  // One that stands alone: the span starts there, and says so.
  const std::string alone = std::string(window).replace(window.find("这些技术"), std::string("这些技术").size(), "影院技术");
  span = WidenToSentences(alone, 1000, false, 1000 + Find(alone, "观影体验"), 1000 + CodePointCount(alone));
  EXPECT_EQ(span.start, 1000 + Find(alone, "影院技术"));
  EXPECT_TRUE(span.starts_sentence);
}

TEST(SentenceSpanTest, ALineOpeningOnAWholeSentenceStartsOne) {
  // A chunk cut after a paragraph's first sentence is taken from its line's start, and that line
  // opens on a sentence: it starts one. (Read as a fragment, "The order backlog stood at $540
  // million…" was dropped, and "Two thirds of the backlog…" quoted without it.)
  const std::string window =
      "moved assembly to a contract manufacturer in Gdansk.\n\nThe order backlog stood at $540 million at the end of "
      "December. Two thirds of the backlog comes from ports in Southeast Asia.\n\n## People";
  const uint64_t cut_start = Find(window, "Two thirds"), cut_end = Find(window, "\n\n## People");
  SentenceSpan span = WidenToSentences(window, 1000, false, 1000 + cut_start, 1000 + cut_end);
  EXPECT_EQ(span.start, 1000 + Find(window, "The order backlog"));
  EXPECT_TRUE(span.starts_sentence);
  std::vector<std::string> quotable;
  for (const auto& s : SplitSentences(Span(window, 1000, span), {.starts_at_sentence = span.starts_sentence}).sentences) {
    quotable.push_back(s.text);
  }
  EXPECT_THAT(quotable, ElementsAre("The order backlog stood at $540 million at the end of December.",
                                    "Two thirds of the backlog comes from ports in Southeast Asia."));
}

TEST(SentenceSpanTest, AChunkThatBeginsWithASentenceInsideALineTakesTheLine) {
  // The chunker cut after "…翻倍。", inside a PDF line: from the cut, the line's rest
  // ("中国科技龙头在 AI 的投入，有望跟随美") read as a heading and headed a report's section.
  const std::string window =
      "升 AI 大模型能力： 中国互联网龙头加强 AI 的战略地位，提升 AI 的\n\n资本开支并有望较此前翻倍。中国科技龙头在 AI 的投入，有望跟随美\n\n"
      "国头部科技企业在 ChatGPT 爆发之后的模式，进入投资上行期。这将\n\n开启中国 AI 基建超级周期。";
  const uint64_t cut = Find(window, "中国科技龙头");
  SentenceSpan span = WidenToSentences(window, 1000, false, 1000 + cut, 1000 + CodePointCount(window));
  EXPECT_EQ(span.start, 1000 + Find(window, "资本开支"));
  EXPECT_FALSE(span.starts_sentence);
  PassageSentences split = SplitSentences(Span(window, 1000, span), {.starts_at_sentence = span.starts_sentence});
  for (const auto& h : split.headings) ADD_FAILURE() << "heading: " << h.text;
  ASSERT_FALSE(split.sentences.empty());
  EXPECT_EQ(split.sentences[0].text, "中国科技龙头在 AI 的投入，有望跟随美国头部科技企业在 ChatGPT 爆发之后的模式，进入投资上行期。");
  // A table's row is no such line: from its start, the rows below would be quoted under it as
  // their header.
  const std::string table = "名称\t含义\nCopilot\t工作量相当：AI 完成初稿。人类负责修改。\nAgent\tAI 完成绝大部分工作。\n";
  span = WidenToSentences(table, 1000, false, 1000 + Find(table, "人类负责"), 1000 + CodePointCount(table));
  EXPECT_EQ(span.start, 1000 + Find(table, "人类负责"));
}

TEST(SentenceSpanTest, OnALongLineOfProseTheSentenceStartsWhereItDoesNotWhereTheWindowDoes) {
  // One line of prose, the window opening in the middle of it (a chunk's start): the sentence
  // the hit is cut inside starts after the window's first piece, and the span starts there.
  const std::string window =
      "and grew and grew that year. Sentence 11 says the agent market grew and grew and grew and grew that year.";
  const uint64_t cut = Find(window, "and grew that year.", Find(window, "Sentence 11"));
  SentenceSpan span = WidenToSentences(window, 5000, false, 5000 + cut, 5000 + CodePointCount(window));
  EXPECT_EQ(span.start, 5000 + Find(window, "Sentence 11"));
  EXPECT_TRUE(span.starts_sentence);
}

TEST(SentenceSpanTest, AnEdgeAtASentenceBoundaryStaysAndAFarOneIsLeft) {
  const std::string window = "第一句说的是市场规模。第二句说的是增长速度，而且它很长很长很长很长很长很长。第三句收尾了。";
  // The chunk begins exactly at the second sentence: it starts one, and does not move.
  const uint64_t second = Find(window, "第二句");
  SentenceSpan span = WidenToSentences(window, 0, true, second, Find(window, "第三句"));
  EXPECT_EQ(span.start, second);
  EXPECT_TRUE(span.starts_sentence);
  EXPECT_EQ(span.end, Find(window, "第三句"));
  // Widening further than allowed: the edges stay, and the start is a fragment's.
  const uint64_t inside = Find(window, "增长速度");
  span = WidenToSentences(window, 0, true, inside, inside + 4, {.max_widening = 3});
  EXPECT_EQ(span.start, inside);
  EXPECT_EQ(span.end, inside + 4);
  EXPECT_FALSE(span.starts_sentence);
}

TEST(SentenceSpanTest, AChunkEndingWithOneSideTakesTheOther) {
  // Cut right after "这一方面是因为…；", the chunk promised a second half its quote never gave.
  const std::string window =
      "相较于整体票房，特效厅去年的票房也整体下降23.4%。有业内人士向记者表示，这一方面是因为好莱坞巨制等头部视效影片匮乏，"
      "导致特效厅需求受到冲击；另一方面，影院需要考量特效厅的投入产出比。\n\n另一个值得关注的趋势是国产品牌。";
  const uint64_t other = Find(window, "另一方面");
  SentenceSpan span = WidenToSentences(window, 0, true, 0, other);
  EXPECT_EQ(span.end, Find(window, "\n\n"));
  // A chunk ending at a sentence that promises nothing stays where it is.
  const uint64_t second = Find(window, "有业内人士");
  span = WidenToSentences(window, 0, true, 0, second);
  EXPECT_EQ(span.end, second);
}

TEST(SentenceSpanTest, AChunkEndingOnAListsAnnouncementTakesTheFirstItem) {
  // Cut right after "…具体特点包括：", the chunk held an announcement the ranker cannot quote
  // without its list.
  const std::string window =
      "同时，天工 AI 搜索还为搜索结果提供包括文字、视频、咨询、图片等在内的参考链接，保证搜索质量。天工 AI 搜索呈现的具体特点包括：\n\n"
      "- 引入跨语言检索技术（CLIR），借助大模型的跨语言理解能力，使中文查询能够深入全球英文知识库。\n"
      "- 在理解用户搜索指令时，采用大模型技术对查询语句进行改写和扩写，更准确地捕捉用户真实意图。\n";
  const uint64_t list = Find(window, "\n\n- 引入");
  SentenceSpan span = WidenToSentences(window, 0, true, 0, list);
  EXPECT_EQ(span.end, CodePointCount(window) - 1);  // the whole list, up to its last line break
  // A label ("投资要点：") is a heading, no announcement: a chunk ending on it stays.
  const std::string label = "行业景气度回升。投资要点：\n\n- 游戏版号发放常态化。\n";
  const uint64_t after_label = Find(label, "\n\n-");
  span = WidenToSentences(label, 0, true, 0, after_label);
  EXPECT_EQ(span.end, after_label);
}

TEST(SentenceSpanTest, AChunkThatOpensWithAMarkdownHeadingStartsAUnit) {
  // The chunker cuts before each heading: such a chunk's first piece is the heading, whole.
  const std::string window = "Lower prices changed project economics.\n\n## Prices\n\nThe average pack price dropped to $97.";
  const uint64_t heading = Find(window, "## Prices");
  SentenceSpan span = WidenToSentences(window, 500, false, 500 + heading, 500 + CodePointCount(window));
  EXPECT_EQ(span.start, 500 + heading);
  EXPECT_TRUE(span.starts_sentence);
  // A '#' inside a line is no heading (and, not allowed to move, the start stays a fragment's).
  const std::string inline_hash = "Item #3 was the best seller. It sold 40 units.";
  span = WidenToSentences(inline_hash, 0, true, Find(inline_hash, "#3"), CodePointCount(inline_hash), {.max_widening = 0});
  EXPECT_EQ(span.start, Find(inline_hash, "#3"));
  EXPECT_FALSE(span.starts_sentence);
}

TEST(SentenceSpanTest, AChunkEndingInATableTakesTheRowsSetApartAfterIt) {
  // The seed report's market-size table: its total row comes after a blank line, and the
  // chunker cut right after the row before it.
  const std::string window =
      "表6：AI Agent 市场规模\n\n\t2023\t2024E\t2025E\t2028E\n"
      "B 端 AI Agent 市场规模\t550\t688\t1718\t8390\n"
      "C 端 AI Agent 市场规模\t4\t7.28\t17.16\t130.35\n\n"
      "中国 AI Agent 市场规模=B 端+C 端\t554\t695.28\t1735.16\t8520.35\n"
      "--\t-----\t--------\t---------\t---------\n\n"
      "资料来源：头豹研究院\n\n\t2030\t2031E\t2032E\t2033E\n";
  const uint64_t cut = Find(window, "\n\n中国");
  const uint64_t total_end = Find(window, "\n--");
  SentenceSpan span = WidenToSentences(window, 0, true, 0, cut);
  EXPECT_EQ(span.end, total_end) << Span(window, 0, span);
  // Cut inside a row: the window cannot say which whitespace the cut trimmed (a lost tab reads
  // as a space), so the span is left as it is.
  EXPECT_EQ(WidenToSentences(window, 0, true, 0, Find(window, "7.28")).end, Find(window, "7.28"));
  std::string spaced = window;
  spaced.replace(spaced.find("\t7.28"), 1, " ");
  EXPECT_EQ(WidenToSentences(spaced, 0, true, 0, Find(spaced, " 7.28")).end, Find(spaced, " 7.28"));
  // Not past the reach, and not when the span ends in prose or at a line's end.
  EXPECT_EQ(WidenToSentences(window, 0, true, 0, cut, {.max_widening = 10}).end, cut);
  const uint64_t source = Find(window, "资料来源");
  EXPECT_EQ(WidenToSentences(window, 0, true, 0, source + 2).end, source + 2);
  EXPECT_EQ(WidenToSentences(window, 0, true, 0, source).end, source);
  // A row after a blank line that reads as a header starts another table, and one of another
  // width is not this table's.
  const std::string two_tables = "\tA\tB\n甲\t1\t2\n\n\t2024E\t2025E\n乙\t3\t4\n\n丙\t5\t6\t7\n";
  const uint64_t first_end = Find(two_tables, "\n\n\t2024E");
  EXPECT_EQ(WidenToSentences(two_tables, 0, true, 0, first_end).end, first_end);
  const uint64_t second_end = Find(two_tables, "\n\n丙");
  EXPECT_EQ(WidenToSentences(two_tables, 0, true, 0, second_end).end, second_end);
}

TEST(SentenceSpanTest, ASpanTheWindowDoesNotHoldIsLeftAsItIs) {
  const std::string window = "一句完整的话在这里结束。";
  for (auto [start, end] : {std::pair<uint64_t, uint64_t>{5, 40}, {50, 60}, {8, 3}}) {
    const SentenceSpan span = WidenToSentences(window, 10, false, start, end);
    EXPECT_EQ(span.start, start);
    EXPECT_EQ(span.end, end);
  }
  // Hostile windows: empty, invalid bytes, no sentence end at all.
  for (const std::string& text : {std::string(), std::string("\xff\xfe\xE4\xB8"), std::string(500, 'x')}) {
    const SentenceSpan span = WidenToSentences(text, 0, true, 0, CodePointCount(text));
    EXPECT_EQ(span.end, CodePointCount(text));
  }
}

}  // namespace
}  // namespace memory::internal
