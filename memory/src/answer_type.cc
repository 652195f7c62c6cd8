#include "answer_type.h"

#include <array>
#include <cctype>
#include <span>
#include <string>

#include "utf8_text.h"

namespace memory::internal {
namespace {

// `phrase` in `text` as words of their own (so "when" is not found in "whenever's" middle, nor
// "a third" in "a third-party vendor").
bool HasPhrase(const std::string& text, std::string_view phrase) {
  for (size_t at = text.find(phrase); at != std::string::npos; at = text.find(phrase, at + 1)) {
    const bool starts = at == 0 || !std::isalnum(static_cast<unsigned char>(text[at - 1]));
    const size_t end = at + phrase.size();
    const bool ends = end >= text.size() || (!std::isalnum(static_cast<unsigned char>(text[end])) && text[end] != '-');
    if (starts && ends) return true;
  }
  return false;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A number as written: digits with the separators inside it ("1,240", "3.44"), and what kind.
struct Number {
  bool percent = false;  // followed by "%", "percent", "per cent" or "％"
  bool money = false;    // after "$", "€", "£", "¥" or followed by "元"
  bool year = false;     // four digits 1900-2099 with no separators, not money or percent
  bool date = false;     // a month or a day: before 年/月/日/号 ("24 年", "1 月 20 日"), or after a month's name
};

constexpr std::string_view kMonthNames[] = {"january", "february", "march", "april", "may", "june", "july",
                                            "august", "september", "october", "november", "december",
                                            "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
                                            "nov", "dec"};

// Chinese measure words and magnitudes: a number before one counts something.
constexpr std::string_view kMeasureWords[] = {
    "\xe5\x9d\x97", "\xe4\xb8\xaa", "\xe5\xbc\xa0", "\xe5\x8f\xb0", "\xe5\x90\x8d", "\xe4\xba\xba",
    "\xe5\xae\xb6", "\xe9\xa1\xb9", "\xe6\xac\xa1", "\xe4\xb8\x87", "\xe4\xba\xbf", "\xe5\x8d\x83",
    "\xe4\xbb\xb6", "\xe9\x83\xa8", "\xe6\xac\xbe", "\xe7\xaf\x87", "\xe6\x9d\xa1", "\xe6\x9e\x9a",
    "\xe9\xa2\x97", "\xe5\xba\xa7", "\xe8\xbe\x86"};  // 块 个 张 台 名 人 家 项 次 万 亿 千 件 部 款 篇 条 枚 颗 座 辆

// Letters written straight after a number that make it an amount: magnitudes, units of data,
// power, energy and frequency, a multiple.
bool IsUnit(std::string_view letters) {
  static constexpr std::string_view kUnits[] = {
      "bn", "m", "k", "K", "M", "B", "T", "x", "X", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "W", "kW", "MW", "GW",
      "TW", "Wh", "kWh", "MWh", "GWh", "TWh", "Hz", "MHz", "GHz", "pct", "bp", "bps", "km", "kg", "ms"};
  for (std::string_view unit : kUnits) {
    if (letters == unit) return true;
  }
  return false;
}

std::string_view After(std::string_view text, size_t at) {
  while (at < text.size() && text[at] == ' ') ++at;
  return text.substr(at);
}

template <typename Visit>
void ForEachNumber(std::string_view text, Visit visit) {
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    bool separated = false;
    while (i < text.size() && (IsDigit(text[i]) || ((text[i] == ',' || text[i] == '.') && i + 1 < text.size() &&
                                                     IsDigit(text[i + 1]) && i > start))) {
      separated |= !IsDigit(text[i]);
      ++i;
    }
    // A number glued to letters ("V3", "H800", "4-bit" is fine) is a name, not a quantity —
    // unless the letters after it are a unit or a magnitude: "23.9ZB", "169GWh", "671B", "25.56x".
    size_t letters_end = i;
    while (letters_end < text.size() && std::isalpha(static_cast<unsigned char>(text[letters_end]))) ++letters_end;
    const bool glued = (start > 0 && std::isalpha(static_cast<unsigned char>(text[start - 1]))) ||
                       (letters_end > i && !IsUnit(text.substr(i, letters_end - i)));
    if (glued) continue;
    Number n;
    const std::string_view rest = After(text, i);
    n.percent = rest.starts_with("%") || rest.starts_with("percent") || rest.starts_with("per cent") ||
                rest.starts_with("\xef\xbc\x85");  // ％
    const std::string_view before = text.substr(0, start);
    n.money = before.ends_with("$") || before.ends_with("\xe2\x82\xac") || before.ends_with("\xc2\xa3") ||
              before.ends_with("\xc2\xa5") || rest.starts_with("\xe5\x85\x83");  // € £ ¥ 元
    const size_t digits = i - start;
    // "1 月 20 日", "24 年", "January 20": a date, whatever else the number might be.
    for (std::string_view unit : {"年", "月", "日", "号"}) n.date |= !separated && rest.starts_with(unit);
    std::string_view word = before;
    while (!word.empty() && (word.back() == ' ' || word.back() == '.')) word.remove_suffix(1);
    for (std::string_view month : kMonthNames) {
      if (word.size() >= month.size() && !separated && digits <= 2) {
        const std::string_view tail = word.substr(word.size() - month.size());
        bool same = true;
        for (size_t c = 0; c < month.size() && same; ++c) {
          same = std::tolower(static_cast<unsigned char>(tail[c])) == month[c];
        }
        const bool whole = word.size() == month.size() ||
                           !std::isalpha(static_cast<unsigned char>(word[word.size() - month.size() - 1]));
        n.date |= same && whole;
      }
    }
    // "2048 块 H800": four digits before a measure word count things; a year takes 年 or nothing.
    bool counted = false;
    for (std::string_view unit : kMeasureWords) counted |= rest.starts_with(unit);
    if (!separated && digits == 4 && !n.percent && !n.money && !counted) {
      const int value = std::stoi(std::string(text.substr(start, 4)));
      n.year = value >= 1900 && value <= 2099;
    }
    visit(n);
  }
}

bool HasAny(const std::string& text, std::span<const std::string_view> phrases) {
  for (std::string_view phrase : phrases) {
    const bool latin = static_cast<unsigned char>(phrase[0]) < 0x80;
    if (latin ? HasPhrase(text, phrase) : text.find(phrase) != std::string::npos) return true;
  }
  return false;
}

// Words that ask for a cause. 为什么, 为何, 原因, 什么导致, 缘何
constexpr std::string_view kAskingWhy[] = {
    "why", "what caused", "what causes", "what drove", "what drives", "what led to", "what is behind",
    "what was behind", "reason for", "reasons for", "the reason", "the reasons", "cause of", "causes of",
    "\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88", "\xe4\xb8\xba\xe4\xbd\x95", "\xe5\x8e\x9f\xe5\x9b\xa0",
    "\xe4\xbb\x80\xe4\xb9\x88\xe5\xaf\xbc\xe8\x87\xb4", "\xe7\xbc\x98\xe4\xbd\x95"};

// Words that name a cause in a sentence. "since" and "after" are left out: "the highest since
// 1977" names none. 因为, 由于, 得益于, 受益于, 归功于, 源于, 导致, 缘于, 归因于, 受…影响 (影响 alone
// is too common), 推动, 驱动, 原因; and 因素 ("宏观经济表现、股市资金面、AI应用前景等因素共同影响传媒指数
// 走势" names why the index fell), a clause's "，故" before what it explains (so: "1月份因股市整体表现
// 不佳…，故指数走势较为低迷", "…，故净利润表现较好"; not "，故事") and "有关" ending a clause ("或与宏观
// 经济承压…有关。"; not "有关部门"); 使得 (made it so), "优势来自"/"主要来自"/源自 (came from) and 关键在于
// (the key lies in; not 在于 alone: "令人瞩目的地方…在于其极低的成本" names what is remarkable):
// "其成本优势来自高效能硬件选择、新型蒸馏技术…". And 担忧/顾虑 (concerns) say why something is not
// taken up: "他们的主要担忧是：1)远程大型语言模型服务的高延迟…" answers "为什么…云端部署不被广泛接受？".
constexpr std::string_view kNamingACause[] = {
    "because", "due to", "owing to", "as a result", "result of", "resulted from", "driven by", "caused",
    "causing", "thanks to", "led to", "leads to", "leading to", "on the back of", "amid", "reason", "reasons",
    "blamed", "attributed", "stemmed from", "stems from",
    "\xe5\x9b\xa0\xe4\xb8\xba", "\xe7\x94\xb1\xe4\xba\x8e", "\xe5\xbe\x97\xe7\x9b\x8a\xe4\xba\x8e",
    "\xe5\x8f\x97\xe7\x9b\x8a\xe4\xba\x8e", "\xe5\xbd\x92\xe5\x8a\x9f\xe4\xba\x8e", "\xe6\xba\x90\xe4\xba\x8e",
    "\xe5\xaf\xbc\xe8\x87\xb4", "\xe7\xbc\x98\xe4\xba\x8e", "\xe5\xbd\x92\xe5\x9b\xa0\xe4\xba\x8e",
    "\xe6\x8e\xa8\xe5\x8a\xa8", "\xe9\xa9\xb1\xe5\x8a\xa8", "\xe5\x8e\x9f\xe5\x9b\xa0", "因素", "，故指", "，故净", "，故而",
    "，故行", "，故公", "，故市", "有关。", "有关，", "有关；", "使得", "优势来自", "主要来自", "源自", "关键在于",
    "担忧", "顾虑", "受制于", "受限于"};

// A means and what it brought about name a cause too: "DeepSeek 通过算法优化的创新路径，进一步降低了
// 训练成本" answers "为什么DeepSeek的成本这么低？". 通过 (through) before a verb of effect.
constexpr std::string_view kMeans = "通过";
constexpr std::string_view kEffects[] = {"降低", "减少", "提升", "提高", "实现", "节省", "压缩", "突破"};

// (Not a bill passed, "该法案通过后", "获得通过了": 通过 there is the verb.)
bool NamesAMeans(const std::string& sentence) {
  for (size_t means = sentence.find(kMeans); means != std::string::npos; means = sentence.find(kMeans, means + 1)) {
    const std::string_view after = std::string_view(sentence).substr(means + kMeans.size());
    if (after.starts_with("后") || after.starts_with("了") || after.starts_with("，")) continue;
    for (std::string_view effect : kEffects) {
      if (after.find(effect) != std::string_view::npos) return true;
    }
    return false;
  }
  return false;
}

// A heading over causes: it asks why or names causes or drivers. 驱动因素, 动因
constexpr std::string_view kCauseHeadings[] = {
    "why", "reason", "reasons", "cause", "causes", "drivers", "what drove", "behind the",
    "\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88", "\xe4\xb8\xba\xe4\xbd\x95", "\xe5\x8e\x9f\xe5\x9b\xa0",
    "\xe9\xa9\xb1\xe5\x8a\xa8\xe5\x9b\xa0\xe7\xb4\xa0", "\xe5\x8a\xa8\xe5\x9b\xa0"};

// Quantities in words: "fell roughly tenfold", "doubled", "roughly halves the cost", "a third of"; 翻倍, 翻番, 减半, 一半, 倍 (a
// digit before 倍 is a number already; "数倍", "十倍" are not).
constexpr std::string_view kSpelledQuantities[] = {
    "twofold", "threefold", "fourfold", "fivefold", "tenfold", "hundredfold", "doubled", "tripled", "quadrupled",
    "doubles", "triples", "quadruples", "halves", "halve", "twice",
    "halved", "a third", "a quarter", "two thirds", "three quarters", "dozen", "dozens", "hundreds",
    "thousands", "millions", "billions", "翻倍", "翻番", "减半", "一半", "倍"};

// Shares in words: "a third of", "half of", "the majority", 一半.
// (Not "half" alone: "the second half of 2024" is a time.)
constexpr std::string_view kSpelledShares[] = {"a third", "a quarter", "two thirds", "three quarters", "about half",
                                               "nearly half", "almost half", "roughly half", "more than half",
                                               "less than half", "over half", "a fifth", "majority", "一半"};

// Numbers in words, an amount as their digits are: "three times faster". ("one" is left out:
// "one of the largest" measures nothing. Not a count: "two years earlier" would answer "How many
// employees…?" with the turnover.)
constexpr std::string_view kSpelledNumbers[] = {"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                                "eleven", "twelve", "twenty", "thirty", "forty", "fifty", "hundred"};

// A count in Chinese words: numerals, "多" or "余" perhaps, and a measure word ("十多个 IMAX 影厅",
// "三家", "两款"); not "一个", "一种", "几家" (an article, or no number), nor "第二部" (an ordinal).
// "当时由于国内仅有十多个
// IMAX 影厅…" answers "…有多少个IMAX影厅？".
bool HasChineseCount(std::string_view sentence) {
  static constexpr std::u32string_view kNumerals = U"一二两三四五六七八九十百千万";
  static constexpr std::u32string_view kMeasureWords = U"个家款座台块部名位项条只种倍所支";
  const DecodedText decoded = DecodeUtf8(sentence);
  size_t run = 0;
  uint32_t first = 0, before = 0;
  bool ordinal = false;  // "《封神第二部》"
  for (uint32_t cp : decoded.code_points) {
    if (kNumerals.find(static_cast<char32_t>(cp)) != std::u32string_view::npos) {
      if (run++ == 0) first = cp, ordinal = before == U'第';
      before = cp;
      continue;
    }
    before = cp;
    if (run > 0 && (cp == U'多' || cp == U'余')) continue;
    // (A count of hundreds opens on its multiplier, "一百", "两千": "百家号", "万一家里", "千家万户"
    // count nothing.)
    const bool article = run == 1 && first == U'一';
    const bool bare = first == U'百' || first == U'千' || first == U'万';
    if (run > 0 && !article && !bare && !ordinal && kMeasureWords.find(static_cast<char32_t>(cp)) != std::u32string_view::npos) {
      return true;
    }
    run = 0;
  }
  return false;
}

// Topics whose answer is figures (how something performed: a model on a benchmark, a company).
constexpr std::string_view kAskingForFigures[] = {"performance", "perform", "performed"};

// Topics whose answer is a company's financial results. 业绩, 经营情况, 经营业绩, 财务表现
constexpr std::string_view kAskingForResults[] = {
    "business performance", "financial performance", "financial results", "annual results", "quarterly results",
    "operating results", "results of operations", "业绩", "经营情况", "财务表现"};

// Topics on growth, in English. (Not 增长, 增速: nearly every Chinese market topic joins them to
// its size, "中国AI Agent市场规模与增长", and there the key findings take sentences of any subject —
// typed as growth, the main job's report took in "…2024年中国光芯片市场规模将增长至151.56亿元。")
constexpr std::string_view kAskingForGrowth[] = {"growth", "grow", "growing"};

// Words that state a change: "almost double", "up 27% from", "rose to", "a 28% decline", "同比",
// "增长", "提升", "下降", "减少", "降幅", "跌", "翻倍", "复合增长率".
constexpr std::string_view kStatingAChange[] = {
    "double", "doubled", "tripled", "grew", "grow", "grows", "growth", "rose", "rise", "rises", "increase",
    "increased", "increases", "expanded", "up", "fell", "fall", "falls", "decline", "declined", "dropped",
    "drop", "cagr", "compound annual", "year on year", "year-on-year", "同比", "环比", "增长", "增速",
    "提升", "上升", "下降", "下滑", "翻倍", "翻番", "复合", "减少", "增加", "降低", "降幅", "增幅", "跌", "涨",
    "降至", "增至", "升至", "上扬"};

// A Chinese question that asks by how much something changed ("下降了多少", "同比增长了多少",
// "股价跌了多少", "比V2.5提升了多少").
constexpr std::string_view kAskingAChangeZh[] = {"增长", "下降", "减少", "提升", "上升", "下滑", "降低", "增加",
                                                 "跌", "涨", "降幅", "增幅", "变化"};

// A question that asks how something changed: "美国四大互联网厂商的资本开支增速在2024年怎么变化？",
// "杜比影院在国内的票房这几年有什么变化？", "How has the average ticket price changed?". Answered by a
// change with its figures ("…在 2024 年一季度实现+30%增长，并在二、三季度持续上扬至 58%、59%"), not
// by a sentence sharing more of its words without one ("中国头部互联网厂商的 AI 资本开支有望跟随…").
constexpr std::string_view kAskingHowItChangedZh[] = {"怎么变化", "怎样变化", "如何变化", "什么变化", "变化如何",
                                                      "如何变动", "变化趋势", "走势如何", "趋势如何"};
// (Not "change" alone: "How will climate change affect coffee?" asks no change of a figure.)
constexpr std::string_view kChangingEn[] = {"changed", "evolved", "trended", "change?", "change over", "change since",
                                            "change between"};
// What a figure measures: a question on how one of these changed asks for the figures; "DeepSeek-
// V3相比V2有什么变化？" and "How has AI changed filmmaking?" ask what changed, in words.
constexpr std::string_view kMeasuredThings[] = {
    "票房", "收入", "营收", "利润", "净利", "规模", "增速", "价格", "票价", "数量", "占比", "份额", "市值", "估值",
    "开支", "支出", "人次", "销量", "出货量", "用户", "成本", "上座率", "指数", "price", "prices", "revenue",
    "revenues", "cost", "costs", "share", "sales", "capacity", "volume", "value", "valuation", "rate", "rates",
    "growth", "number", "spending", "margin", "margins", "users", "output", "demand", "installations"};

// A question on what stands in the way: "端侧大模型部署的挑战", "What supply risk does Harbor
// Robotics name?". Answered by a sentence naming a difficulty — "…考虑到端侧有限的计算能力、存储
// 能力和能源限制等，使得直接部署基于云端的 LLM 困难重重" — not by one naming the subject best
// ("我国的代表通用大模型包括…端侧大模型主要以蔚来的 NOMI GPT 大模型为代表").
constexpr std::string_view kAskingForObstacles[] = {"challenge", "challenges", "obstacle", "obstacles", "difficulty",
                                                    "difficulties", "risk", "risks", "bottleneck", "bottlenecks",
                                                    "挑战", "难点", "困难", "瓶颈", "障碍", "风险"};
// (Not 风险投资, venture capital: "哪些风险投资机构投资了月之暗面？".)
bool AsksForObstacles(const std::string& question) {
  for (std::string_view word : kAskingForObstacles) {
    if (word != "风险") {
      if (HasAny(question, std::span<const std::string_view>(&word, 1))) return true;
      continue;
    }
    for (size_t at = question.find(word); at != std::string::npos; at = question.find(word, at + 1)) {
      if (!std::string_view(question).substr(at + word.size()).starts_with("投资")) return true;
    }
  }
  return false;
}

constexpr std::string_view kNamingAnObstacle[] = {
    "challenge", "challenges", "challenging", "obstacle", "obstacles", "difficult", "difficulty", "difficulties",
    "hard to", "risk", "risks", "risky", "constraint", "constraints", "constrained", "limit", "limits", "limited",
    "barrier", "barriers", "bottleneck", "bottlenecks", "shortage", "shortages", "concern", "concerns", "threat",
    "threats", "挑战", "难点", "困难", "瓶颈", "障碍", "风险", "限制", "制约", "难以", "不足", "短缺", "受限", "门槛"};

// A topic on what lies ahead: "Harbor Robotics outlook" is answered by "Management expects
// revenue growth between 18% and 22% next year.", not by the year's margin. (English only: a
// Chinese market topic's 前景 and its 预计/有望 are in most of its sentences.)
constexpr std::string_view kAskingForTheOutlook[] = {"outlook", "prospects", "forecast", "forecasts", "guidance"};
constexpr std::string_view kLookingAhead[] = {
    "expect", "expects", "expected", "expecting", "expectation", "expectations", "forecast", "forecasts",
    "forecasted", "projected", "projects", "anticipate", "anticipates", "will", "next year", "guidance",
    "outlook", "plans to", "aims to", "is set to", "are set to", "likely"};

// What results are measured in: a company's sales and earnings and what foretells them (orders,
// backlog, guidance on revenue). 营收, 收入, 利润, 毛利, 订单, 出货量, 销量, 销售额
constexpr std::string_view kFinancialMeasures[] = {
    "revenue", "revenues", "sales", "turnover", "profit", "profits", "margin", "margins", "earnings", "income",
    "ebitda", "cash flow", "orders", "order intake", "backlog", "bookings", "营收", "收入", "利润", "毛利", "订单",
    "出货量", "销量", "销售额"};

// Words that ask where. 哪里, 哪儿, 在哪, 何处, 何地
constexpr std::string_view kAskingWhere[] = {"where", "\xe5\x93\xaa\xe9\x87\x8c", "\xe5\x93\xaa\xe5\x84\xbf",
                                             "\xe5\x9c\xa8\xe5\x93\xaa", "\xe4\xbd\x95\xe5\xa4\x84",
                                             "\xe4\xbd\x95\xe5\x9c\xb0"};

// Words that place something. 位于, 总部, 坐落, 设在, 地处
constexpr std::string_view kPlacing[] = {
    "headquartered", "headquarters", "based in", "located", "situated", "offices in", "plants in", "factories in",
    "\xe4\xbd\x8d\xe4\xba\x8e", "\xe6\x80\xbb\xe9\x83\xa8", "\xe5\x9d\x90\xe8\x90\xbd",
    "\xe8\xae\xbe\xe5\x9c\xa8", "\xe5\x9c\xb0\xe5\xa4\x84"};

// Where a person worked or studied, asked ("Where did Tomas Berg work before joining Harbor
// Robotics?"), is told as where they came from: "…Tomas Berg, joined in 2021 from a logistics
// private-equity fund." names no place, and the company's founding "in Rotterdam" had opened.
constexpr std::string_view kAskingACareer[] = {"work", "worked", "working", "study", "studied", "studying"};
constexpr std::string_view kTellingACareer[] = {"joined", "joining", "previously", "formerly", "former", "worked at",
                                                "worked for", "worked as", "studied", "graduated", "from a", "from an"};

// Words of an extreme, in a question or in a sentence that answers it. 最多, 最大, 最高, 最低, 最少,
// 最小, 最快, 最强, 最好, 居首, 榜首 (not 最 alone: 最新 and 最近 ask for the latest, not an extreme)
constexpr std::string_view kExtremes[] = {
    "the most", "the least", "the fewest", "largest", "biggest", "smallest", "highest", "lowest", "fastest",
    "slowest", "greatest", "strongest", "weakest", "cheapest", "best", "worst", "最多", "最大", "最高", "最低",
    "最少", "最小", "最快", "最强", "最好", "居首", "榜首"};

// Whether a preposition of place is followed by a capitalised name that is not a month: "in
// Rotterdam", "near the Maasvlakte terminals" is not ("the"), "in January" is not.
bool NamesAPlace(std::string_view sentence) {
  static constexpr std::string_view kPrepositions[] = {"in", "In", "at", "near", "from", "across", "throughout"};
  size_t i = 0;
  while (i < sentence.size()) {
    size_t end = i;
    while (end < sentence.size() && std::isalpha(static_cast<unsigned char>(sentence[end]))) ++end;
    if (end == i) {
      ++i;
      continue;
    }
    const std::string_view word = sentence.substr(i, end - i);
    const bool starts_word = i == 0 || !std::isalnum(static_cast<unsigned char>(sentence[i - 1]));
    i = end;
    if (!starts_word || end >= sentence.size() || sentence[end] != ' ') continue;
    bool preposition = false;
    for (std::string_view p : kPrepositions) preposition |= word == p;
    if (!preposition) continue;
    size_t next_end = end + 1;
    while (next_end < sentence.size() && std::isalpha(static_cast<unsigned char>(sentence[next_end]))) ++next_end;
    const std::string_view next = sentence.substr(end + 1, next_end - end - 1);
    if (next.size() < 2 || !std::isupper(static_cast<unsigned char>(next[0]))) continue;
    const std::string lower = AsciiLower(next);
    bool month = false;
    for (std::string_view m : kMonthNames) month |= lower == m;
    if (!month) return true;
  }
  return false;
}

// `question` (lower case) without a closing "and why": "What are most new grid batteries paired
// with, and why?" asks first what they are paired with ("…paired with solar farms, which use the
// batteries to shift midday output…", no causal word), its answer of the first question's kind,
// the why read with it. (As a cause, "Overcapacity … is the main reason" — why prices fell — had
// opened the report.)
std::string WithoutATrailingWhy(const std::string& question) {
  std::string_view asked = question;
  bool stripped = true, any = false;
  while (stripped) {
    stripped = false;
    while (!asked.empty() && (asked.back() == '?' || asked.back() == '.' || asked.back() == ',' ||
                              std::isspace(static_cast<unsigned char>(asked.back())))) {
      asked.remove_suffix(1);
    }
    for (std::string_view trailing : {" and why not", " and why"}) {
      if (asked.size() > trailing.size() + 8 && asked.ends_with(trailing)) {
        asked.remove_suffix(trailing.size());
        stripped = any = true;
        break;
      }
    }
  }
  // (The question mark kept: the kinds below read the question as asked.)
  return any ? std::string(asked) + "?" : question;
}

}  // namespace

AnswerType AnswerTypeOf(std::string_view question) {
  const std::string q = WithoutATrailingWhy(AsciiLower(question));
  if (HasPhrase(q, "how many") || HasPhrase(q, "what number of")) return AnswerType::kCount;
  // "What share of commuters take the bus…?" is answered by a percentage ("Buses carry 23% of
  // commuters…"), not by "…one bus every six minutes".
  // (Not "what share price…": "what share of", "what share does".)
  for (std::string_view phrase : {"what share of", "what share do", "what share does", "what share did",
                                  "what percentage", "what proportion", "what fraction", "what portion"}) {
    if (HasPhrase(q, phrase)) return AnswerType::kShare;
  }
  for (std::string_view phrase : {"how much", "by how much"}) {
    if (HasPhrase(q, phrase)) return AnswerType::kQuantity;
  }
  // "…占模块总功耗的比例是多少？", "占比是多少": a share, which "占模块总功耗的一半" gives and "光模块
  // 加驱动 SerDes 的功耗占比在 40~45%" gives too; any figure did ("预计到 2030 年, 在 400G+SerDes…").
  for (std::string_view phrase : {"比例是多少", "占比是多少", "比重是多少", "比例为多少", "占比为多少", "比重为多少", "占多少"}) {
    if (q.find(phrase) != std::string::npos) return AnswerType::kShare;
  }
  if (q.find("\xe5\xa4\x9a\xe5\xb0\x91") != std::string::npos) {  // 多少
    // "较2023年下降了多少" asks by how much something changed: a sentence stating the change
    // answers ("减少 124亿元，降幅 22.6%"), not one with any figure of its subject ("约占国内电影总
    // 票房的20%", which the question's words matched better).
    return HasAny(q, kAskingAChangeZh) ? AnswerType::kGrowth : AnswerType::kQuantity;
  }
  if (HasPhrase(q, "why")) return AnswerType::kReason;  // "Why did prices rise when demand fell?"
  for (std::string_view phrase : {"when", "what year", "which year", "what date"}) {
    if (HasPhrase(q, phrase)) return AnswerType::kTime;
  }
  // 何时, 什么时候, 哪一年, 哪年, 哪天, 哪一天, 哪个月, 几月, 几号, 什么时间 (before the why-words: "为何时"
  // asks when, not why)
  for (std::string_view phrase : {"何时", "什么时候", "哪一年", "哪年", "哪天", "哪一天", "哪个月", "几月", "几号", "什么时间"}) {
    if (q.find(phrase) != std::string::npos) return AnswerType::kTime;
  }
  if (HasAny(q, kAskingWhy)) return AnswerType::kReason;
  if (HasAny(q, kAskingWhere)) return HasAny(q, kAskingACareer) ? AnswerType::kCareer : AnswerType::kPlace;
  if (HasAny(q, kExtremes)) return AnswerType::kExtreme;
  if ((HasAny(q, kAskingHowItChangedZh) || (HasPhrase(q, "how") && HasAny(q, kChangingEn))) && HasAny(q, kMeasuredThings)) {
    return AnswerType::kGrowth;
  }
  if (AsksForObstacles(q)) return AnswerType::kObstacle;
  if (HasAny(q, kAskingForTheOutlook)) return AnswerType::kOutlook;
  // "天工SkyMusic有哪些特点？" is answered by "天工 SkyMusic 的特点包括：1) …；2) …", not by "天工
  // Skymusic 音乐以便捷的创作流程降低了音乐创作门槛。" (its words, and shorter). (Difficulties and
  // outlooks first: "面临哪些风险？" asks for risks.)
  if (q.find("哪些") != std::string::npos) return AnswerType::kList;
  // A company's or market's performance, results or business condition is told in its figures
  // (revenue, margin, growth): a topic of that kind asks for quantities as "how much" does.
  if (HasAny(q, kAskingForResults)) return AnswerType::kResults;
  if (HasAny(q, kAskingForFigures)) return AnswerType::kQuantity;
  if (HasAny(q, kAskingForGrowth)) return AnswerType::kGrowth;
  return AnswerType::kAny;
}

std::string CareerAskedOf(std::string_view question) {
  // (Not a text longer than a question, nor a "name" longer than a word: each sentence is searched
  // for it.)
  constexpr size_t kMaxQuestionBytes = 480, kMaxNameBytes = 64;
  if (question.size() > kMaxQuestionBytes || AnswerTypeOf(question) != AnswerType::kCareer) return {};
  // The words of the question, and the last capitalised one before the first asking a career.
  std::string last_name;
  size_t i = 0;
  while (i < question.size()) {
    size_t end = i;
    while (end < question.size() && std::isalpha(static_cast<unsigned char>(question[end]))) ++end;
    if (end == i) {
      ++i;
      continue;
    }
    const std::string word = AsciiLower(question.substr(i, end - i));
    for (std::string_view asking : kAskingACareer) {
      if (word == asking) return last_name;
    }
    // (Not the question's first word, "Where".)
    if (i > 0 && std::isupper(static_cast<unsigned char>(question[i])) && end - i >= 2 && end - i <= kMaxNameBytes) {
      last_name = word;
    }
    i = end;
  }
  return {};
}

bool NamesWhoseCareer(std::string_view career_of, std::string_view text) {
  return HasPhrase(AsciiLower(text), career_of);
}

bool NamesACause(std::string_view sentence) {
  return HasAny(AsciiLower(sentence), kNamingACause) || NamesAMeans(std::string(sentence));
}

bool Offers(AnswerType type, std::string_view sentence, std::string_view section) {
  if (type == AnswerType::kAny) return true;
  if (type == AnswerType::kReason) return NamesACause(sentence) || HasAny(AsciiLower(section), kCauseHeadings);
  if (type == AnswerType::kPlace) return HasAny(AsciiLower(sentence), kPlacing) || NamesAPlace(sentence);
  if (type == AnswerType::kCareer) return HasAny(AsciiLower(sentence), kTellingACareer) || NamesAPlace(sentence);
  if (type == AnswerType::kExtreme) return HasAny(AsciiLower(sentence), kExtremes);
  if (type == AnswerType::kObstacle) return HasAny(AsciiLower(sentence), kNamingAnObstacle);
  if (type == AnswerType::kOutlook) return HasAny(AsciiLower(sentence), kLookingAhead);
  if (type == AnswerType::kList) {
    static constexpr std::string_view kListing[] = {"、", "1)", "1）", "（1）", "①", "包括", "分别", "主要有", "：", ":"};
    for (std::string_view mark : kListing) {
      if (sentence.find(mark) != std::string_view::npos) return true;
    }
    return false;
  }
  // Growth and results: their words (a change, a financial measure) and a figure.
  if (type == AnswerType::kGrowth || type == AnswerType::kResults) {
    const bool named = type == AnswerType::kGrowth ? HasAny(AsciiLower(sentence), kStatingAChange)
                                                   : HasAny(AsciiLower(sentence), kFinancialMeasures);
    return named && Offers(AnswerType::kQuantity, sentence, section);
  }
  if (type == AnswerType::kShare && HasAny(AsciiLower(sentence), kSpelledShares)) return true;
  if (type == AnswerType::kQuantity && HasAny(AsciiLower(sentence), kSpelledQuantities)) {
    return true;
  }
  if (type == AnswerType::kQuantity && HasAny(AsciiLower(sentence), kSpelledNumbers)) {
    return true;
  }
  if ((type == AnswerType::kCount || type == AnswerType::kQuantity) && HasChineseCount(sentence)) return true;
  bool offers = false;
  ForEachNumber(sentence, [&](const Number& n) {
    switch (type) {
      case AnswerType::kCount: offers |= !n.percent && !n.money && !n.year && !n.date; break;
      case AnswerType::kQuantity: offers |= !n.year && !n.date; break;
      case AnswerType::kShare: offers |= n.percent; break;
      case AnswerType::kTime: offers |= n.year || n.date; break;
      case AnswerType::kAny:
      case AnswerType::kReason:
      case AnswerType::kPlace:
      case AnswerType::kCareer:
      case AnswerType::kExtreme:
      case AnswerType::kResults:
      case AnswerType::kGrowth:
      case AnswerType::kObstacle:
      case AnswerType::kOutlook:
      case AnswerType::kList: offers = true; break;
    }
  });
  if (offers || type != AnswerType::kTime) return offers;
  const std::string s = AsciiLower(sentence);
  static constexpr std::array<std::string_view, 12> kMonths = {"january", "february", "march", "april", "may", "june",
                                                               "july", "august", "september", "october", "november",
                                                               "december"};
  for (std::string_view month : kMonths) {
    if (HasPhrase(s, month)) return true;
  }
  // A digit before 月 or 年 ("1月", "3 月").
  for (std::string_view unit : {"\xe6\x9c\x88", "\xe5\xb9\xb4"}) {
    for (size_t at = s.find(unit); at != std::string::npos; at = s.find(unit, at + 1)) {
      size_t j = at;
      while (j > 0 && s[j - 1] == ' ') --j;
      if (j > 0 && IsDigit(s[j - 1])) return true;
    }
  }
  return false;
}

}  // namespace memory::internal
