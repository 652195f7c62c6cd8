// libFuzzer target: a web page's bytes into readable text, as web_fetch does with any page a
// plan asks for. Must end (no loop on a page cut anywhere) and never read outside the input.
#include <cstdint>
#include <string>

#include "tools/html_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string html(reinterpret_cast<const char*>(data), size);
  tools::PageText page = tools::HtmlToText(html);
  if (page.text.size() > 4 * html.size() + 64) __builtin_trap();  // text comes from the page
  return 0;
}
