#include "asked_fact.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "utf8_text.h"

namespace memory::internal {
namespace {

// A "why" stated in more than this many code points is no single fact a clause restates.
constexpr size_t kMaxQuestionCodePoints = 120;
// Fewer pairs than this (a two-character fact) would be met by chance.
constexpr size_t kMinFactPairs = 4;
constexpr double kShareOfFact = 0.7;
constexpr size_t kMinCjkBefore = 8;

// 为什么, 为何, 缘何
constexpr std::array<std::u32string_view, 3> kWhyWords = {U"\u4e3a\u4ec0\u4e48", U"\u4e3a\u4f55", U"\u7f18\u4f55"};
// Modal verbs, which a question puts and its answer does not: "为什么MLA机制能降低推理成本？" is answered
// by "…大幅提升效率, 降低推理成本。" (能够, 可以, 能, 会, 可, 将; the longer first).
constexpr std::array<std::u32string_view, 6> kModals = {U"\u80fd\u591f", U"\u53ef\u4ee5", U"\u80fd", U"\u4f1a", U"\u53ef",
                                                      U"\u5c06"};

uint64_t Pair(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

// Pairs of adjacent CJK characters in code points [from, to).
void AddPairs(const std::vector<uint32_t>& cps, size_t from, size_t to, std::unordered_set<uint64_t>& out) {
  for (size_t i = from; i + 1 < to; ++i) {
    if (IsCjk(cps[i]) && IsCjk(cps[i + 1])) out.insert(Pair(cps[i], cps[i + 1]));
  }
}

bool EndsAClause(uint32_t cp) {
  return cp == U'\uff0c' || cp == U',' || cp == U'\uff1b' || cp == U';' || cp == U'\u3001';
}

}  // namespace

AskedFact AskedFactOf(std::string_view question) {
  AskedFact fact;
  // (At most 4 bytes a code point: a longer question has more than the limit, not decoded.)
  if (question.size() > 4 * kMaxQuestionCodePoints) return fact;
  const DecodedText decoded = DecodeUtf8(question);
  std::vector<uint32_t> cps = decoded.code_points;
  if (cps.size() > kMaxQuestionCodePoints) return fact;
  // The fact without its modal verbs: each a break between pairs.
  for (std::u32string_view modal : kModals) {
    for (size_t at = 0; at + modal.size() <= cps.size(); ++at) {
      if (std::equal(modal.begin(), modal.end(), cps.begin() + static_cast<std::ptrdiff_t>(at))) {
        std::fill_n(cps.begin() + static_cast<std::ptrdiff_t>(at), modal.size(), U' ');
      }
    }
  }
  // The why-word splits the question: the fact is what follows it, or, when it ends the
  // question ("传媒指数回调的原因是什么" has none; "…为什么？"), what precedes it.
  for (std::u32string_view why : kWhyWords) {
    for (size_t at = 0; at + why.size() <= cps.size(); ++at) {
      if (!std::equal(why.begin(), why.end(), cps.begin() + static_cast<std::ptrdiff_t>(at))) continue;
      AddPairs(cps, 0, at, fact.pairs);
      AddPairs(cps, at + why.size(), cps.size(), fact.pairs);
      if (fact.pairs.size() < kMinFactPairs) fact.pairs.clear();
      return fact;
    }
  }
  return fact;
}

bool EndsOnTheAskedFact(const AskedFact& fact, std::string_view sentence) {
  if (fact.pairs.empty()) return false;
  const DecodedText decoded = DecodeUtf8(sentence);
  const std::vector<uint32_t>& cps = decoded.code_points;
  // The last clause: after the last comma or semicolon (the sentence's own end mark aside).
  size_t last_clause = cps.size();
  for (size_t i = cps.size(); i-- > 0;) {
    if (EndsAClause(cps[i]) && i + 1 < cps.size()) {
      last_clause = i + 1;
      break;
    }
  }
  if (last_clause == cps.size()) return false;
  size_t cjk_before = 0;
  for (size_t i = 0; i < last_clause && cjk_before < kMinCjkBefore; ++i) cjk_before += IsCjk(cps[i]) ? 1 : 0;
  if (cjk_before < kMinCjkBefore) return false;
  std::unordered_set<uint64_t> clause;
  AddPairs(cps, last_clause, cps.size(), clause);
  size_t shared = 0;
  for (uint64_t pair : fact.pairs) shared += clause.count(pair);
  return static_cast<double>(shared) >= kShareOfFact * static_cast<double>(fact.pairs.size());
}

}  // namespace memory::internal
