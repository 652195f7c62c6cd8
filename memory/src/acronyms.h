// Acronyms a question uses and the words that spell them out. A question asks for "the CEO" where
// its answer says "chief executive officer"; the words share no term, so BM25 cannot see that the
// sentence answers. A text that spells out a query's acronym — consecutive words whose initials
// are its letters, with "of", "and", "for" and "the" allowed between them ("Bureau of Labor
// Statistics" for BLS) — is counted as containing it.
//
//   for (const QueryAcronym& a : QueryAcronyms("Who is the CEO?"))   // {"CEO", "ceo"}
//     if (SpellsOut(sentence, a.letters)) ... counts[a.term] ...
#ifndef AGENTD_MEMORY_ACRONYMS_H_
#define AGENTD_MEMORY_ACRONYMS_H_

#include <string>
#include <string_view>
#include <vector>

namespace memory::internal {

struct QueryAcronym {
  std::string letters;  // as written: "CEO"
  std::string term;     // its lexical term (LexicalTerms): "ceo"
};

// The words of 3 to 6 ASCII capital letters (a trailing lower-case "s" allowed: "GPUs"), each once;
// not stop words, and not ones glued to digits or other scripts ("V3", "AI的"). Two letters are
// left out: two consecutive words spell them by chance too often.
std::vector<QueryAcronym> QueryAcronyms(std::string_view query);

// Whether `text` has consecutive words whose initials are `letters` (case ignored); the small
// words above may stand between them but do not count as letters.
bool SpellsOut(std::string_view text, std::string_view letters);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_ACRONYMS_H_
