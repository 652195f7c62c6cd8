// Names of one family told apart by a version: "DeepSeek-V3" and "DeepSeek-R1", "GPT-4o" and
// "GPT-4", "Qwen2.5-72B" and "Qwen2.5-7B". A sentence on a sibling shares the family's word and
// most of a question's others: "DeepSeek-R1 API 服务定价为每百万输入 tokens 1 元…" answered
// "DeepSeek-V3的API服务价格是多少？" before the V3 price. The sentence ranker scales down a sentence
// that names a sibling of the question's name and not the name itself.
//
//   const std::vector<VersionedName> asked = VersionedNamesIn(question);
//   if (NamesOnlyASibling(asked, sentence)) score *= kSiblingFactor;
#ifndef AGENTD_MEMORY_VERSIONED_NAMES_H_
#define AGENTD_MEMORY_VERSIONED_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

namespace memory::internal {

struct VersionedName {
  std::string family;   // lower case, the leading letters: "deepseek", "gpt", "qwen"
  std::string version;  // lower case, hyphens and spaces dropped: "v3", "4o", "2.5-72b" → "2.572b"
};

// The versioned names in `text`: a word of ASCII letters, digits, dots and hyphens that opens on
// at least three letters, one of them a capital, and goes on past them with a digit
// ("DeepSeek-V3", "GPT-4o", "Qwen2.5"), or such a word of letters alone followed by a space and a
// version that opens on a digit or on a letter and a digit and holds a letter or a dot
// ("DeepSeek V3", "GPT 4o", "Llama 3.1"; not "over 100", "fiscal 2024", "Figure 3"). At most
// kMaxNames, each once.
std::vector<VersionedName> VersionedNamesIn(std::string_view text);

// Whether `text` names a sibling of one of `asked` (the same family, another version, neither
// version a prefix of the other) and names none of `asked` itself (its family and version, or
// its version alone as a word: "运营一天 V3 和 R1 的成本").
bool NamesOnlyASibling(const std::vector<VersionedName>& asked, std::string_view text);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_VERSIONED_NAMES_H_
