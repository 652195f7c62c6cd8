#include "tools/html_text.h"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace tools {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

void AppendCodePoint(unsigned long cp, std::string* out) {
  utf8proc_uint8_t buffer[4];
  if (cp > 0x10ffff) return;
  // "&#xD800;" and "&#0;" name no character a text may hold (a surrogate written alone is not
  // UTF-8; a page's text went to the daemon as bytes its request parser refused, and the batch
  // with it): the replacement character, as HTML's own parsing does.
  if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buffer);
  out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

std::string DecodeEntities(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    // An entity is a name or a number ending in ';' within 10 bytes. Searching the rest of the
    // page for ';' at every '&' was quadratic (5 MB of '&' took minutes), and took "&\n\nA &amp;"
    // for one entity.
    size_t end = std::string::npos;
    for (size_t k = i + 1; k < s.size() && k <= i + 11; ++k) {
      if (s[k] == ';') end = k;
      if (!std::isalnum(static_cast<unsigned char>(s[k])) && s[k] != '#') break;
    }
    if (end == std::string::npos || end - i > 10) {
      out.push_back('&');
      continue;
    }
    const std::string name = s.substr(i + 1, end - i - 1);
    if (name == "amp") out += '&';
    else if (name == "lt") out += '<';
    else if (name == "gt") out += '>';
    else if (name == "quot") out += '"';
    else if (name == "apos" || name == "#39") out += '\'';
    else if (name == "nbsp") out += ' ';
    else if (!name.empty() && name[0] == '#') {
      const unsigned long cp = name.size() > 1 && (name[1] == 'x' || name[1] == 'X') ? std::strtoul(name.c_str() + 2, nullptr, 16)
                                                                                     : std::strtoul(name.c_str() + 1, nullptr, 10);
      AppendCodePoint(cp, &out);
    } else {
      out += s.substr(i, end - i + 1);
    }
    i = end;
  }
  return out;
}

}  // namespace

PageText HtmlToText(const std::string& html) {
  PageText page;
  const std::string lower = Lower(html);
  std::string raw;
  size_t i = 0;
  while (i < html.size()) {
    if (html[i] != '<') {
      raw.push_back(html[i++]);
      continue;
    }
    const size_t close = html.find('>', i);
    if (close == std::string::npos) break;
    std::string tag = lower.substr(i + 1, close - i - 1);
    const bool closing = !tag.empty() && tag[0] == '/';
    if (closing) tag = tag.substr(1);
    tag = tag.substr(0, tag.find_first_of(" \t\r\n/"));
    if (!closing && (tag == "script" || tag == "style" || tag == "noscript")) {
      const size_t end = lower.find("</" + tag, close);
      const size_t end_close = end == std::string::npos ? std::string::npos : lower.find('>', end);
      // A page cut off inside the closing tag ends here too (npos + 1 would wrap to 0 and loop).
      i = end_close == std::string::npos ? html.size() : end_close + 1;
      continue;
    }
    if (!closing && tag == "title") {
      const size_t end = lower.find("</title", close);
      if (end != std::string::npos) page.title = DecodeEntities(html.substr(close + 1, end - close - 1));
      const size_t end_close = end == std::string::npos ? std::string::npos : lower.find('>', end);
      i = end_close == std::string::npos ? html.size() : end_close + 1;
      continue;
    }
    static const char* blocks[] = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table"};
    for (const char* b : blocks) {
      if (tag == b) raw += '\n';
    }
    i = close + 1;
  }
  const std::string decoded = DecodeEntities(raw);
  // Collapse spaces within lines and blank lines between them.
  std::string text;
  bool space = false;
  int newlines = 0;
  for (char c : decoded) {
    if (c == '\n') {
      ++newlines;
      space = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (!text.empty()) {
      if (newlines > 0) text += newlines > 1 ? "\n\n" : "\n";
      else if (space) text += ' ';
    }
    newlines = 0;
    space = false;
    text.push_back(c);
  }
  page.text = text;
  return page;
}

}  // namespace tools
