// Readable text from an HTML page: the title, and the body with scripts, styles and tags
// removed, block elements turned into line breaks, entities decoded and blank runs collapsed.
// web_fetch reads the pages it fetches with it, and `agentctl memory ingest` the HTML files it
// is given. Any bytes are safe to pass (a hostile server's page is; tests/fuzz/fuzz_html_text).
//
//   tools::PageText page = tools::HtmlToText(html);   // page.title, page.text
#ifndef AGENTD_TOOLS_HTML_TEXT_H_
#define AGENTD_TOOLS_HTML_TEXT_H_

#include <string>

namespace tools {

struct PageText {
  std::string title;
  std::string text;
};

PageText HtmlToText(const std::string& html);

}  // namespace tools

#endif  // AGENTD_TOOLS_HTML_TEXT_H_
