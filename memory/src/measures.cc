#include "measures.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_set>

#include "memory/lexical.h"
#include "utf8_text.h"

namespace memory::internal {
namespace {

// Each measure with the words that name it: a company's 收入 is its 营收, a market's 规模 its
// 市场空间.
// (Rates too: "毛利率" is asked of a sentence that gives one, not of the revenue line beside it.)
// (And a model's parameters: Skywork-MoE's "激活参数量为 22B" had answered "DeepSeek-V3的激活参数量
// 是多少？" before V3's "671B 参数，激活 37B", naming no DeepSeek.)
constexpr std::array<std::array<std::string_view, 3>, 13> kMeasures = {{{"票房", "", ""},
                                                                        {"收入", "营收", "销售额"},
                                                                        {"利润", "净利", "盈利"},
                                                                        {"规模", "市场空间", "市场容量"},
                                                                        {"人次", "", ""},
                                                                        {"票价", "", ""},
                                                                        {"市值", "", ""},
                                                                        {"估值", "", ""},
                                                                        {"毛利率", "", ""},
                                                                        {"国产化率", "", ""},
                                                                        {"渗透率", "", ""},
                                                                        {"份额", "市占率", ""},
                                                                        {"参数", "", ""}}};

// Words before a measure that say when, qualify the measure or its holder, scope it or ask, not
// who holds it ("2024年国内票房是多少？" asks the box office of no one in particular: "2024年全国电影
// 总票房425亿元" answers it). The report plan's NOT_THE_HOLDER_ZH is this list.
// Longer words first: "一季度" goes before "季度" can split it.
constexpr std::string_view kNotTheHolder[] = {
    "一季度", "二季度", "三季度", "四季度", "上半年", "下半年", "这几年", "近几年", "近年来", "季度", "全年",
    "今年",   "去年",   "前年",   "明年",   "年初",   "年末",   "年底",   "以来",   "同期",   "年度",
    "归母",   "扣非",   "营业",   "实际",   "销售",   "累计",   "平均",   "整体",   "板块",   "行业",
    "市场",   "公司",   "全国",   "国内",   "我国",   "中国",   "全球",   "请问",   "根据",   "截至",
    "关于",   "激活",   "总",     "的"};

// A date's units after its digits: "2024年", "3 月", "5日".
constexpr std::string_view kDateUnits[] = {"年", "月", "日", "号"};

constexpr std::string_view kComma = "\xef\xbc\x8c";  // ，

// Whether the holder term first named in `clause` follows a qualifier `question` lacks: the
// clause's term before it is a pair of CJK characters bridging into it that the question does not
// hold ("动游" of "我国移动游戏"), not one after a scope or time (kNotTheHolder: "国内电影" for
// "全国电影", "的电" of "中国的电影").
bool QualifiedOtherwise(const std::unordered_set<std::string>& holder, std::string_view clause, std::string_view question) {
  const std::vector<std::string> terms = LexicalTerms(clause);
  size_t first = 0;
  while (first < terms.size() && !holder.count(terms[first])) ++first;
  if (first == 0 || first == terms.size()) return false;
  const std::string& bridge = terms[first - 1];
  constexpr size_t kCjkBytes = 3;
  const bool cjk_pair = bridge.size() == 2 * kCjkBytes && static_cast<unsigned char>(bridge[0]) >= 0xE0 &&
                        static_cast<unsigned char>(terms[first][0]) >= 0xE0 && bridge.substr(kCjkBytes) == terms[first].substr(0, kCjkBytes);
  if (!cjk_pair || question.find(bridge) != std::string_view::npos) return false;
  const std::string_view bridged(bridge.data(), kCjkBytes);
  for (std::string_view word : kNotTheHolder) {
    if (word == bridged || (first >= 2 && word == terms[first - 2])) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string_view> MeasureWordsAsked(std::string_view question) {
  std::vector<std::string_view> words;
  for (const auto& names : kMeasures) {
    bool in_question = false;
    for (std::string_view name : names) in_question = in_question || (!name.empty() && question.find(name) != std::string_view::npos);
    if (!in_question) continue;
    for (std::string_view name : names) {
      if (!name.empty()) words.push_back(name);
    }
  }
  return words;
}

bool NamesAMeasure(const std::vector<std::string_view>& words, std::string_view text) {
  if (words.empty()) return true;
  for (std::string_view word : words) {
    if (text.find(word) != std::string_view::npos) return true;
    // A market's size is also told as the money it reaches: "LightCounting 预测，到 2029 年，400G+市场
    // 预计将…扩张，达 125 亿美元。" had counted as no size, below a forecast of another market's.
    if (word == "规模" && text.find("市场") != std::string_view::npos &&
        (text.find("亿美元") != std::string_view::npos || text.find("亿元") != std::string_view::npos)) {
      return true;
    }
  }
  return false;
}

bool NamesTheMeasureAsked(std::string_view question, std::string_view text) {
  return NamesAMeasure(MeasureWordsAsked(question), text);
}

std::vector<std::string> MeasureHolderTerms(std::string_view question) {
  size_t first = std::string_view::npos;
  for (const auto& names : kMeasures) {
    for (std::string_view name : names) {
      if (!name.empty()) first = std::min(first, question.find(name));
    }
  }
  if (first == std::string_view::npos) return {};
  // Each date, number and word that is not the holder's becomes a break (a comma ends a run of
  // CJK bigrams, where a space would not).
  const size_t from = StartWithin(question, first, kMaxHolderBytes);
  const std::string_view asked = question.substr(from, first - from);
  std::string before;
  for (size_t i = 0; i < asked.size();) {
    // A digit inside a name ("DeepSeek-V3", "910C") is the name's, and so are digits a letter
    // follows ("10G光芯片": 10G's rate, not 2.5G's).
    size_t digits_end = i;
    while (digits_end < asked.size() && ((asked[digits_end] >= '0' && asked[digits_end] <= '9') || asked[digits_end] == '.')) {
      ++digits_end;
    }
    // (Not an estimate's year, "2027E".)
    const bool estimate = digits_end - i == 4 && digits_end < asked.size() && (asked[digits_end] == 'E' || asked[digits_end] == 'e');
    const bool in_a_name = (i > 0 && (std::isalnum(static_cast<unsigned char>(asked[i - 1])) || asked[i - 1] == '-')) ||
                           (digits_end < asked.size() && std::isalpha(static_cast<unsigned char>(asked[digits_end])) && !estimate);
    if (asked[i] < '0' || asked[i] > '9' || in_a_name) {
      before.push_back(asked[i++]);
      continue;
    }
    while (i < asked.size() && ((asked[i] >= '0' && asked[i] <= '9') || asked[i] == '.' || asked[i] == ' ')) ++i;
    for (std::string_view unit : kDateUnits) {
      if (asked.substr(i, unit.size()) == unit) {
        i += unit.size();
        break;
      }
    }
    before += kComma;
  }
  // A lone character left between breaks ("中" of "中的") names nobody.
  std::vector<std::string> terms;
  for (std::string& term : LexicalTerms(WordsAsBreaks(before, kNotTheHolder))) {
    const bool lone_character = term.size() == 1 || (term.size() <= 4 && static_cast<unsigned char>(term[0]) >= 0x80);
    if (!lone_character) terms.push_back(std::move(term));
  }
  return terms;
}

bool NamesAnyOf(const std::unordered_set<std::string>& terms, std::string_view text) {
  if (terms.empty()) return true;
  for (const std::string& term : LexicalTerms(text)) {
    if (terms.count(term)) return true;
  }
  return false;
}

bool GivesTheMeasureOfAnother(const std::unordered_set<std::string>& holder, const std::vector<std::string_view>& words,
                              std::string_view question, std::string_view sentence, std::string_view context) {
  if (holder.empty() || words.empty()) return false;
  constexpr size_t kMaxMeasures = 16;
  static constexpr std::string_view kBreaks[] = {"，", "；", "。", "：", "、", "（", ",", ";", ":", "("};
  std::unordered_set<std::string> around;
  for (std::string& term : LexicalTerms(context)) around.insert(std::move(term));
  size_t seen = 0;
  bool another = false;
  for (std::string_view word : words) {
    for (size_t at = sentence.find(word); at != std::string_view::npos && seen < kMaxMeasures; at = sentence.find(word, at + 1)) {
      ++seen;
      // The clause before the measure: from the last break before it.
      size_t from = StartWithin(sentence, at, kMaxHolderBytes);
      for (std::string_view mark : kBreaks) {
        const size_t found = sentence.substr(from, at - from).rfind(mark);
        if (found != std::string_view::npos) from = std::max(from, from + found + mark.size());
      }
      std::unordered_set<std::string> named;
      for (std::string& term : LexicalTerms(sentence.substr(from, at - from))) {
        if (holder.count(term)) named.insert(std::move(term));
      }
      if (named.empty()) continue;
      if (QualifiedOtherwise(holder, sentence.substr(from, at - from), question)) {
        another = true;
        continue;
      }
      size_t words_of_letters = 0, letters_named = 0, others = 0, others_named = 0;
      for (const std::string& term : holder) {
        const bool present = named.count(term) > 0 || around.count(term) > 0;
        const bool letters = static_cast<unsigned char>(term[0]) < 0x80;
        (letters ? words_of_letters : others) += 1;
        (letters ? letters_named : others_named) += present ? 1 : 0;
      }
      if (letters_named == words_of_letters && 2 * others_named >= others) return false;
      another = true;
    }
  }
  return another;
}

}  // namespace memory::internal
