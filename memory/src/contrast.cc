#include "contrast.h"

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "utf8_text.h"

namespace memory::internal {
namespace {

constexpr size_t kMaxQuestionBytes = 480;
constexpr size_t kMaxNameBytes = 64;
// An opening phrase before the name ("2024年，", "By contrast, ", "In the 2024 survey, "): at most
// this long.
constexpr size_t kMaxOpeningBytes = 36;

bool IsAsciiWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Lower case, hyphens dropped ("DeepSeekV2" is "DeepSeek-V2"); spaces next to a non-ASCII
// character dropped (PDF text sets "开源 DeepSeek-R1 和"), other runs of spacing one space.
std::string Normalized(std::string_view text) {
  const std::string lower = AsciiLower(text);
  std::string out;
  out.reserve(lower.size());
  for (size_t i = 0; i < lower.size();) {
    if (lower[i] == '-') {
      ++i;
      continue;
    }
    if (lower[i] != ' ' && lower[i] != '\t' && lower[i] != '\n' && lower[i] != '\r') {
      out.push_back(lower[i++]);
      continue;
    }
    size_t end = i;
    while (end < lower.size() && (lower[end] == ' ' || lower[end] == '\t' || lower[end] == '\n' || lower[end] == '\r')) ++end;
    const bool before_wide = !out.empty() && static_cast<unsigned char>(out.back()) >= 0x80;
    const bool after_wide = end < lower.size() && static_cast<unsigned char>(lower[end]) >= 0x80;
    if (!out.empty() && end < lower.size() && !before_wide && !after_wide) out.push_back(' ');
    i = end;
  }
  return out;
}

std::string_view Trimmed(std::string_view text) {
  static constexpr std::string_view kEdges[] = {" ", ",", "，", "、", "“", "”", "\"", "'", "《", "》", "?", "？"};
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view edge : kEdges) {
      if (text.starts_with(edge)) text.remove_prefix(edge.size()), changed = true;
      if (text.ends_with(edge)) text.remove_suffix(edge.size()), changed = true;
    }
  }
  return text;
}

std::string_view WithoutLeading(std::string_view text, std::span<const std::string_view> words) {
  for (bool changed = true; changed;) {
    changed = false;
    text = Trimmed(text);
    for (std::string_view word : words) {
      if (text.starts_with(word)) text.remove_prefix(word.size()), changed = true;
    }
  }
  return text;
}

std::string_view WithoutTrailing(std::string_view text, std::span<const std::string_view> words) {
  for (bool changed = true; changed;) {
    changed = false;
    text = Trimmed(text);
    for (std::string_view word : words) {
      if (text.ends_with(word) && text.size() > word.size()) text.remove_suffix(word.size()), changed = true;
    }
  }
  return text;
}

// The two names of "A和B" (Chinese, before the difference word) at the last joiner.
bool SplitChinese(std::string_view head, std::string_view& first, std::string_view& second) {
  // ("以及" before "及", whose last byte it shares: "及" alone would leave "云端部署以".)
  static constexpr std::string_view kJoiners[] = {"以及", "和", "与", "跟", "、", "及"};
  size_t at = std::string_view::npos, width = 0;
  // (The joiner that ends last, the longer where two end together.)
  for (std::string_view joiner : kJoiners) {
    const size_t found = head.rfind(joiner);
    if (found == std::string_view::npos) continue;
    if (at == std::string_view::npos || found + joiner.size() > at + width) at = found, width = joiner.size();
  }
  if (at == std::string_view::npos) return false;
  static constexpr std::string_view kAsking[] = {"请问", "请", "比较一下", "比较", "对比一下", "对比", "说说", "分析"};
  static constexpr std::string_view kFillers[] = {"有什么", "有何", "有哪些", "存在", "主要", "最大", "之间", "相比", "的", "有"};
  first = WithoutTrailing(WithoutLeading(head.substr(0, at), kAsking), kFillers);
  second = head.substr(at + width);
  // "…在训练方法上", "…的总参数量": the aspect asked, no part of the name.
  for (std::string_view aspect_word : {std::string_view("在"), std::string_view("的")}) {
    if (const size_t aspect = second.find(aspect_word); aspect != std::string_view::npos && aspect > 0) second = second.substr(0, aspect);
  }
  second = WithoutTrailing(second, kFillers);
  return true;
}

