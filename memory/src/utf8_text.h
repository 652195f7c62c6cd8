// Decoding UTF-8 into code points with their byte offsets, shared by the chunker and the
// lexical analyser. Invalid bytes (overlong forms and surrogates included) decode as themselves,
// one "code point" each (never lost).
#ifndef AGENTD_MEMORY_UTF8_TEXT_H_
#define AGENTD_MEMORY_UTF8_TEXT_H_

#include <cstdint>
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

// The text with each byte DecodeUtf8 refuses replaced by U+FFFD: the same code points, counted
// the same, in valid UTF-8 (which the store's JSON records and a browser keep as they are).
std::string ReplaceInvalidBytes(std::string_view text);

bool IsCjk(uint32_t cp);
bool IsSpace(uint32_t cp);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_UTF8_TEXT_H_
