// libFuzzer target: a document's text into chunks, as ingest does with any file a tenant sends,
// and its title guessed from its opening lines. The first two bytes choose the chunk size and
// overlap. Chunks must be in order, inside the text, no longer than the size asked for, and
// cover it; the title is at most 100 code points (plus "…") and made of the text's own bytes.
// Then chunked again as ingest chunks a newspaper page, cut at its later articles' starts (and at
// two offsets the input chooses): no chunk may span a break, and starts and ends must rise.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memory/chunker.h"
#include "memory/document_title.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  memory::ChunkingOptions options;
  options.max_chars = 8 + data[0];
  options.overlap_chars = data[1] % options.max_chars;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::vector<memory::Chunk> chunks = memory::ChunkText(text, options);
  uint64_t previous_start = 0;
  for (const memory::Chunk& chunk : chunks) {
    if (chunk.end < chunk.start || chunk.start < previous_start) __builtin_trap();
    // The chunker raises a max_chars under 16 to 16.
    if (chunk.end - chunk.start > static_cast<uint64_t>(std::max(options.max_chars, 16))) __builtin_trap();
    if (chunk.text.size() > text.size()) __builtin_trap();
    previous_start = chunk.start;
  }
  memory::ChunkingOptions cut = options;
  for (const memory::ArticleStart& article : memory::FindLaterArticles(text)) cut.breaks.push_back(article.offset);
  cut.breaks.push_back(data[0] * 7u);
  cut.breaks.push_back(data[1] * 13u);
  const std::vector<memory::Chunk> pieces = memory::ChunkText(text, cut);
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i].end <= pieces[i].start || pieces[i].text.size() > text.size()) __builtin_trap();
    for (uint64_t b : cut.breaks) {
      if (pieces[i].start < b && b < pieces[i].end) __builtin_trap();
    }
    if (i > 0 && (pieces[i].start <= pieces[i - 1].start || pieces[i].end <= pieces[i - 1].end)) __builtin_trap();
  }
  const std::string title = memory::GuessDocumentTitle(text);
  // 100 code points of at most 4 bytes, the ellipsis, and a space where two lines were joined.
  if (title.size() > 100 * 4 + 3 + 1) __builtin_trap();
  for (char c : title) {
    if (c != ' ' && text.find(c) == std::string_view::npos && std::string_view("…").find(c) == std::string_view::npos) {
      __builtin_trap();
    }
  }
  // A text with a letter or digit in it is never dropped whole.
  if (chunks.empty()) {
    for (char c : text) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) __builtin_trap();
    }
  }
  return 0;
}
