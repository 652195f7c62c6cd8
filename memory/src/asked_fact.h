// The fact a Chinese "why" question asks about, and whether a sentence ends on it after clauses
// that say why. "为什么降功耗成为光模块技术发展的核心诉求？" is answered by "据统计 2010-2022 年全球数通
// 光模块的整体功耗提升了 26 倍, …这种能耗增长对智算中心的运营成本构成了重大压力, 降功耗成为光模块技术
// 发展的核心诉求之一。": its clauses lead up to the asked fact without a causal word ("由于", "因为"),
// so answer_type.h's Offers sees no cause in it. A sentence that only states the fact ("LLM 单纯
// 云端部署（例如 ChatGPT）并不广泛接受。") has no clause before it and gives none.
//
//   const AskedFact fact = AskedFactOf(question);       // once per question
//   if (EndsOnTheAskedFact(fact, sentence)) { ... }     // per sentence
#ifndef AGENTD_MEMORY_ASKED_FACT_H_
#define AGENTD_MEMORY_ASKED_FACT_H_

#include <cstdint>
#include <string_view>
#include <unordered_set>

namespace memory::internal {

// The asked fact's pairs of adjacent CJK characters (the question without its why-word). Empty
// when the question asks no "why" in Chinese, or is too long or too short to state one fact
// (then no sentence ends on it).
struct AskedFact {
  std::unordered_set<uint64_t> pairs;
};

AskedFact AskedFactOf(std::string_view question);

// Whether the last clause of `sentence` (after its last comma or semicolon) holds at least 70%
// of the fact's pairs and the clauses before it hold at least 8 CJK characters.
bool EndsOnTheAskedFact(const AskedFact& fact, std::string_view sentence);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_ASKED_FACT_H_
