#include "passage_window.h"

#include <algorithm>

#include "utf8_text.h"

namespace memory::internal {
namespace {

void AppendGap(uint64_t length, std::string* out) {
  if (length == 1) {
    out->push_back(' ');
  } else {
    out->append(length, '\n');
  }
}

}  // namespace

std::string StitchWindow(const std::vector<StoredChunk>& chunks, uint64_t window_start, uint64_t window_end) {
  std::string out;
  uint64_t cursor = window_start;  // the next document code point to write
  for (const StoredChunk& chunk : chunks) {
    if (cursor >= window_end) break;
    if (chunk.end <= cursor || chunk.start >= window_end || chunk.end <= chunk.start) continue;
    if (chunk.start > cursor) {
      AppendGap(chunk.start - cursor, &out);
      cursor = chunk.start;
    }
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
  if (cursor < window_end) AppendGap(window_end - cursor, &out);
  return out;
}

}  // namespace memory::internal