bool SplitEnglish(std::string_view q, std::string_view& first, std::string_view& second) {
  // Only a question asking a difference: "What happened between 2020 and 2023?" and "How does the
  // model learn from human feedback?" ask none.
  if (q.find("differ") == std::string_view::npos && q.find("distinguish") == std::string_view::npos) return false;
  static constexpr std::string_view kEnds[] = {"?", ",", ";", " in ", " for ", " when ", " on ", " at ", " during ",
                                               " over ", " as "};
  auto until_end = [&](std::string_view text) {
    size_t end = text.size();
    for (std::string_view stop : kEnds) end = std::min(end, text.find(stop));
    return text.substr(0, end);
  };
  if (size_t at = q.find("between "); at != std::string_view::npos && (at == 0 || q[at - 1] == ' ')) {
    const std::string_view rest = until_end(q.substr(at + 8));
    const size_t joiner = rest.find(" and ");
    if (joiner == std::string_view::npos) return false;
    first = rest.substr(0, joiner), second = rest.substr(joiner + 5);
    return true;
  }
  // "How does A differ from B", "What distinguishes A from B", "How do A and B differ".
  static constexpr std::string_view kAsking[] = {"how does ", "how do ", "how did ", "what distinguishes ", "in what ways does ",
                                                 "in what way does ", "what makes "};
  for (std::string_view asking : kAsking) {
    const size_t at = q.find(asking);
    if (at == std::string_view::npos) continue;
    const std::string_view rest = q.substr(at + asking.size());
    for (std::string_view verb : {std::string_view(" differ from "), std::string_view(" different from "), std::string_view(" from ")}) {
      const size_t v = rest.find(verb);
      if (v == std::string_view::npos) continue;
      first = rest.substr(0, v), second = until_end(rest.substr(v + verb.size()));
      return true;
    }
    const size_t v = rest.find(" differ");
    const std::string_view both = rest.substr(0, v);
    const size_t joiner = both.find(" and ");
    if (v == std::string_view::npos || joiner == std::string_view::npos) return false;
    first = both.substr(0, joiner), second = both.substr(joiner + 5);
    return true;
  }
  return false;
}

// English names joined inside a phrase: "the costs of training and serving a language model" are
// training's and serving's costs ("costs of training" and "serving a language model" named no
// sentence, and "How do the costs of training and serving a language model differ?" had opened on
// serving's side alone). The first is what follows its last "of"; where that is one word and the
// second more, the second is its own first word and what came before "of" ("serving costs"), as
// "the difference between training and serving costs" names them. Returns the second's text in
// `storage` when it is made so.
void ParallelEnglish(std::string_view& first, std::string_view& second, std::string& storage) {
  const size_t of = first.rfind(" of ");
  if (of == std::string_view::npos) return;
  std::string_view head = first.substr(0, of);
  if (const size_t space = head.rfind(' '); space != std::string_view::npos) head = head.substr(space + 1);
  first = first.substr(of + 4);
  const size_t space = second.find(' ');
  if (first.find(' ') != std::string_view::npos || space == std::string_view::npos || head.empty()) return;
  storage = std::string(second.substr(0, space)) + " " + std::string(head);
  second = storage;
}

std::string_view WithoutArticle(std::string_view name) {
  for (std::string_view article : {"the ", "a ", "an "}) {
    if (name.starts_with(article)) return Trimmed(name.substr(article.size()));
  }
  return Trimmed(name);
}

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  for (size_t i = 0; i < text.size();) {
    const size_t end = std::min(text.find(' ', i), text.size());
    if (end > i) words.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return words;
}

// The names without what both share: English words both have ("prices"), or the CJK characters
// both close on ("部署"). Each keeps something of its own, or both stay whole.
void DropShared(std::string& first, std::string& second) {
  const std::vector<std::string_view> a = Words(first), b = Words(second);
  if (a.size() > 1 || b.size() > 1) {
    auto own = [](const std::vector<std::string_view>& words, const std::vector<std::string_view>& other) {
      std::string kept;
      for (std::string_view word : words) {
        if (std::find(other.begin(), other.end(), word) != other.end()) continue;
        if (!kept.empty()) kept.push_back(' ');
        kept.append(word);
      }
      return kept;
    };
    std::string own_a = own(a, b), own_b = own(b, a);
    if (!own_a.empty() && !own_b.empty()) first = std::move(own_a), second = std::move(own_b);
    return;
  }
  size_t shared = 0;
  while (shared < first.size() && shared < second.size() && first[first.size() - 1 - shared] == second[second.size() - 1 - shared]) ++shared;
  // Back to a character's first byte, and only where what is shared is CJK.
  while (shared > 0 && (static_cast<unsigned char>(first[first.size() - shared]) & 0xC0) == 0x80) --shared;
  if (shared == 0 || static_cast<unsigned char>(first[first.size() - shared]) < 0x80) return;
  // Each keeps two characters of its own at least ("云端", "端侧").
  if (first.size() - shared < 6 || second.size() - shared < 6) return;
  first.resize(first.size() - shared);
  second.resize(second.size() - shared);
}

