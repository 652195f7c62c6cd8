// libFuzzer target: a document a tenant ingested, as tables are read from it and as the store
// stitches it back from its chunks. The first two bytes choose the chunk size and overlap.
// FindTables' rows must lie inside the text, in order, each with at least three cells, and as
// many as the header where a blank line or a rule stood before them; StitchWindow over the
// chunks must give the document's text at every code point a chunk holds and whitespace at
// every one the chunker trimmed, with the document's length.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memory/chunker.h"
#include "memory/tables.h"
#include "passage_window.h"
#include "utf8_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  const memory::internal::DecodedText decoded = memory::internal::DecodeUtf8(text);
  const uint64_t length = decoded.code_points.size();

  for (const memory::PassageTable& table : memory::FindTables(text)) {
    if (table.header.size() < 3 || table.rows.empty()) __builtin_trap();
    uint64_t previous_end = 0;
    for (const memory::TableRow& row : table.rows) {
      if (row.cells.size() < 3 || row.start >= row.end || row.end > length || row.start < previous_end) __builtin_trap();
      previous_end = row.end;
    }
  }

  const int max_chars = 16 + data[0] * 4;
  const int overlap = data[1] % 2 == 0 ? 0 : data[1] % (max_chars / 2);
  std::vector<memory::internal::StoredChunk> chunks;
  for (memory::Chunk& c : memory::ChunkText(text, {.max_chars = max_chars, .overlap_chars = overlap})) {
    chunks.push_back({c.start, c.end, std::move(c.text)});
  }
  if (chunks.empty()) return 0;
  const uint64_t first = chunks.front().start, last = chunks.back().end;
  const memory::internal::DecodedText stitched =
      memory::internal::DecodeUtf8(memory::internal::StitchWindow(chunks, first, last));
  if (stitched.code_points.size() != last - first) __builtin_trap();
  std::vector<bool> held(last - first, false);
  for (const memory::internal::StoredChunk& c : chunks) {
    for (uint64_t i = c.start; i < c.end; ++i) held[i - first] = true;
  }
  for (uint64_t i = first; i < last; ++i) {
    const uint32_t got = stitched.code_points[i - first], want = decoded.code_points[i];
    if (held[i - first] ? got != want : !memory::internal::IsSpace(want) || (got != ' ' && got != '\n')) __builtin_trap();
  }
  return 0;
}
