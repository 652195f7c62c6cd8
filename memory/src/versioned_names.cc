#include "versioned_names.h"

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "take_number.h"

namespace memory::internal {
namespace {

// A question names a few; a hostile text's thousands of words are read once each.
constexpr size_t kMaxNames = 16;

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; }

// The words of ASCII letters, digits, dots and hyphens, with the offset each starts at, trailing
// dots and hyphens dropped.
std::vector<std::pair<size_t, std::string_view>> Words(std::string_view text) {
  std::vector<std::pair<size_t, std::string_view>> words;
  for (size_t i = 0; i < text.size();) {
    if (!IsNameChar(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsNameChar(text[j])) ++j;
    std::string_view word = text.substr(i, j - i);
    while (!word.empty() && (word.back() == '.' || word.back() == '-')) word.remove_suffix(1);
    if (!word.empty()) words.emplace_back(i, word);
    i = j;
  }
  return words;
}

// Lower case, hyphens dropped: "V3" → "v3", "2.5-72B" → "2.572b".
std::string Folded(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != '-') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

bool HasDigit(std::string_view text) {
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

// A version written on its own after its family's word: "3", "V3", "4o", "R1".
bool LooksLikeAVersion(std::string_view word) {
  if (word.empty()) return false;
  if (std::isdigit(static_cast<unsigned char>(word[0]))) return true;
  return word.size() >= 2 && std::isalpha(static_cast<unsigned char>(word[0])) &&
         std::isdigit(static_cast<unsigned char>(word[1]));
}

bool SameMember(const VersionedName& a, const VersionedName& b) {
  return a.family == b.family && (a.version.starts_with(b.version) || b.version.starts_with(a.version));
}

// Chinese ordinals, "第二类", "第三类", "第 2 代": one family for each counter ("第类"), the
// number for a version, closed by '#' so that no number is a prefix of another ("2#", "20#").
// "中国为该新规中定义的第三类国家…" answered "…第二类国家最多可以获得多少算力？" before the second
// class's limit.
void AddOrdinals(std::string_view text, std::vector<VersionedName>& names) {
  static constexpr std::string_view kOrdinal = "第";
  for (size_t at = text.find(kOrdinal); at != std::string_view::npos && names.size() < kMaxNames;
       at = text.find(kOrdinal, at + kOrdinal.size())) {
    size_t i = at + kOrdinal.size();
    while (i < text.size() && text[i] == ' ') ++i;
    std::string_view rest = text.substr(i);
    const int value = TakeNumber(rest);
    i = text.size() - rest.size();
    while (i < text.size() && text[i] == ' ') ++i;
    // The counter: a category's, a generation's, a batch's ("第二类", "第三代", "第一批"); not a
    // quarter ("第四季度" beside the asked "一季度" is no sibling of it) nor a list's first point
    // ("第一，").
    static constexpr std::string_view kCounters[] = {"类", "代", "批", "期", "届", "轮", "级", "档", "版"};
    if (value == 0 || i + 3 > text.size()) continue;
    const std::string_view counter = text.substr(i, 3);
    bool counts = false;
    for (std::string_view c : kCounters) counts = counts || counter == c;
    if (!counts) continue;
    VersionedName name{std::string(kOrdinal) + std::string(counter), std::to_string(value) + "#"};
    bool seen = false;
    for (const VersionedName& n : names) seen = seen || (n.family == name.family && n.version == name.version);
    if (!seen) names.push_back(std::move(name));
  }
}

}  // namespace

std::vector<VersionedName> VersionedNamesIn(std::string_view text) {
  std::vector<VersionedName> names;
  const auto words = Words(text);
  for (size_t w = 0; w < words.size() && names.size() < kMaxNames; ++w) {
    const std::string_view word = words[w].second;
    size_t letters = 0;
    while (letters < word.size() && std::isalpha(static_cast<unsigned char>(word[letters]))) ++letters;
    if (letters < 3) continue;
    // A name is written with a capital ("DeepSeek", "GPT", "Qwen"): "over 100 million", "top 10",
    // "fiscal 2024" are words before a number, not a family and its version.
    bool capital = false;
    for (size_t k = 0; k < letters; ++k) capital = capital || std::isupper(static_cast<unsigned char>(word[k]));
    if (!capital) continue;
    // A version's letter may join the family's word: "DeepSeekV2" is "DeepSeek-V2" (a capital after
    // a small letter, then digits).
    if (letters >= 4 && letters < word.size() && std::isupper(static_cast<unsigned char>(word[letters - 1])) &&
        std::islower(static_cast<unsigned char>(word[letters - 2])) && std::isdigit(static_cast<unsigned char>(word[letters]))) {
      --letters;
    }
    std::string_view version = word.substr(letters);
    if (version.empty() && w + 1 < words.size()) {
      const size_t after = words[w].first + word.size();
      const bool one_space = words[w + 1].first == after + 1 && text[after] == ' ';
      // Spaced, a version holds a letter or a dot ("V3", "4o", "3.5"): "Figure 3", "Table 2" and
      // "Q1 2024" number things of their own.
      const std::string_view next = words[w + 1].second;
      bool marked = false;
      for (char c : next) marked = marked || std::isalpha(static_cast<unsigned char>(c)) || c == '.';
      if (one_space && marked && LooksLikeAVersion(next)) version = next;
    }
    if (!HasDigit(version)) continue;  // "DeepSeek", "cost-effective"
    VersionedName name{Folded(word.substr(0, letters)), Folded(version)};
    bool seen = false;
    for (const VersionedName& n : names) seen = seen || (n.family == name.family && n.version == name.version);
    if (!seen) names.push_back(std::move(name));
  }
  // (After the Latin names: a sentence of sixteen "第N章" would otherwise leave no room for them.)
  AddOrdinals(text, names);
  return names;
}

bool NamesOnlyASibling(const std::vector<VersionedName>& asked, std::string_view text) {
  if (asked.empty()) return false;
  bool sibling = false;
  for (const VersionedName& name : VersionedNamesIn(text)) {
    for (const VersionedName& a : asked) {
      if (SameMember(name, a)) return false;
      sibling = sibling || name.family == a.family;
    }
  }
  if (!sibling) return false;
  for (const auto& [at, word] : Words(text)) {
    for (const VersionedName& a : asked) {
      if (Folded(word) == a.version) return false;  // "运营一天 V3 和 R1 的成本"
    }
  }
  return true;
}

}  // namespace memory::internal
