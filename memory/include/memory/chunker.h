// Cutting documents into retrieval chunks that respect how the text is written: Markdown
// headings start a new chunk, and cuts fall on paragraph breaks, then sentence ends — Chinese
// (。！？；) and Latin (. ! ? followed by a space) — then line breaks (so a long table is cut
// between its rows), then other whitespace, and only as a last resort inside a run of characters. Consecutive chunks overlap so a fact split by a cut is still whole
// in one of them.
//
// Offsets are Unicode code points into the document text as given, [start, end), so a citation
// can point back at the exact passage: text.substr(start, end - start) (in code points) is the
// chunk's text.
#ifndef AGENTD_MEMORY_CHUNKER_H_
#define AGENTD_MEMORY_CHUNKER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memory {

struct ChunkingOptions {
  // Largest chunk, in code points. Default 512.
  int max_chars = 512;
  // Code points repeated from the end of a chunk at the start of the next. Default 64; must be
  // smaller than max_chars.
  int overlap_chars = 64;
  // Code points no chunk spans: a chunk across one is cut there in two, the others stay as they
  // would be. Where a later article of a newspaper page begins (FindLaterArticles): a passage
  // holding the end of one story and the start of the next was cited under the first one's
  // headline. Default none; offsets past the text are ignored.
  std::vector<uint64_t> breaks;
};

struct Chunk {
  std::string text;
  uint64_t start = 0;  // code points
  uint64_t end = 0;
};

// Invalid UTF-8 is treated byte by byte (each invalid byte counts as one code point).
std::vector<Chunk> ChunkText(std::string_view text, const ChunkingOptions& options);

// Code point count of UTF-8 text (invalid bytes count one each), and the byte offset of a
// code point index.
uint64_t CodePointCount(std::string_view text);

}  // namespace memory

#endif  // AGENTD_MEMORY_CHUNKER_H_
