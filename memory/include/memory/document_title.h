// A title for a document that came without one, from its first lines: the first Markdown
// heading, else the first line that reads like a headline. Research reports and news articles
// extracted from PDFs open with front matter (a section name, the report date, the analysts,
// the rating, a reporter's byline) and often break the headline over two lines; a report that
// cites "[6] 证券时报记者 吴志" names its reporter, not its source. So lines of front matter are
// passed over, a headline continued on the next line is joined, and an article with no
// headline at all is named by the sentence it opens with.
//
//   std::string title = memory::GuessDocumentTitle(text);
//   if (title.empty()) title = file_name;  // nothing in the text reads like a title
#ifndef AGENTD_MEMORY_DOCUMENT_TITLE_H_
#define AGENTD_MEMORY_DOCUMENT_TITLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memory {

// At most 100 code points (longer ones end in "…"); "" when none of the first 40 non-empty
// lines qualifies. Invalid UTF-8 is passed through byte for byte, never split.
std::string GuessDocumentTitle(std::string_view text);

// A page of a newspaper holds several articles, each opening with its reporter's byline
// ("证券时报记者 阮润生", "By Jane Doe"); a passage from the second one cited under the page's
// first headline names the wrong story. The articles after the first, in order: where each
// begins (the byline's first code point) and its title, guessed from the lines after the
// byline as GuessDocumentTitle does. A byline among the first lines opens the first article
// and is not listed.
struct ArticleStart {
  uint64_t offset = 0;  // code points into the text
  std::string title;
  bool operator==(const ArticleStart&) const = default;
};
std::vector<ArticleStart> FindLaterArticles(std::string_view text);

// The title of the article holding [start, end) (code points): the later article its middle
// falls in, else `document_title`.
std::string ArticleTitleAt(const std::vector<ArticleStart>& articles, const std::string& document_title,
                           uint64_t start, uint64_t end);

}  // namespace memory

#endif  // AGENTD_MEMORY_DOCUMENT_TITLE_H_