// Where `name` stands in `text` as a name of its own: not inside a longer ASCII word
// ("deepseekr1" in "deepseekr1zero"), an English plural allowed. npos when nowhere.
size_t FindName(std::string_view text, std::string_view name) {
  const bool latin_start = IsAsciiWordByte(name.front()), latin_end = IsAsciiWordByte(name.back());
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    if (latin_start && at > 0 && IsAsciiWordByte(text[at - 1])) continue;
    size_t end = at + name.size();
    if (latin_end && text.substr(end, 2) == "es") {
      end += 2;
    } else if (latin_end && end < text.size() && text[end] == 's') {
      ++end;
    }
    if (latin_end && end < text.size() && IsAsciiWordByte(text[end])) continue;
    return at;
  }
  return std::string_view::npos;
}

// Whether what comes before a name in its sentence opens it: nothing, an article, a contrasting
// connective, or one short opening phrase closed by a comma ("2024年，", "By contrast, ").
bool OpensOn(std::string_view sentence, size_t at) {
  std::string_view before = sentence.substr(0, at);
  static constexpr std::string_view kOpeners[] = {"the ", "而", "但是", "但", "然而", "相比之下", "相较而言", "与之相比",
                                                  "对比之下", "其中"};
  for (bool changed = true; changed;) {
    changed = false;
    for (std::string_view opener : kOpeners) {
      if (before.ends_with(opener)) before.remove_suffix(opener.size()), changed = true;
    }
    if (before.ends_with(" ")) before.remove_suffix(1), changed = true;
  }
  if (before.empty()) return true;
  if (before.size() > kMaxOpeningBytes || !(before.ends_with(",") || before.ends_with("，"))) return false;
  // One phrase: no comma inside it.
  before.remove_suffix(before.ends_with(",") ? 1 : std::string_view("，").size());
  return before.find(',') == std::string_view::npos && before.find("，") == std::string_view::npos;
}

bool Contrasts(std::string_view sentence) {
  static constexpr std::string_view kWords[] = {
      "whereas", " unlike ", "unlike ", " while ", " than ", "in contrast", "by contrast", "compared with", "compared to",
      "rather than", " instead", "differ", "different", "相比", "相较", "不同", "区别", "差异", "，而", "；而", ",而",
      "而是", "则", "更", "不像"};
  for (std::string_view word : kWords) {
    if (sentence.find(word) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

Contrast ContrastAsked(std::string_view question) {
  if (question.size() > kMaxQuestionBytes) return {};
  const std::string q = Normalized(question);
  std::string_view first, second;
  static constexpr std::string_view kDifferenceZh[] = {"区别", "差异", "异同", "不同之处", "不同点", "有什么不同", "有何不同",
                                                       "有哪些不同", "什么不同"};
  static constexpr std::string_view kComparedZh[] = {"相比如何", "相比怎么样", "相比怎样", "相比有何", "对比如何", "比较如何"};
  size_t marker = std::string::npos, compared = std::string::npos;
  // (Not "差异化", differentiation, nor "区别对待", treating differently.)
  for (std::string_view word : kDifferenceZh) {
    for (size_t at = q.find(word); at != std::string::npos; at = q.find(word, at + word.size())) {
      const std::string_view after = std::string_view(q).substr(at + word.size());
      if (after.starts_with("化") || after.starts_with("对待")) continue;
      marker = std::min(marker, at);
      break;
    }
  }
  for (std::string_view word : kComparedZh) compared = std::min(compared, q.find(word));
  marker = std::min(marker, compared);
  const bool split = marker != std::string::npos ? SplitChinese(std::string_view(q).substr(0, marker), first, second)
                                                 : SplitEnglish(q, first, second);
  if (!split) return {};
  std::string parallel;
  if (marker == std::string::npos) ParallelEnglish(first, second, parallel);
  Contrast contrast{std::string(WithoutArticle(first)), std::string(WithoutArticle(second)),
                    compared != std::string::npos && compared == marker};
  DropShared(contrast.first, contrast.second);
  // (One name may hold the other, "deepseek-r1" in "deepseek-r1-zero": FindName reads word edges.)
  const bool named = !contrast.first.empty() && !contrast.second.empty() && contrast.first != contrast.second &&
                     contrast.first.size() <= kMaxNameBytes && contrast.second.size() <= kMaxNameBytes;
  if (!named) return {};
  return contrast;
}

Telling HowItTells(const Contrast& contrast, std::string_view sentence) {
  if (!contrast.asked()) return Telling::kNeither;
  const std::string s = Normalized(sentence);
  const size_t first = FindName(s, contrast.first), second = FindName(s, contrast.second);
  if (first != std::string::npos && second != std::string::npos) {
    const bool one_than_the_other = s.find("比" + contrast.first) != std::string::npos || s.find("比" + contrast.second) != std::string::npos;
    return Contrasts(s) || one_than_the_other ? Telling::kBoth : Telling::kBothAsOne;
  }
  if (first == std::string::npos && second == std::string::npos) return Telling::kNeither;
  if (!OpensOn(s, std::min(first, second))) return Telling::kInPassing;
  return first != std::string::npos ? Telling::kFirst : Telling::kSecond;
}

}  // namespace memory::internal
