#include "memory/chunker.h"

#include <random>
#include <locale>
#include <codecvt>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/daemon_process.h"

namespace memory {
namespace {

// The chunk's offsets select exactly its text from the document (in code points).
void ExpectOffsetsMatch(const std::string& text, const std::vector<Chunk>& chunks) {
  std::u32string wide;
  for (size_t i = 0; i < text.size();) {
    unsigned char b = text[i];
    int n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    uint32_t cp = n == 1 ? b : n == 2 ? b & 0x1f : n == 3 ? b & 0x0f : b & 0x07;
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (text[i + k] & 0x3f);
    wide.push_back(cp);
    i += n;
  }
  for (const Chunk& c : chunks) {
    ASSERT_LE(c.end, wide.size());
    std::u32string piece = wide.substr(c.start, c.end - c.start);
    std::string utf8;
    for (char32_t cp : piece) {
      if (cp < 0x80) utf8.push_back(static_cast<char>(cp));
      else if (cp < 0x800) { utf8.push_back(static_cast<char>(0xc0 | (cp >> 6))); utf8.push_back(static_cast<char>(0x80 | (cp & 0x3f))); }
      else if (cp < 0x10000) { utf8.push_back(static_cast<char>(0xe0 | (cp >> 12))); utf8.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f))); utf8.push_back(static_cast<char>(0x80 | (cp & 0x3f))); }
      else { utf8.push_back(static_cast<char>(0xf0 | (cp >> 18))); utf8.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f))); utf8.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f))); utf8.push_back(static_cast<char>(0x80 | (cp & 0x3f))); }
    }
    EXPECT_EQ(utf8, c.text);
  }
}

TEST(ChunkerTest, CutsChineseAtSentenceEnds) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "深度求索发布了第" + std::to_string(i) + "个模型，训练成本很低。";
  std::vector<Chunk> chunks = ChunkText(text, {.max_chars = 100, .overlap_chars = 30});
  ASSERT_GT(chunks.size(), 5u);
  for (const Chunk& c : chunks) {
    EXPECT_LE(c.end - c.start, 100u);
    EXPECT_TRUE(c.text.size() >= 3 && c.text.compare(c.text.size() - 3, 3, "。") == 0) << c.text;
  }
  ExpectOffsetsMatch(text, chunks);
  // Overlap: each chunk after the first starts inside the previous one.
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_LT(chunks[i].start, chunks[i - 1].end);
}

TEST(ChunkerTest, HeadingsStartChunksAndLatinSentencesStayWhole) {
  const std::string text =
      "# Results\nThe model scored 72.6 on AIME. It costs $5.6M to train! Really?\n\n"
      "## Costs\nTraining used 2.788M H800 GPU hours. That is cheap.";
  std::vector<Chunk> chunks = ChunkText(text, {.max_chars = 400, .overlap_chars = 50});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text.rfind("# Results", 0), 0u);
  EXPECT_EQ(chunks[1].text.rfind("## Costs", 0), 0u);
  EXPECT_THAT(chunks[0].text, ::testing::HasSubstr("72.6 on AIME."));
  ExpectOffsetsMatch(text, chunks);
}

TEST(ChunkerTest, AChunkAcrossABreakIsCutThere) {
  // A newspaper page: the second story begins with its reporter's byline, inside the unit the
  // PDF's text ran on from the first story ("…崛起\n 证券时报记者 阮润生"). A chunk holding both was
  // cited under the first story's headline.
  const std::string first = "特效厅的票房产出更高。国产品牌的份额逐年提升。\n\n1 “国产特效厅”崛起\n ";
  const std::string second = "证券时报记者 阮润生\n\n国产开源大模型凭借出色性价比成为增速最快的应用。国产芯片厂商火速适配。";
  const std::string text = first + second;
  const uint64_t byline = CodePointCount(first);
  std::vector<Chunk> chunks = ChunkText(text, {.max_chars = 400, .overlap_chars = 50, .breaks = {byline}});
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_LE(chunks[0].end, byline);
  EXPECT_EQ(chunks[1].start, byline);
  EXPECT_EQ(chunks[1].text.rfind("证券时报记者", 0), 0u) << chunks[1].text;
  ExpectOffsetsMatch(text, chunks);
  // Without the break the page is one chunk; a break past the text is ignored.
  EXPECT_EQ(ChunkText(text, {.max_chars = 400, .overlap_chars = 50}).size(), 1u);
  EXPECT_EQ(ChunkText(text, {.max_chars = 400, .overlap_chars = 50, .breaks = {CodePointCount(text) + 5}}).size(), 1u);
  const uint64_t paragraph = CodePointCount("特效厅的票房产出更高。国产品牌的份额逐年提升。\n\n");
  std::vector<Chunk> at_unit = ChunkText(text, {.max_chars = 400, .overlap_chars = 50, .breaks = {paragraph, byline}});
  ASSERT_EQ(at_unit.size(), 3u);
  EXPECT_EQ(at_unit[1].start, paragraph);
  ExpectOffsetsMatch(text, at_unit);
}

