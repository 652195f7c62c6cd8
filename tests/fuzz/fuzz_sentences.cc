// libFuzzer target: a retrieved passage (any text a tenant ingested) split into the sentences a
// report may quote, and a chunk of it widened to whole sentences (memory/src/sentence_span.h),
// as search and the report plan do. The first four bytes choose the chunk's edges and how far
// they may move. Every sentence must lie inside the passage and be found verbatim in its
// NormalizeSpacing; the widened span must hold the chunk, stay inside the window and move each
// edge at most as far as allowed. The answer-type cue (answer_type.h) reads the text and every
// sentence without failing. Ranking the passage (without an embedding model) under a focus
// heading taken from the text itself returns sentences of the passage (its control characters
// as spaces, as the ranker reads a passage), each `next` one of them. The text less the wholes it
// gives a share of (share_of_whole.h) is never longer than the text, and its lexical terms in
// every analyzer version are non-empty.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "answer_type.h"
#include "memory/chunker.h"
#include "memory/lexical.h"
#include "memory/sentence_ranker.h"
#include "memory/sentences.h"
#include "sentence_span.h"
#include "share_of_whole.h"
#include "utf8_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 4), size - 4);
  const uint64_t length = memory::CodePointCount(text);
  const std::string normalized = memory::NormalizeSpacing(text);
  for (const bool starts : {false, true}) {
    const memory::PassageSentences found = memory::SplitSentences(text, {.starts_at_sentence = starts});
    for (const memory::PassageSentence& s : found.sentences) {
      if (s.start >= s.end || s.end > length) __builtin_trap();
      if (normalized.find(s.text) == std::string::npos) __builtin_trap();
      // The answer-type cue reads every quoted sentence (and questions, as this text could be).
      if (!memory::internal::Offers(memory::internal::AnswerType::kAny, s.text)) __builtin_trap();
      const std::string_view section = found.headings.empty() ? std::string_view() : found.headings[0].text;
      for (const auto type : {memory::internal::AnswerType::kCount, memory::internal::AnswerType::kQuantity,
                              memory::internal::AnswerType::kTime, memory::internal::AnswerType::kReason}) {
        (void)memory::internal::Offers(type, s.text, section);
      }
    }
    (void)memory::internal::AnswerTypeOf(text);
    for (const memory::PassageSentence& h : found.headings) {
      if (h.start >= h.end || h.end > length) __builtin_trap();
    }
  }
  if (memory::internal::WithoutWholes(text).size() > text.size()) __builtin_trap();
  (void)memory::internal::AsksForAShare(text);
  for (int version = 1; version <= memory::kLexicalVersion; ++version) {
    for (const std::string& term : memory::LexicalTerms(text.substr(0, 4096), version)) {
      if (term.empty()) __builtin_trap();
    }
  }
  {
    const std::vector<memory::PassageInput> passages = {{std::string(text), (data[3] & 2) != 0, "title"}};
    memory::SentenceRankOptions rank{.k = 16};
    const memory::PassageSentences found = memory::SplitSentences(text, {});
    if (!found.headings.empty()) rank.focus = found.headings[0].text;
    rank.background = std::string(text.substr(0, 64));
    auto ranked = memory::RankSentences(nullptr, std::string(text.substr(0, 128)), passages, rank);
    const std::string read = memory::NormalizeSpacing(memory::internal::StorableText(text));
    for (const memory::RankedSentence& s : ranked.ok() ? ranked->sentences : std::vector<memory::RankedSentence>{}) {
      if (read.find(s.text) == std::string::npos) __builtin_trap();
      // A quote offered without its opening "另外，" starts later in the passage, never past its end.
      if (s.start >= s.end || s.end > length) __builtin_trap();
      if (!s.next.empty() && read.find(s.next) == std::string::npos) __builtin_trap();
    }
  }
  // A chunk [start, end) of the window, which starts at document offset 1000.
  const uint64_t window_start = 1000;
  const uint64_t start = length == 0 ? 0 : data[0] * length / 256;
  const uint64_t end = start + (length - start) * data[1] / 255;
  const memory::internal::SentenceSpanOptions options{.max_widening = static_cast<uint64_t>(data[2]) * 4};
  const memory::internal::SentenceSpan span = memory::internal::WidenToSentences(
      text, window_start, (data[3] & 1) != 0, window_start + start, window_start + end, options);
  if (span.start > window_start + start || span.end < window_start + end) __builtin_trap();
  if (span.start < window_start || span.end > window_start + length) __builtin_trap();
  if (window_start + start - span.start > options.max_widening || span.end - (window_start + end) > options.max_widening) {
    __builtin_trap();
  }
  return 0;
}
