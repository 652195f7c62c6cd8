#include "passage_window.h"

#include <algorithm>

#include "table_lines.h"
#include "utf8_text.h"

namespace memory::internal {
namespace {

// Whether the chunker's cut between `before` and `after` fell between two rows of one table: the
// line each side of it is a row, and the two are as wide. The chunker cuts a table too long for
// a chunk at a line break (chunker.h), so a one-character gap there was that line break.
bool CutBetweenRows(const StoredChunk* before, const StoredChunk& after) {
  // No table row is this long; a tenant's line of a million tabs is not split into cells here,
  // three times for every widened hit.
  constexpr size_t kMaxRowBytes = 4096;
  if (before == nullptr) return false;
  const size_t last_break = before->text.rfind('\n');
  const std::string_view last_line =
      std::string_view(before->text).substr(last_break == std::string::npos ? 0 : last_break + 1);
  const std::string_view first_line = std::string_view(after.text).substr(0, after.text.find('\n'));
  if (last_line.size() > kMaxRowBytes || first_line.size() > kMaxRowBytes) return false;
  const TableLine last = ReadTableLine(last_line), first = ReadTableLine(first_line);
  return last.kind == TableLineKind::kRow && first.kind == TableLineKind::kRow && last.cells.size() == first.cells.size();
}

void AppendGap(uint64_t length, bool between_rows, std::string* out) {
  if (length == 1 && !between_rows) {
    out->push_back(' ');
  } else {
    out->append(length, '\n');
  }
}

}  // namespace

std::string StitchWindow(const std::vector<StoredChunk>& chunks, uint64_t window_start, uint64_t window_end) {
  std::string out;
  uint64_t cursor = window_start;  // the next document code point to write
  const StoredChunk* previous = nullptr;  // the chunk that ends where a gap starts
  for (const StoredChunk& chunk : chunks) {
    if (cursor >= window_end) break;
    if (chunk.end <= cursor || chunk.start >= window_end || chunk.end <= chunk.start) {
      previous = &chunk;
      continue;
    }
    if (chunk.start > cursor) {
      AppendGap(chunk.start - cursor, previous != nullptr && previous->end == cursor && CutBetweenRows(previous, chunk), &out);
      cursor = chunk.start;
    }
    previous = &chunk;
    const DecodedText decoded = DecodeUtf8(chunk.text);
    const uint64_t stored = decoded.code_points.size();
    const uint64_t until = std::min(chunk.end, window_end);
    for (uint64_t position = cursor; position < until; ++position) {
      const uint64_t i = position - chunk.start;
      if (i < stored) {
        out.append(chunk.text, decoded.byte_offsets[i], decoded.byte_offsets[i + 1] - decoded.byte_offsets[i]);
      } else {
        out.push_back(' ');
      }
    }
    cursor = until;
  }
  if (cursor < window_end) AppendGap(window_end - cursor, false, &out);
  return out;
}

}  // namespace memory::internal
