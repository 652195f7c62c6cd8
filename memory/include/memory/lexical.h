// The terms BM25 indexes and queries with, for Chinese and English alike: text is NFKC-folded
// and lower-cased (full-width letters and digits become ASCII), runs of CJK characters become
// overlapping character bigrams (a lone character stays a unigram), and runs of other letters
// and digits become words — a number keeps its decimal point ("72.6").
//
//   LexicalTerms("DeepSeek-V3 训练成本 557.6 万") →
//     {"deepseek", "v3", "训练", "练成", "成本", "557.6", "万"}
//
// Version 2 also drops English stop words ("was", "in", "the") and stems English
// words with Snowball's English (Porter2) stemmer, so "installed" and "installations" meet at
// "instal". Version 3 (the default) also joins a word that PDF text extraction broke across
// lines with a hyphenation mark: "Deep⁃\nSeek" is "deepseek", as the query spells it. Version
// 4 (the default) analyses text as version 3 does; a collection of version 4 also indexes each
// chunk with its document's title (memory_store.cc, AddTitleTerms). A collection keeps the
// version it was created with (version 1 before there were versions), since its stored
// postings were made with it.
#ifndef AGENTD_MEMORY_LEXICAL_H_
#define AGENTD_MEMORY_LEXICAL_H_

#include <string>
#include <string_view>
#include <vector>

namespace memory {

inline constexpr int kLexicalVersion = 4;

std::vector<std::string> LexicalTerms(std::string_view text, int version = kLexicalVersion);

}  // namespace memory

#endif  // AGENTD_MEMORY_LEXICAL_H_
