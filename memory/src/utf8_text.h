// Decoding UTF-8 into code points with their byte offsets, shared by the chunker and the
// lexical analyser. Invalid bytes (overlong forms and surrogates included) decode as themselves,
// one "code point" each (never lost).
#ifndef AGENTD_MEMORY_UTF8_TEXT_H_
#define AGENTD_MEMORY_UTF8_TEXT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace memory::internal {

struct DecodedText {
  std::vector<uint32_t> code_points;
  // byte_offsets[i] is where code point i starts; byte_offsets[size] == text size.
  std::vector<size_t> byte_offsets;
};

DecodedText DecodeUtf8(std::string_view text);

// The text as the store keeps it: each byte DecodeUtf8 refuses as U+FFFD and each control
// character other than spacing (tab, line and page breaks) as a space — the same code points,
// counted the same, in valid UTF-8 (which the store's JSON records and a browser keep as they
// are). A document's ESC and OSC sequences, backspaces and C1 controls would otherwise reach a
// reader's terminal in its quotes; as spaces they are neither obeyed nor do they spoil a
// sentence (a U+FFFD would make a lossy conversion's sentence look damaged).
std::string StorableText(std::string_view text);

// StorableText on one line (tabs and line breaks as spaces): a title or a source, which a report
// prints on its References line — a carriage return there wrote over the line on a terminal.
std::string OneLineText(std::string_view text);

// `text` with its ASCII letters in lower case (other bytes as they are).
std::string AsciiLower(std::string_view text);

bool IsCjk(uint32_t cp);
bool IsSpace(uint32_t cp);

// Where a stretch of at most `max_bytes` ending at `end` may start in `text`: `end - max_bytes`
// (0 when nearer the start), moved on to a character's first byte so that no character is cut.
size_t StartWithin(std::string_view text, size_t end, size_t max_bytes);

// `text` with each occurrence of one of `words` as a full-width comma, which ends a run of CJK
// character pairs (a space would not: memory/lexical.h reads Chinese on across spacing). At each
// place the first of `words` that matches is taken: list a word before the shorter ones inside
// it ("一季度" before "季度"). One pass, linear in the text for a fixed list (a query is a tenant's
// text, megabytes of it possible: one replace per occurrence moved the rest each time).
std::string WordsAsBreaks(std::string_view text, std::span<const std::string_view> words);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_UTF8_TEXT_H_
