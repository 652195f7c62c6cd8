#include "utf8_text.h"

namespace memory::internal {

DecodedText DecodeUtf8(std::string_view s) {
  DecodedText out;
  out.code_points.reserve(s.size());
  out.byte_offsets.reserve(s.size() + 1);
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int length = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xe ? 3 : (b0 >> 3) == 0x1e ? 4 : 0;
    bool valid = length > 0 && i + length <= s.size();
    for (int k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    uint32_t cp;
    if (!valid) {
      cp = b0;
      length = 1;
    } else if (length == 1) {
      cp = b0;
    } else {
      cp = length == 2 ? (b0 & 0x1f) : length == 3 ? (b0 & 0x0f) : (b0 & 0x07);
      for (int k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    }
    out.code_points.push_back(cp);
    out.byte_offsets.push_back(i);
    i += static_cast<size_t>(length);
  }
  out.byte_offsets.push_back(s.size());
  return out;
}

bool IsCjk(uint32_t cp) {
  return (cp >= 0x4e00 && cp <= 0x9fff) ||   // CJK unified ideographs
         (cp >= 0x3400 && cp <= 0x4dbf) ||   // extension A
         (cp >= 0x20000 && cp <= 0x2ebef) ||  // extensions B-F
         (cp >= 0xf900 && cp <= 0xfaff) ||   // compatibility ideographs
         (cp >= 0x3040 && cp <= 0x30ff) ||   // hiragana, katakana
         (cp >= 0xac00 && cp <= 0xd7af);     // hangul syllables
}

bool IsSpace(uint32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' || cp == 0xa0 ||
         cp == 0x3000 || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x202f || cp == 0x205f || cp == 0xfeff;
}

}  // namespace memory::internal
