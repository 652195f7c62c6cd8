// Sentences a report can quote from a retrieved passage, and the headings it can borrow.
//
// Passages come from documents as they were extracted — PDF text broken into short lines (with
// blank lines between them), Markdown, plain prose — so lines are joined first (no space
// between two Chinese characters, one space between Latin words) and the text is then cut at
// sentence ends: Chinese 。！？； and Latin . ! ? ; followed by a space or the end (a decimal
// point is no sentence end), closing quotes and brackets staying with their sentence. A line
// much shorter than the passage's usual line that ends without punctuation is a heading or a
// caption, never the start of the next sentence.
//
// What is not a sentence a reader wants is left out: fragments (no sentence end, or the cut-off
// start of a passage that begins mid-document), page furniture (disclaimers such as
// 请务必阅读正文之后的免责声明, 资料来源 lines, analyst and contact lines, stock recommendations
// naming a security code such as 300418.SZ), table rows and
// text that is mostly digits, and pieces shorter than min_chars.
//
// Sentence text is the passage's own text with its line breaks joined (a word hyphenated across
// a line break, "CINI⁃\nTY", loses the hyphenation mark): NormalizeSpacing(passage) contains
// every sentence verbatim.
#ifndef AGENTD_MEMORY_SENTENCES_H_
#define AGENTD_MEMORY_SENTENCES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memory {

struct SentenceOptions {
  // Shortest and longest sentence kept, in code points. Defaults 12 and 300.
  int min_chars = 12;
  int max_chars = 300;
  // Whether the passage starts where a sentence starts: its document's start, or a search hit
  // widened to whole sentences. When false (a chunk cut from the middle of a document), the
  // text before the first sentence end is a cut-off fragment and dropped.
  bool starts_at_sentence = false;
};

struct PassageSentence {
  std::string text;
  // Code points into the passage as given, [start, end).
  uint64_t start = 0;
  uint64_t end = 0;
  // Sentences only: the words of the numbered or Markdown section heading ("## Why prices rose",
  // "三、", "1.2 ") the sentence sits under in this passage; empty when none precedes it. Not a
  // caption or a short title line, which in text extracted from a PDF often stands beside text
  // of another subject.
  std::string section;
  // Sentences only: a timeline's line (a date, then what happened, no full stop: "1 月 11 日
  // “正式发布” DeepSeek 正式发布官方 APP，并上线 iOS 与安卓应用市场"). It answers "when", and
  // elsewhere reads as a fragment.
  bool timeline_entry = false;
  // Sentences only: it opens a line after a list marker ("- ", "•", "1)", "①"): an item of a
  // list, which the line before it may announce.
  bool list_item = false;
};

struct PassageSentences {
  std::vector<PassageSentence> sentences;
  // Section headings, figure and table captions (without "图 3:"-style labels) and short
  // title lines: phrases in the document's own words that can head a section of a report.
  std::vector<PassageSentence> headings;
};

PassageSentences SplitSentences(std::string_view passage, const SentenceOptions& options);

// The passage's text as sentences are written: lines joined (nothing between two CJK
// characters, otherwise one space), runs of whitespace as one space, trimmed.
std::string NormalizeSpacing(std::string_view text);

}  // namespace memory

#endif  // AGENTD_MEMORY_SENTENCES_H_
