#include "utf8_text.h"

#include <cctype>

#include <utf8proc.h>

namespace memory::internal {

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

DecodedText DecodeUtf8(std::string_view s) {
  DecodedText out;
  out.code_points.reserve(s.size());
  out.byte_offsets.reserve(s.size() + 1);
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  const auto size = static_cast<utf8proc_ssize_t>(s.size());
  // utf8proc's decoder is strict (no overlong forms, no surrogates, nothing past U+10FFFF), as
  // everywhere else in the project; a byte it refuses stands for itself.
  for (utf8proc_ssize_t i = 0; i < size;) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t length = utf8proc_iterate(bytes + i, size - i, &cp);
    if (length <= 0) {
      cp = bytes[i];
      length = 1;
    }
    out.code_points.push_back(static_cast<uint32_t>(cp));
    out.byte_offsets.push_back(static_cast<size_t>(i));
    i += length;
  }
  out.byte_offsets.push_back(s.size());
  return out;
}

namespace {

std::string ReplaceControls(std::string_view text, bool one_line) {
  const DecodedText decoded = DecodeUtf8(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < decoded.code_points.size(); ++i) {
    const size_t from = decoded.byte_offsets[i], length = decoded.byte_offsets[i + 1] - from;
    const uint32_t cp = decoded.code_points[i];
    const bool spacing = cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v';
    const bool control = (cp < 0x20 && !spacing) || (cp >= 0x7f && cp <= 0x9f);
    if (length == 1 && static_cast<unsigned char>(text[from]) >= 0x80) {
      out += "\xEF\xBF\xBD";
    } else if (control || (spacing && one_line)) {
      out += ' ';
    } else {
      out.append(text, from, length);
    }
  }
  return out;
}

}  // namespace

std::string StorableText(std::string_view text) { return ReplaceControls(text, false); }

std::string OneLineText(std::string_view text) { return ReplaceControls(text, true); }

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

size_t StartWithin(std::string_view text, size_t end, size_t max_bytes) {
  size_t start = end > max_bytes ? end - max_bytes : 0;
  while (start < end && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return start;
}

std::string WordsAsBreaks(std::string_view text, std::span<const std::string_view> words) {
  std::string out;
  out.reserve(text.size());
  for (size_t at = 0; at < text.size();) {
    size_t matched = 0;
    for (std::string_view word : words) {
      if (!word.empty() && text.substr(at, word.size()) == word) {
        matched = word.size();
        break;
      }
    }
    if (matched > 0) {
      out += "\xef\xbc\x8c";  // ，
      at += matched;
    } else {
      out.push_back(text[at++]);
    }
  }
  return out;
}

}  // namespace memory::internal
