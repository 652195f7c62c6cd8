// Readable text from an HTML page, for web_fetch: the title, and the body with scripts, styles
// and tags removed, block elements turned into line breaks, entities decoded and blank runs
// collapsed.
#ifndef AGENTD_TOOLS_HTML_TEXT_H_
#define AGENTD_TOOLS_HTML_TEXT_H_

#include <string>

namespace tools::internal {

struct PageText {
  std::string title;
  std::string text;
};

PageText HtmlToText(const std::string& html);

}  // namespace tools::internal

#endif  // AGENTD_TOOLS_HTML_TEXT_H_
