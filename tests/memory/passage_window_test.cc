// Rebuilding a stretch of a document from its stored chunks (memory/src/passage_window.h).
#include "passage_window.h"

#include <gtest/gtest.h>

#include "memory/chunker.h"

namespace memory::internal {
namespace {

std::vector<StoredChunk> Stored(const std::vector<Chunk>& chunks) {
  std::vector<StoredChunk> out;
  for (const Chunk& c : chunks) out.push_back({c.start, c.end, c.text});
  return out;
}

TEST(PassageWindowTest, TrimmedGapsComeBackAsStandIns) {
  // Chunks [0, 5) "alpha" and [6, 10) "beta" with one trimmed character between them; [12, 17)
  // after two.
  const std::vector<StoredChunk> chunks = {{0, 5, "alpha"}, {6, 10, "beta"}, {12, 17, "gamma"}};
  EXPECT_EQ(StitchWindow(chunks, 0, 17), "alpha beta\n\ngamma");
  EXPECT_EQ(StitchWindow(chunks, 3, 8), "ha be");
  // A window past the chunks is padded, so offsets after it stay right.
  EXPECT_EQ(StitchWindow(chunks, 15, 20), "ma\n\n\n");
}

TEST(PassageWindowTest, AOneCharacterGapBetweenTwoRowsOfATableIsALineBreak) {
  // The chunker cuts a long table between rows, trimming the line break: stitched with a space,
  // two rows would read as one twice as wide.
  std::string table = "Table 4: distilled models\n\tAIME 2024 pass@1\tMATH-500 pass@1\tCodeForces rating\n";
  for (int i = 0; i < 12; ++i) table += "Model-" + std::to_string(i) + "\t72.6\t94.3\t1691.0\n";
  const std::vector<StoredChunk> chunks = Stored(ChunkText(table, {.max_chars = 120, .overlap_chars = 0}));
  ASSERT_GE(chunks.size(), 3u);
  ASSERT_EQ(chunks[1].start, chunks[0].end + 1);
  EXPECT_EQ(StitchWindow(chunks, 0, chunks.back().end), table.substr(0, table.size() - 1));
  // Not where a row too long for half a chunk was cut at a tab: its halves are as wide as each
  // other but not as the lines around them.
  const std::vector<StoredChunk> long_row = {{0, 12, "header\na\tb\tc"}, {13, 18, "d\te\tf"}};
  EXPECT_EQ(StitchWindow(long_row, 0, 18), "header\na\tb\tc d\te\tf");
  // Not between rows of different widths, nor between prose and a row.
  const std::vector<StoredChunk> mixed = {{0, 7, "a\tb\tc\td"}, {8, 13, "e\tf\tg"}, {14, 18, "word"}, {19, 24, "h\ti\tj"}};
  EXPECT_EQ(StitchWindow(mixed, 0, 24), "a\tb\tc\td e\tf\tg word h\ti\tj");
}

}  // namespace
}  // namespace memory::internal
