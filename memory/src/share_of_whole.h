// The whole a Chinese sentence gives a part's share of. "2024年特效厅产出的票房为 85.3亿元，约占国内
// 电影总票房的20%" states the special halls' takings; "国内电影总票房" is only what they are a share
// of. Ranked by its words, that sentence answered "2024年全国电影总票房是多少？" before the one
// giving the year's box office ("全年累计票房约425亿元…"), for it holds the question's words
// unbroken. The sentence ranker scores a sentence by its words less its wholes, unless the
// question asks for a share itself ("占比", "比例", "份额").
//
//   const bool share = AsksForAShare(question);
//   terms = LexicalTerms(share ? sentence : WithoutWholes(sentence));
#ifndef AGENTD_MEMORY_SHARE_OF_WHOLE_H_
#define AGENTD_MEMORY_SHARE_OF_WHOLE_H_

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace memory::internal {

// Whether a question asks for a share or a proportion: "占", "比例", "比重", "比率", "份额",
// "百分之", "百分比", "渗透率", "%", or in English "share", "percent", "proportion".
bool AsksForAShare(std::string_view question);

// `text` with each whole it gives a share of replaced by a space: the words from "占" (not
// "占据", "占有", "占领", "占用", "占优", "占比") up to and including the next "的", or up to "比重" /
// "比例", within kMaxWholeCodePoints and without punctuation between. Text without one comes
// back unchanged.
std::string WithoutWholes(std::string_view text);

// Whose share a Chinese question asks, as lexical terms: the words before its "占" (not "占比",
// "占有", "占据": "宁德时代的市场占有率" is a measure of its own), from its last time or punctuation
// on, within kMaxShareHolderBytes, "的" a break — "AI算力芯片占AI服务器成本的比例是多少？" → ai, 算力,
// 力芯, 芯片. Empty when it asks none so.
inline constexpr size_t kMaxShareHolderBytes = 96;
std::vector<std::string> ShareHolderTerms(std::string_view question);

// Whether `sentence` gives the share of that holder, when it gives a share with "占": a clause of
// it (between ，；。：) names three quarters of `holder`'s terms before its "占" (a clause that
// opens on it, "约占…", with the clause before). "作为配合 AI 算力芯片，存储芯片在 AI 运算中提供重要
// 支撑，约占服务器成本的 10%" gives the memory chips' share, "AI 算力芯片大约占AI 服务器的
// 30%-60%" the one asked. True when `holder` is empty or the sentence has no "占" (it may state
// the share in other words: "份额为", "比重").
bool GivesTheShareOf(const std::unordered_set<std::string>& holder, std::string_view sentence);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_SHARE_OF_WHOLE_H_
