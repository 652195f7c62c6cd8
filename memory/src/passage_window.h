// Rebuilding a stretch of a document from its stored chunks. The store keeps chunks, not
// documents: consecutive chunks overlap, and the whitespace the chunker trimmed between them is
// gone. The stretch keeps the document's code point offsets exact by standing in for each
// trimmed gap (a space for one character, line breaks for more; a line break for one between two
// rows of a table, where the chunker cut a long table).
#ifndef AGENTD_MEMORY_PASSAGE_WINDOW_H_
#define AGENTD_MEMORY_PASSAGE_WINDOW_H_

#include <cstdint>
#include <string>
#include <vector>

namespace memory::internal {

struct StoredChunk {
  uint64_t start = 0, end = 0;  // code points into the document
  std::string text;             // its end - start code points
};

// The document's code points [window_start, window_end) from `chunks`, given in document order.
// A chunk whose text does not have end - start code points (a damaged record) is cut or padded
// so that the offsets after it stay right.
std::string StitchWindow(const std::vector<StoredChunk>& chunks, uint64_t window_start, uint64_t window_end);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_PASSAGE_WINDOW_H_
