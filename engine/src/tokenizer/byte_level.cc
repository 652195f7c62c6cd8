#include "tokenizer/byte_level.h"

#include <vector>

namespace engine::tokenizer {
namespace {

struct Alphabet {
  std::array<uint32_t, 256> code_point{};
  std::array<std::string, 256> utf8;
  std::vector<int> byte_of;  // code point → byte, -1 outside the alphabet

  Alphabet() {
    auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
    uint32_t next = 256;
    byte_of.assign(512, -1);
    for (int b = 0; b < 256; ++b) {
      code_point[b] = printable(b) ? static_cast<uint32_t>(b) : next++;
      AppendUtf8(code_point[b], &utf8[b]);
      byte_of[code_point[b]] = b;
    }
  }
};

const Alphabet& GetAlphabet() {
  static const Alphabet alphabet;
  return alphabet;
}

}  // namespace

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

uint32_t NextCodePoint(const std::string& s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int length = b0 < 0x80 ? 1 : b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc0 ? 2 : 0;
  if (length == 0 || *i + length > s.size()) {
    ++*i;
    return 0xfffd;
  }
  uint32_t cp = length == 1 ? b0 : length == 2 ? (b0 & 0x1f) : length == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (int k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[*i + k]) & 0x3f);
  *i += length;
  return cp;
}

uint32_t ByteToCodePoint(uint8_t b) { return GetAlphabet().code_point[b]; }
const std::string& ByteToUtf8(uint8_t b) { return GetAlphabet().utf8[b]; }

std::optional<std::string> SpellingToBytes(const std::string& spelling) {
  const Alphabet& alphabet = GetAlphabet();
  std::string bytes;
  size_t i = 0;
  while (i < spelling.size()) {
    uint32_t cp = NextCodePoint(spelling, &i);
    if (cp >= alphabet.byte_of.size() || alphabet.byte_of[cp] < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(alphabet.byte_of[cp]));
  }
  return bytes;
}

}  // namespace engine::tokenizer
