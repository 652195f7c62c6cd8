#include "passage_window.h"

#include <algorithm>

#include "table_lines.h"
#include "utf8_text.h"

namespace memory::internal {
namespace {

// The last two lines of `text` (the second of them empty when it has one line).
std::pair<std::string_view, std::string_view> LastTwoLines(std::string_view text) {
  const size_t last_break = text.rfind('\n');
  if (last_break == std::string_view::npos) return {text, {}};
  const size_t before = last_break == 0 ? std::string_view::npos : text.rfind('\n', last_break - 1);
  const size_t start = before == std::string_view::npos ? 0 : before + 1;
  return {text.substr(last_break + 1), text.substr(start, last_break - start)};
}

// Whether the chunker's cut between `before` and `after` fell between two rows of one table: the
// two lines either side of it are rows of one width, and so is the line above or below them. The
// chunker cuts a table too long for a chunk at a line break (chunker.h), so a one-character gap
// there was that line break; a row too long for half a chunk is still cut at a tab, and its two
// halves are not as wide as the rows around them.
bool CutBetweenRows(const StoredChunk* before, const StoredChunk& after) {
  // No table row is this long; a tenant's line of a million tabs is not split into cells here,
  // three times for every widened hit.
  constexpr size_t kMaxRowBytes = 4096;
  if (before == nullptr) return false;
  const auto [last_line, above] = LastTwoLines(before->text);
  const std::string_view rest = std::string_view(after.text);
  const size_t first_break = rest.find('\n');
  const std::string_view first_line = rest.substr(0, first_break);
  const std::string_view below =
      first_break == std::string_view::npos ? std::string_view() : rest.substr(first_break + 1, rest.find('\n', first_break + 1) - first_break - 1);
  for (std::string_view line : {last_line, above, first_line, below}) {
    if (line.size() > kMaxRowBytes) return false;
  }
  const TableLine last = ReadTableLine(last_line), first = ReadTableLine(first_line);
  if (last.kind != TableLineKind::kRow || first.kind != TableLineKind::kRow || last.cells.size() != first.cells.size()) {
    return false;
  }
  auto as_wide = [&](std::string_view line) {
    const TableLine read = ReadTableLine(line);
    return read.kind == TableLineKind::kRow && read.cells.size() == last.cells.size();
  };
  return as_wide(above) || as_wide(below);
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
