// Widening a retrieved chunk to whole sentences. A chunk is cut by length, so it usually starts
// and ends inside a sentence, and a quote-grounded report can use neither piece: the sentence
// splitter drops a cut-off start and an end without a sentence end. Given the stretch of the
// document around the chunk (its neighbours, stitched), the span moves out to the sentence
// boundaries it fell inside, when they are near (the start to the beginning of the line that
// sentence starts on); the retrieval score is the chunk's, unchanged.
#ifndef AGENTD_MEMORY_SENTENCE_SPAN_H_
#define AGENTD_MEMORY_SENTENCE_SPAN_H_

#include <cstdint>
#include <string_view>

namespace memory::internal {

struct SentenceSpan {
  uint64_t start = 0, end = 0;  // code points into the document
  // Whether `start` is where a sentence begins, so the text's first piece is whole.
  bool starts_sentence = false;
};

struct SentenceSpanOptions {
  // How far either edge may move, in code points. Default 300 (SentenceOptions' longest sentence).
  uint64_t max_widening = 300;
};

// `window` is the document's code points [window_start, window_start + its length); it holds
// the chunk [start, end) and, for the edges to move, some text on either side.
// `window_starts_at_sentence`: whether window_start is where a sentence starts — the document's
// first text (what comes before the first sentence end is then a sentence, not a fragment). An
// edge the window cannot settle stays where it is. A chunk that opens with a Markdown heading's
// line starts a unit whole (starts_sentence). A chunk that ends with a table's row takes the
// table's rows that follow, past blank lines and rules (table_lines.h).
SentenceSpan WidenToSentences(std::string_view window, uint64_t window_start, bool window_starts_at_sentence,
                              uint64_t start, uint64_t end, const SentenceSpanOptions& options = {});

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_SENTENCE_SPAN_H_
