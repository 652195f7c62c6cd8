#include "terminal_text.h"

#include <unistd.h>

namespace agentctl {
namespace {

bool StartsCharacter(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

}  // namespace

std::string Printable(const std::string& text, bool keep_lines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (keep_lines && c == '\n') {
      out += '\n';
    } else if (c == '\n' || c == '\r' || c == '\t') {
      out += ' ';
    } else if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      out += '?';  // U+0080..U+009F, the C1 controls
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string ForStream(const std::string& text, std::FILE* stream) {
  return isatty(fileno(stream)) != 0 ? Printable(text, true) : text;
}

std::string Clip(const std::string& text, size_t max_chars) {
  size_t chars = 0, i = 0;
  for (; i < text.size(); ++i) {
    if (StartsCharacter(text[i]) && chars++ == max_chars) break;
  }
  return Printable(text.substr(0, i)) + (i < text.size() ? "…" : "");
}

std::string ClipFront(const std::string& text, size_t max_chars) {
  size_t chars = 0, i = text.size();
  while (i > 0) {
    if (StartsCharacter(text[i - 1]) && chars++ == max_chars) break;
    --i;
  }
  return (i > 0 ? "…" : "") + Printable(text.substr(i));
}

}  // namespace agentctl