TEST(ChunkerTest, BreaksLeaveChunksRisingWithoutRepeatsAndCoverEveryCharacter) {
  // Two overlapping chunks cut at one break gave a piece twice ([3, 63) from each), and cutting
  // the chunks while adding to the same vector read freed memory once it grew.
  const std::string text = "A. " + std::string(59, 'x') + ".\n\n" + std::string(500, 'y') + ".";
  std::mt19937 random(42);
  std::vector<std::pair<std::string, std::vector<uint64_t>>> cases = {{text, {3}}, {text, {3, 3, 70, 0, 100000}}};
  const std::vector<std::string> pieces = {"短句。", "A longer English sentence. ", "\n\n", "\n", "表\t格\n", "   ",
                                           std::string(40, 'z'), "第二段落开始，内容较长较长较长。"};
  for (int n = 0; n < 2000; ++n) {
    std::string t;
    const int parts = 1 + static_cast<int>(random() % 40);
    for (int k = 0; k < parts; ++k) t += pieces[random() % pieces.size()];
    std::vector<uint64_t> breaks;
    const uint64_t length = CodePointCount(t);
    for (int k = static_cast<int>(random() % 5); k > 0; --k) breaks.push_back(random() % (length + 3));
    cases.push_back({t, breaks});
  }
  for (const auto& [t, breaks] : cases) {
    for (const ChunkingOptions& base : {ChunkingOptions{.max_chars = 64, .overlap_chars = 16}, ChunkingOptions{}}) {
      ChunkingOptions options = base;
      options.breaks = breaks;
      const std::vector<Chunk> chunks = ChunkText(t, options);
      ExpectOffsetsMatch(t, chunks);
      for (size_t i = 0; i < chunks.size(); ++i) {
        for (uint64_t b : breaks) EXPECT_FALSE(chunks[i].start < b && b < chunks[i].end) << t;
        if (i > 0) {
          // Rising as ReadPassage reads them; with breaks, none inside another (no piece twice).
          // (Without, two chunks trimmed to the same text between runs of spacing can repeat.)
          EXPECT_LE(chunks[i - 1].start, chunks[i].start) << t;
          EXPECT_LE(chunks[i - 1].end, chunks[i].end) << t;
          if (!breaks.empty()) {
            EXPECT_LT(chunks[i - 1].start, chunks[i].start) << t;
            EXPECT_LT(chunks[i - 1].end, chunks[i].end) << t;
          }
        }
      }
      // Every character but spacing is in some chunk, as without breaks.
      const std::u32string wide = std::wstring_convert<std::codecvt_utf8<char32_t>, char32_t>().from_bytes(t);
      std::vector<bool> covered(CodePointCount(t), false);
      for (const Chunk& c : chunks) {
        for (uint64_t k = c.start; k < c.end; ++k) covered[k] = true;
      }
      std::vector<bool> covered_before(covered.size(), false);
      for (const Chunk& c : ChunkText(t, base)) {
        for (uint64_t k = c.start; k < c.end; ++k) covered_before[k] = true;
      }
      for (size_t k = 0; k < covered.size(); ++k) {
        const bool spacing = wide[k] == ' ' || wide[k] == '\t' || wide[k] == '\n';
        if (covered_before[k] && !spacing) {
          EXPECT_TRUE(covered[k]) << "code point " << k << " of [" << t << "]";
        }
      }
    }
  }
}

TEST(ChunkerTest, OverlongRunsAreCutAtWhitespaceOrHard) {
  std::string words;
  for (int i = 0; i < 200; ++i) words += "word ";
  std::vector<Chunk> chunks = ChunkText(words, {.max_chars = 64, .overlap_chars = 0});
  ASSERT_GE(chunks.size(), 16u);  // 1000 characters in pieces of at most 64
  for (const Chunk& c : chunks) {
    EXPECT_LE(c.end - c.start, 64u);
    EXPECT_NE(c.text.back(), ' ');
    EXPECT_NE(c.text.substr(c.text.size() - 2), "wo");  // cut between words
  }
  std::string run(1000, 'x');
  chunks = ChunkText(run, {.max_chars = 100, .overlap_chars = 10});
  ASSERT_EQ(chunks.size(), 10u);
  ExpectOffsetsMatch(run, chunks);
}

TEST(ChunkerTest, ALongTableIsCutBetweenItsRows) {
  // A table has no sentence ends: it is one long unit, cut where a line breaks, not at a tab
  // inside a row (which left the row's cells split between two chunks).
  std::string table = "\tAIME 2024 pass@1\tMATH-500 pass@1\tCodeForces rating\n";
  for (int i = 0; i < 30; ++i) table += "DeepSeek-R1-Distill-Qwen-" + std::to_string(i) + "B\t72.6\t94.3\t1691.0\n";
  const std::vector<Chunk> chunks = ChunkText(table, {.max_chars = 200, .overlap_chars = 0});
  ASSERT_GE(chunks.size(), 6u);
  ExpectOffsetsMatch(table, chunks);
  for (const Chunk& c : chunks) {
    EXPECT_EQ(c.text.substr(c.text.rfind('\n') + 1).find("DeepSeek"), 0u) << c.text;  // ends with a whole row
    EXPECT_EQ(c.text.substr(c.text.size() - 6), "1691.0") << c.text;
  }
}

TEST(ChunkerTest, EmptyAndWhitespaceOnly) {
  EXPECT_TRUE(ChunkText("", {}).empty());
  EXPECT_TRUE(ChunkText(" \n\n \t", {}).empty());
}

TEST(ChunkerTest, SeedCorpusChunksCoverTheDocument) {
  const std::string text = testing_support::ReadFile(std::string(AGENTD_TEST_DATA_DIR) + "/corpus/seeds/000_37400ed1cf531c96.txt");
  ASSERT_FALSE(text.empty());
  std::vector<Chunk> chunks = ChunkText(text, {});
  ASSERT_GT(chunks.size(), 10u);
  ExpectOffsetsMatch(text, chunks);
  // Consecutive chunks leave no gap except whitespace.
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_LE(chunks[i].start, chunks[i - 1].end + 4);
}

}  // namespace
}  // namespace memory
