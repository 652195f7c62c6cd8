// GPT-2's byte-level alphabet: each of the 256 byte values is given a printable Unicode
// character (printable ASCII and Latin-1 map to themselves, the rest to U+0100 onward), so any
// byte string is spelled with vocabulary characters and spaces show as "Ġ".
#ifndef AGENTD_ENGINE_TOKENIZER_BYTE_LEVEL_H_
#define AGENTD_ENGINE_TOKENIZER_BYTE_LEVEL_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace engine::tokenizer {

// The code point standing for byte b.
uint32_t ByteToCodePoint(uint8_t b);
// The UTF-8 spelling of that code point.
const std::string& ByteToUtf8(uint8_t b);
// The bytes a vocabulary spelling stands for; nullopt when a character is outside the alphabet
// (added tokens such as "<｜User｜>" then decode to their own UTF-8).
std::optional<std::string> SpellingToBytes(const std::string& spelling);

// Appends the UTF-8 encoding of a code point.
void AppendUtf8(uint32_t code_point, std::string* out);
// Decodes one code point at s[*i] and advances *i; invalid bytes come back as U+FFFD.
uint32_t NextCodePoint(const std::string& s, size_t* i);

}  // namespace engine::tokenizer

#endif  // AGENTD_ENGINE_TOKENIZER_BYTE_LEVEL_H_
