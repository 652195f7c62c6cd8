#include "memory/chunker.h"

#include <algorithm>

#include "utf8_text.h"

namespace memory {
namespace {

using internal::DecodedText;
using internal::IsSpace;

bool IsSentenceEnd(uint32_t cp) {
  return cp == 0x3002 /*。*/ || cp == 0xff01 /*！*/ || cp == 0xff1f /*？*/ || cp == 0xff1b /*；*/ ||
         cp == '.' || cp == '!' || cp == '?' || cp == ';';
}

bool IsClosing(uint32_t cp) {
  return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201d /*”*/ || cp == 0x2019 ||
         cp == 0x300d /*」*/ || cp == 0x300f || cp == 0xff09 /*）*/ || cp == 0x3011 /*】*/;
}

// Where a unit (sentence, heading line, paragraph tail) begins and whether a chunk must begin
// there (Markdown headings).
struct Unit {
  size_t start, end;
  bool heading;
};

std::vector<Unit> SplitUnits(const std::vector<uint32_t>& cps) {
  std::vector<Unit> units;
  const size_t n = cps.size();
  size_t start = 0;
  auto emit = [&](size_t end, bool heading) {
    if (end > start) units.push_back({start, end, heading});
    start = end;
  };
  size_t i = 0;
  while (i < n) {
    const bool line_start = i == 0 || cps[i - 1] == '\n';
    if (line_start && cps[i] == '#') {
      // A Markdown heading: its own unit up to the end of its line, and a forced cut before it.
      emit(i, false);
      size_t j = i;
      while (j < n && cps[j] != '\n') ++j;
      while (j < n && IsSpace(cps[j])) ++j;
      units.push_back({i, j, true});
      start = i = j;
      continue;
    }
    const uint32_t cp = cps[i];
    if (cp == '\n' && i + 1 < n && cps[i + 1] == '\n') {
      // Paragraph break: the unit ends after the blank lines.
      size_t j = i;
      while (j < n && IsSpace(cps[j])) ++j;
      emit(j, false);
      i = j;
      continue;
    }
    if (IsSentenceEnd(cp)) {
      size_t j = i + 1;
      while (j < n && (IsSentenceEnd(cps[j]) || IsClosing(cps[j]))) ++j;
      // Latin punctuation ends a sentence only before whitespace (not "72.6" or "e.g.x").
      const bool latin = cp < 0x80;
      if (!latin || j == n || IsSpace(cps[j])) {
        while (j < n && IsSpace(cps[j])) ++j;
        emit(j, false);
        i = j;
        continue;
      }
    }
    ++i;
  }
  emit(n, false);
  return units;
}

// Splits a unit longer than `max` after a line break where there is one in the second half of
// the piece, else at other whitespace where possible. A long unit is mostly a table (rows
// without sentence ends): cut between rows, each piece keeps whole rows, where a cut at a tab
// left a row split across two chunks, its cells unknowable from either.
void SplitLong(const std::vector<uint32_t>& cps, const Unit& unit, size_t max, std::vector<Unit>* out) {
  size_t start = unit.start;
  bool heading = unit.heading;
  while (unit.end - start > max) {
    size_t cut = start + max;
    size_t space = cut;
    while (space > start + max / 2 && cps[space - 1] != '\n') --space;
    if (space == start + max / 2) {
      space = cut;
      while (space > start + max / 2 && !IsSpace(cps[space - 1])) --space;
    }
    if (space > start + max / 2) cut = space;
    out->push_back({start, cut, heading});
    heading = false;
    start = cut;
  }
  out->push_back({start, unit.end, heading});
}

}  // namespace

uint64_t CodePointCount(std::string_view text) { return internal::DecodeUtf8(text).code_points.size(); }

std::vector<Chunk> ChunkText(std::string_view text, const ChunkingOptions& options) {
  const DecodedText decoded = internal::DecodeUtf8(text);
  const std::vector<uint32_t>& cps = decoded.code_points;
  const size_t max = static_cast<size_t>(std::max(options.max_chars, 16));
  const size_t overlap = static_cast<size_t>(std::clamp(options.overlap_chars, 0, options.max_chars - 1));

  std::vector<Unit> units;
  for (const Unit& u : SplitUnits(cps)) SplitLong(cps, u, max, &units);

  std::vector<Chunk> chunks;
  auto add_chunk = [&](size_t start, size_t end) {
    // Trim surrounding whitespace; the offsets still point at exactly the text kept.
    while (start < end && IsSpace(cps[start])) ++start;
    while (end > start && IsSpace(cps[end - 1])) --end;
    if (end <= start) return;
    Chunk c;
    c.start = start;
    c.end = end;
    c.text = std::string(text.substr(decoded.byte_offsets[start], decoded.byte_offsets[end] - decoded.byte_offsets[start]));
    chunks.push_back(std::move(c));
  };

  size_t u = 0;
  while (u < units.size()) {
    size_t chunk_start = units[u].start;
    size_t v = u;
    size_t end = units[v].end;
    ++v;
    while (v < units.size() && !units[v].heading && units[v].end - chunk_start <= max) end = units[v++].end;
    add_chunk(chunk_start, end);
    if (v >= units.size()) break;
    // The next chunk starts with the last units of this one that fit in `overlap` (never at a
    // heading, which starts fresh), so a sentence cut off here is whole in the next chunk.
    size_t next = v;
    if (!units[v].heading && overlap > 0) {
      while (next - 1 > u && end - units[next - 1].start <= overlap) --next;
    }
    u = next;
  }
  // A chunk across a break is cut there in two, the others left as they are: the break is
  // where one story ends and another begins, and every other passage of the document stays
  // what retrieval has always found.
  if (options.breaks.empty()) return chunks;
  std::vector<uint64_t> breaks = options.breaks;
  std::sort(breaks.begin(), breaks.end());
  const std::vector<Chunk> whole = std::move(chunks);
  chunks.clear();
  for (const Chunk& c : whole) {
    uint64_t from = c.start;
    for (auto b = std::upper_bound(breaks.begin(), breaks.end(), c.start); b != breaks.end() && *b < c.end; ++b) {
      add_chunk(from, *b);
      from = *b;
    }
    if (from == c.start) {
      chunks.push_back(c);
    } else {
      add_chunk(from, c.end);
    }
  }
  // Pieces of two overlapping chunks cut at one break can repeat each other or lie inside another
  // chunk, and so can two chunks trimmed to the same text between runs of spacing: those go, and
  // the rest keep their starts and ends rising (as ReadPassage expects). (Only here: dropping
  // the trimmed repeats of every document moved which passages a search returns from the
  // PDF-extracted seed reports — zh-50's 天工 timeline lost its 2024 items.)
  std::sort(chunks.begin(), chunks.end(),
            [](const Chunk& a, const Chunk& b) { return a.start < b.start || (a.start == b.start && a.end > b.end); });
  std::vector<Chunk> kept;
  kept.reserve(chunks.size());
  for (Chunk& c : chunks) {
    if (!kept.empty() && c.end <= kept.back().end) continue;
    kept.push_back(std::move(c));
  }
  return kept;
}

}  // namespace memory
