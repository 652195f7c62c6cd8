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
// 4 analyses text as version 3 does; a collection of version 4 also indexes each chunk with its
// document's title (memory_store.cc, AddTitleTerms). Version 5 (the default) also reads Chinese
// on across spacing between two CJK characters, where PDF text extraction broke a line or
// spaced a figure's unit ("全年累\n\n计票房" holds "累计" and "计票", as the query "累计票房"
// does; "2023 年 中国" holds "年中"). A collection keeps the
// version it was created with (version 1 before there were versions), since its stored
// postings were made with it.
#ifndef AGENTD_MEMORY_LEXICAL_H_
#define AGENTD_MEMORY_LEXICAL_H_

#include <string>
#include <string_view>
#include <vector>

namespace memory {

inline constexpr int kLexicalVersion = 5;

std::vector<std::string> LexicalTerms(std::string_view text, int version = kLexicalVersion);

}  // namespace memory

#endif  // AGENTD_MEMORY_LEXICAL_H_
