// The two things a question asks the difference between, and whether a sentence tells one of
// them apart. "DeepSeek-R1-Zero和DeepSeek-R1有什么区别？" is answered by a sentence on each:
// "DeepSeek-R1-Zero 直接用强化学习训练基座模型…" and "而 DeepSeek-R1 通过冷启动数据和多阶段训练…".
// The sentence naming both as one ("公司在开源 DeepSeek-R1-Zero 和 DeepSeek-R1 两个 660B 模型的同
// 时…") shares the most words with the question and says nothing that tells them apart; it had
// opened the report, the difference never stated. A sentence tells one apart when it opens on
// that one's name (after an opening phrase: "而 ", "By contrast, ", "2024年，"), or names both
// with a word that contrasts them ("whereas", "unlike", "相比", "，而").
//
//   const Contrast asked = ContrastAsked(question);          // once per question
//   if (!TellsApart(HowItTells(asked, sentence))) ...        // per sentence
#ifndef AGENTD_MEMORY_CONTRAST_H_
#define AGENTD_MEMORY_CONTRAST_H_

#include <string>
#include <string_view>

namespace memory::internal {

// The names as a sentence is matched against them: lower case, without the spaces next to CJK
// characters, and without what both share (the words of "robusta prices" and "arabica prices",
// the closing characters of "云端部署" and "端侧部署"). Both empty when the question asks no
// difference, names fewer than two things, or is longer than a question (480 bytes).
struct Contrast {
  std::string first, second;
  // Asked how they compare ("A与B的总参数量相比如何？"), not what tells them apart: a sentence
  // naming both ("A 的总参数大小比 B 的要小 1/3") answers best.
  bool compared = false;
  bool asked() const { return !first.empty() && !second.empty(); }
};

// Chinese: "A和B有什么区别", "A与B的差异", "A跟B有何不同", "A、B的异同", and compared: "A与B的总参数
// 量相比如何" ("在…上", "的…": an aspect of B, cut).
// English: "the difference(s) between A and B", "How does A differ from B", "How do A and B
// differ", "What distinguishes A from B". (Not "差异化", "区别对待", nor "between" or "from" without
// a difference asked.)
Contrast ContrastAsked(std::string_view question);

// What `sentence` says of them (names matched without hyphens: "DeepSeekV2" is "DeepSeek-V2").
// It tells one apart (kFirst, kSecond) when it names that one and opens on it; both (kBoth) when
// it names both with a contrasting word or one compared with the other ("比 B"). kBothAsOne: it names both
// with no such word ("开源 A 和 B 两个模型"). kInPassing: it names one, not as what it opens on
// ("DeepSeek 正式发布 DeepSeek-R1"). kNeither: it names neither, or no difference is asked.
enum class Telling { kFirst, kSecond, kBoth, kBothAsOne, kInPassing, kNeither };
inline bool TellsApart(Telling telling) {
  return telling == Telling::kFirst || telling == Telling::kSecond || telling == Telling::kBoth;
}
Telling HowItTells(const Contrast& contrast, std::string_view sentence);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_CONTRAST_H_
