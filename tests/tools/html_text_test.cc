// The web page → text step of web_fetch, on pages a hostile server could send.
#include "tools/html_text.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tools {
namespace {

TEST(HtmlTextTest, PagesCutOffInsideAClosingTagEnd) {
  // Each of these once looped forever: the closing tag's '>' is missing, and npos + 1 wrapped
  // the scan back to the start of the page.
  for (const std::string& html : {std::string("<p>a</p><script>x()</script"), std::string("<title>t</title"),
                                  std::string("<style>p{}</style"), std::string("<noscript>n</noscript")}) {
    PageText page = HtmlToText(html);
    EXPECT_EQ(page.text.find("x()"), std::string::npos) << html;
  }
  EXPECT_THAT(HtmlToText("<p>kept</p><script>x()</script").text, ::testing::HasSubstr("kept"));
}

TEST(HtmlTextTest, AmpersandsWithoutEntitiesAreKeptAndCostLittle) {
  // Each '&' once searched the rest of the page for ';': 5 MB of them ran for minutes.
  const std::string page = "<html><body><p>" + std::string(5 << 20, '&') + "</p><p>A &amp; B &#x6DF1; C &bogus D; E&F;</p>";
  const std::string text = HtmlToText(page).text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '&'), (5 << 20) + 3);
  EXPECT_THAT(text, ::testing::HasSubstr("A & B 深 C &bogus D; E&F;"));
}

TEST(HtmlTextTest, EntitiesNamingNoCharacterBecomeTheReplacementCharacter) {
  // A lone surrogate or NUL spelled as an entity was written out as such: bytes that are not
  // UTF-8 (ED A0 80), which the daemon's request parser refused with the rest of the batch.
  const PageText page = HtmlToText("<title>t &#xD800;</title><p>a&#xD800;b&#0;c&#xDFFF;d&#x1F600;</p>");
  EXPECT_THAT(page.text, ::testing::HasSubstr("a\uFFFDb\uFFFDc\uFFFDd\U0001F600"));
  EXPECT_EQ(page.title, "t \uFFFD");
}

}  // namespace
}  // namespace tools
