#include "definitions.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <span>
#include <utility>

#include "utf8_text.h"

namespace memory::internal {
namespace {

std::string_view Trim(std::string_view text) {
  auto strip = [&](std::initializer_list<std::string_view> marks) {
    bool again = true;
    while (again && !text.empty()) {
      again = false;
      for (std::string_view mark : marks) {
        if (text.starts_with(mark)) text.remove_prefix(mark.size()), again = true;
        if (text.ends_with(mark)) text.remove_suffix(mark.size()), again = true;
      }
    }
  };
  strip({" ", "？", "?", "。", ".", "呢", "“", "”", "\"", "'", "「", "」"});
  return text;
}

bool AsciiLetter(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Whether the term the question asks of is one: short, no "的", not opening on an article or a
// number.
std::string Checked(std::string_view term) {
  term = Trim(term);
  if (term.empty() || term.size() > 30 || term.find("的") != std::string_view::npos) return "";
  if (std::isdigit(static_cast<unsigned char>(term[0]))) return "";
  int words = 1;
  for (char c : term) words += c == ' ' ? 1 : 0;
  if (words > 4) return "";
  const std::string lower = AsciiLower(term);
  for (std::string_view article : {"the ", "a ", "an ", "its ", "their ", "this ", "that "}) {
    if (lower.starts_with(article)) return "";
  }
  return std::string(term);
}

}  // namespace

std::string DefinedTerm(std::string_view question) {
  const std::string_view q = Trim(question);
  // Chinese: a question word before the term or after it.
  for (std::string_view asking : {"什么是", "何为", "何谓"}) {
    if (q.starts_with(asking)) return Checked(q.substr(asking.size()));
  }
  for (std::string_view asking : {"的含义是什么", "的定义是什么", "是什么意思", "指的是什么", "是指什么", "是什么"}) {
    if (q.size() > asking.size() && q.ends_with(asking)) return Checked(q.substr(0, q.size() - asking.size()));
  }
  // English, in lower case for the words that ask; the term as written.
  const std::string lower = AsciiLower(q);
  for (std::string_view asking : {"what is meant by ", "what is ", "what are ", "define "}) {
    if (lower.starts_with(asking)) return Checked(q.substr(asking.size()));
  }
  if (lower.starts_with("what does ") && lower.ends_with(" mean") && q.size() > std::string_view("what does  mean").size()) {
    return Checked(q.substr(std::string_view("what does ").size(), q.size() - std::string_view("what does  mean").size()));
  }
  return "";
}

bool Defines(std::string_view term, std::string_view sentence, std::string_view predecessor) {
  if (term.empty()) return false;
  constexpr std::string_view kIts = "其";
  if (sentence.starts_with(kIts) && predecessor.find(term) != std::string_view::npos) {
    const std::string_view opening = sentence.substr(kIts.size(), 4 * 3);  // four CJK characters
    for (std::string_view what : {"观点", "含义", "定义", "核心", "本质", "内涵", "原理"}) {
      if (opening.find(what) != std::string_view::npos) return true;
    }
  }
  const bool latin = static_cast<unsigned char>(term[0]) < 0x80;
  const std::string text = latin ? AsciiLower(sentence) : std::string(sentence);
  const std::string wanted = latin ? AsciiLower(term) : std::string(term);
  static constexpr std::string_view kNamingZh[] = {"称为", "叫做", "简称", "统称为", "称之为"};
  static constexpr std::string_view kNamingEn[] = {"called", "known as", "termed"};
  static constexpr std::string_view kDefiningZh[] = {"是指", "又称", "也称", "亦称", "也叫", "又叫", "即", "指", "：", "是"};
  static constexpr std::string_view kDefiningEn[] = {" is a ", " is an ", " is the ", " are ", " refers to ", " means ",
                                                     ", in which ", ", which ", ", where ", ": ", ", a ", ", an "};
  // At most kMaxOccurrences of the term, each skipping at most kMaxPasses marks after it: a
  // tenant's term may be a mark itself ("什么是’？"), repeated through a sentence.
  constexpr size_t kMaxOccurrences = 16;
  constexpr int kMaxPasses = 4;
  size_t seen = 0;
  for (size_t at = text.find(wanted); at != std::string::npos && seen++ < kMaxOccurrences; at = text.find(wanted, at + 1)) {
    const size_t end = at + wanted.size();
    // A word of its own in English ("AI" is not in "said").
    if (latin && ((at > 0 && AsciiLetter(text[at - 1])) || (end < text.size() && AsciiLetter(text[end])))) continue;
    // Named before it: past opening quotes and spaces, "…被称为", "…known as".
    std::string_view before = std::string_view(text).substr(0, at);
    for (int pass = 0, moved = 1; moved && pass < kMaxPasses; ++pass) {
      moved = false;
      for (std::string_view open : {" ", "“", "\"", "「"}) {
        if (before.ends_with(open)) before.remove_suffix(open.size()), moved = true;
      }
    }
    for (std::string_view naming : latin ? std::span<const std::string_view>(kNamingEn) : std::span<const std::string_view>(kNamingZh)) {
      if (before.ends_with(naming)) return true;
    }
    std::string_view after = std::string_view(text).substr(end);
    // Past closing quotes and an aside in brackets ("特效厅（Premium Large Format）是…").
    for (int pass = 0, moved = 1; moved && pass < kMaxPasses; ++pass) {
      moved = false;
      for (std::string_view close : {"”", "\"", "」", "》", "’"}) {
        if (after.starts_with(close)) after.remove_prefix(close.size()), moved = true;
      }
      for (auto [open, shut] : {std::pair<std::string_view, std::string_view>{"（", "）"}, {" (", ")"}, {"(", ")"}}) {
        if (!after.starts_with(open)) continue;
        const size_t closing = after.substr(0, 80).find(shut);
        if (closing != std::string_view::npos) after.remove_prefix(closing + shut.size()), moved = true;
      }
    }
    // The verb in the sentence's language, whatever the term's ("LPO（…）是指…").
    for (std::string_view defining : kDefiningEn) {
      if (after.starts_with(defining)) return true;
    }
    // (A space between a Latin term and a Chinese verb, as PDF text sets them: "AI Agent 是一种…".)
    while (after.starts_with(" ")) after.remove_prefix(1);
    if (after.starts_with("，")) {
      after.remove_prefix(std::string_view("，").size());
      // An appositive after the comma: "游戏核心组成部分是 Koala Editor，一个零代码的游戏编辑器…" (it had
      // come fourth for "什么是Koala Editor？", behind "Koala Editor 里还配备有…").
      for (std::string_view one : {"一个", "一种", "一款", "一家", "一套", "一项"}) {
        if (after.starts_with(one)) return true;
      }
    }
    if (after.starts_with("是否") || after.starts_with("即将") || after.starts_with("指标")) continue;
    for (std::string_view defining : kDefiningZh) {
      if (after.starts_with(defining)) return true;
    }
  }
  return false;
}

}  // namespace memory::internal
