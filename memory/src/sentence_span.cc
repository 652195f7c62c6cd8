#include "sentence_span.h"

#include "leaning.h"

#include "memory/sentences.h"
#include "table_lines.h"
#include "utf8_text.h"

namespace memory::internal {
namespace {

// Where the table whose row ends at `end` ends, when its further rows go on past `end` (a total
// row after a blank line or a rule, cut into the next chunk), within `max` code points of `end`;
// `end` itself otherwise. A span that ends inside a row is left alone: the chunker trimmed the
// whitespace it was cut at, and the window stands in a space for a lost tab, so the row could
// not be rebuilt cell for cell. `text` is the window's UTF-8, `decoded` its code points (from
// `window_start` in the document) and their offsets.
uint64_t TableEnd(std::string_view text, const DecodedText& decoded, uint64_t window_start, uint64_t end, uint64_t max) {
  const std::vector<uint32_t>& cps = decoded.code_points;
  // Lines that end (with a line break: one the window cuts is not whole) within the reach.
  const uint64_t reach = std::min<uint64_t>(cps.size(), end - window_start + max + 1);
  if (end - window_start >= cps.size() || cps[end - window_start] != '\n') return end;
  uint64_t line_start = end - window_start;
  while (line_start > 0 && cps[line_start - 1] != '\n') --line_start;
  if (line_start == end - window_start) return end;  // an empty line is no row
  std::vector<TableLine> lines;
  std::vector<uint64_t> line_ends;  // in the window's code points
  for (uint64_t begin = line_start, i = line_start; i < reach; ++i) {
    if (cps[i] != '\n') continue;
    lines.push_back(ReadTableLine(text.substr(decoded.byte_offsets[begin], decoded.byte_offsets[i] - decoded.byte_offsets[begin])));
    line_ends.push_back(i);
    begin = i + 1;
  }
  if (lines.empty() || lines[0].kind != TableLineKind::kRow) return end;
  const size_t columns = lines[0].cells.size();
  uint64_t table_end = end;
  for (size_t r = NextTableRow(lines, 0, columns); r < lines.size(); r = NextTableRow(lines, r, columns)) {
    table_end = window_start + line_ends[r];
  }
  return table_end;
}

}  // namespace

SentenceSpan WidenToSentences(std::string_view window, uint64_t window_start, bool window_starts_at_sentence,
                              uint64_t start, uint64_t end, const SentenceSpanOptions& options) {
  SentenceSpan span{start, end, start == 0};
  if (start < window_start || end < start) return span;
  const DecodedText decoded = DecodeUtf8(window);
  const std::vector<uint32_t>& cps = decoded.code_points;
  const uint64_t window_end = window_start + cps.size();
  if (end > window_end) return span;
  // The same sentences a report would quote from the window: their boundaries are the ones
  // that matter (a piece the splitter leaves out is no better whole).
  SentenceOptions sentence_options;
  sentence_options.starts_at_sentence = window_starts_at_sentence;
  const PassageSentences sentences = SplitSentences(window, sentence_options);
  // Whether the document's [from, to) is whitespace only.
  auto blank = [&](uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      if (!IsSpace(cps[i - window_start])) return false;
    }
    return true;
  };
  // A chunk that opens with a Markdown heading's line (the chunker cuts before each) starts a
  // unit whole: the heading is no fragment of the line before.
  const bool at_line_start = start == window_start ? window_starts_at_sentence : cps[start - 1 - window_start] == '\n';
  if (start < end && at_line_start && cps[start - window_start] == '#') span.starts_sentence = true;
  auto starts_a_sentence = [&](uint64_t at) {
    for (const PassageSentence& s : sentences.sentences) {
      if (window_start + s.start == at) return true;
    }
    return false;
  };
  // The span's start moved back to take in the sentence starting at s_start (false when that is
  // out of reach of the chunk's start).
  auto start_at = [&](uint64_t s_start) {
    // From the start of the line the sentence starts on: a first line cut short would read as a
    // heading to the splitter (PDF text is short lines of one width); the tail of the sentence
    // before it on that line is a fragment the splitter drops.
    uint64_t line_start = s_start;
    while (line_start > window_start && cps[line_start - 1 - window_start] != '\n') --line_start;
    // Only a short line (PDF text: its end seen, within the widening of its start) is taken from
    // its start: a line of prose may run back past the window, whose start is then no line's
    // start.
    uint64_t line_end = s_start;
    while (line_end < window_end && cps[line_end - window_start] != '\n') ++line_end;
    const bool short_line = line_end < window_end && line_end - line_start <= options.max_widening;
    if (short_line && start - line_start <= options.max_widening) {
      span.start = line_start;
      // (A line that opens with a whole sentence of its own starts one too: "The order backlog
      // stood at $540 million…" before "Two thirds of the backlog…" on its line was read as a
      // fragment and dropped.)
      span.starts_sentence = blank(line_start, s_start) || starts_a_sentence(line_start);
      return true;
    }
    if (start - s_start <= options.max_widening) {
      span.start = s_start;  // a long line (prose): its start is no heading either way
      span.starts_sentence = true;
      return true;
    }
    return false;
  };
  for (const PassageSentence& s : sentences.sentences) {
    const uint64_t s_start = window_start + s.start, s_end = window_start + s.end;
    if (s_start < start && start < s_end) {
      start_at(s_start);
    } else if (s_start >= start && s_start < end && blank(start, s_start)) {
      // The chunk begins with a whole sentence. One that begins inside a line (the chunker cut
      // after "…较此前翻倍。") is taken from the line's start too: its first line, cut short,
      // read as a heading ("中国科技龙头在 AI 的投入，有望跟随美" headed a report's section).
      // (Not a table's row: its cells are no PDF line, and from the row's start the table below
      // it would be quoted under that row as its header.)
      uint64_t line_start = s_start;
      bool in_row = false;
      while (line_start > window_start && cps[line_start - 1 - window_start] != '\n') {
        --line_start;
        in_row = in_row || cps[line_start - window_start] == '\t';
      }
      if (in_row || blank(line_start, s_start) || !start_at(s_start)) span.starts_sentence = true;
    }
    if (s_start < end && end < s_end && s_end - end <= options.max_widening) {
      span.end = s_end;
    }
  }
  // A span that starts with a sentence leaning on the one before it ("这可能会对……产生正面影响",
  // "它打破了……": a chunk cut right after its subject) takes that one in too, when it lies just
  // before and within reach: quoted alone, its pronoun would name nothing.
  if (span.starts_sentence) {
    for (size_t i = 1; i < sentences.sentences.size(); ++i) {
      const PassageSentence& s = sentences.sentences[i];
      const PassageSentence& before = sentences.sentences[i - 1];
      const uint64_t s_start = window_start + s.start, before_start = window_start + before.start;
      if (s_start < span.start || !blank(span.start, s_start)) continue;
      if (LeansOnPredecessor(s.text) && StandsAlone(before.text) == 1.0 && FollowsDirectly(before, s) &&
          before_start < span.start) {
        const SentenceSpan kept = span;
        if (!start_at(before_start)) span = kept;
      }
      break;
    }
  }
  // A span that ends with one side ("有业内人士向记者表示，这一方面是因为…导致特效厅需求受到冲击；"; a
  // chunk cut right after it) takes the other ("另一方面，影院需要考量…") in too, when it follows in
  // the same paragraph within reach: quoted alone, the first promised a second half the report
  // never gave.
  for (size_t i = 0; i + 1 < sentences.sentences.size(); ++i) {
    const PassageSentence& s = sentences.sentences[i];
    const PassageSentence& after = sentences.sentences[i + 1];
    const uint64_t s_end = window_start + s.end, after_end = window_start + after.end;
    if (s_end > span.end || !blank(s_end, span.end) || window_start + after.start < span.end) continue;
    // So does a span that ends on a list's announcement ("天工 AI 搜索呈现的具体特点包括：", the
    // chunk cut before the list): it takes the first item, which the announcement is quoted with
    // (the ranker drops an announcement whose list is not in its passage, and it was the line
    // that named what the list is of).
    const bool brings_the_other = OneSideAnnouncesTheOther(s.text, after.text) && InSameParagraph(s, after);
    const bool brings_the_list = AnnouncesAList(s.text) && !after.timeline_entry;
    const uint64_t reach = span.end + options.max_widening;
    if ((brings_the_other || brings_the_list) && after_end <= reach) {
      span.end = after_end;
      // The list's further items too, line by line, as far as the reach goes.
      for (size_t k = i + 2; brings_the_list && after.list_item && k < sentences.sentences.size(); ++k) {
        const PassageSentence& item = sentences.sentences[k];
        if (!item.list_item || item.timeline_entry || window_start + item.end > reach) break;
        span.end = window_start + item.end;
      }
    }
    break;
  }
  // A chunk cut after a table's row leaves the rows that follow it (a total row set apart on the
  // page) to the next chunk, where they are no table: they come along.
  if (span.end == end && start < end) span.end = TableEnd(window, decoded, window_start, end, options.max_widening);
  return span;
}

}  // namespace memory::internal
