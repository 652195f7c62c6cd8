#include "memory/sentences.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

#include "utf8_text.h"

namespace memory {
namespace {

using internal::IsCjk;
using internal::IsSpace;

// Page furniture of research reports and web pages: a sentence holding one of these is not
// report content.
// The last line: the advertisement report-sharing sites stamp on the PDFs they pass on ("知识星球
// 行业与管理资源", "专业知识社群：每月分享8000+份行业研究报告…", "微信扫码，长期有效", "进群福利"),
// and a brokerage's rating scale ("中性：相对基准指数涨幅在-5%~10%之间回避：相对基准指数跌幅 5%以上"
// headed a section of "为什么传媒指数下跌？"; "相对同期基准…", "评级标准为报告发布日后…" — not "营收相对
// 同期增长" or "ESG评级标准").
// (And the suitability notice a brokerage addresses to its clients, "若您并非银河证券客户中的专业投资者
// …完成投资者适当性匹配…": it stood among the risks "华龙证券的报告列出了哪些风险提示？" asked for.)
// (And the legal statements that close a brokerage's report: "据此投资所造成的任何一切后果或损失，本公司
// 及相关研究人员均不承担任何形式的法律责任。" answered "浦银国际报告列出了哪些投资风险？", the integrity
// rules "依据《证券期货经营机构及其工作人员廉洁从业规定》…" the question of 山西证券's preferred stocks;
// the analysts' licences, the rating scale's preamble, "以往表现并不能指引未来", "入市有风险，投资需
// 谨慎". Not "本公司" alone: a company's own report writes its results so.)
constexpr std::array<std::string_view, 48> kFurniture = {
    "请务必阅读", "免责声明", "资料来源", "数据来源", "来源：", "来源:", "证券研究报告", "分析师", "执业证书",
    "邮箱", "投资评级", "敬请参阅", "请参阅", "研究助理", "联系人", "电话", "本报告", "评级说明", "重要声明",
    "版权所有", "http", "www.", "@", "Source:", "Sources:", "Disclaimer", "All rights reserved",
    "知识星球", "专业知识社群", "扫码", "进群", "相对基准指数", "相对同期基准", "相对同期沪深", "评级标准为报告", "投资者适当性",
    "头寸", "当然客户", "法律责任", "廉洁从业", "执业规范", "特此声明", "执业资格", "投资咨询业务资格",
    "投资建议所涉及", "以往表现", "入市有风险", "股票价格变动"};

bool IsSentenceEnd(uint32_t cp) {
  return cp == 0x3002 || cp == 0xff01 || cp == 0xff1f || cp == 0xff1b || cp == '!' || cp == '?' || cp == ';';
}
bool IsCloser(uint32_t cp) {
  return cp == 0x201d || cp == 0x2019 || cp == '"' || cp == '\'' || cp == ')' || cp == 0xff09 || cp == 0x300d ||
         cp == 0x300f || cp == 0x3011;
}
// A section heading lends the sentences under it its words for ranking; past this many code
// points a "heading" line is prose that lacks a full stop.
constexpr size_t kMaxSectionChars = 120;
// A timeline's entry says what happened in at least this many code points after its date.
constexpr size_t kMinDatedEntryChars = 10;

// Punctuation a line may end with inside a sentence or at its end: such a line is no heading.
bool IsPunctuation(uint32_t cp) {
  if (cp < 0x80) return cp == ',' || cp == '.' || cp == ':' || cp == ';' || cp == '!' || cp == '?' || cp == '-';
  return (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xff01 && cp <= 0xff0f) || (cp >= 0xff1a && cp <= 0xff1f) ||
         cp == 0x2014 || cp == 0x2026;
}
// Wide characters: no space is written between two of them when lines are joined.
bool IsWide(uint32_t cp) { return IsCjk(cp) || (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xff00 && cp <= 0xffef); }
bool IsDigit(uint32_t cp) { return cp >= '0' && cp <= '9'; }
bool IsLetter(uint32_t cp) {
  if (IsCjk(cp)) return true;
  const utf8proc_category_t category = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO;
}

void Append(uint32_t cp, std::string* out) {
  utf8proc_uint8_t buffer[4];
  const utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buffer);
  if (n <= 0) {
    out->push_back(static_cast<char>(cp & 0xff));  // an invalid byte decoded as itself
    return;
  }
  out->append(reinterpret_cast<char*>(buffer), static_cast<size_t>(n));
}

struct Line {
  size_t begin = 0, end = 0;  // trimmed, code points
  bool blank_before = false;
};

// The passage as one stream of code points with its lines joined, each code point remembering
// where it came from, and the positions after which a hard break (heading, caption, list item,
// table row, paragraph) falls.
struct Joined {
  std::vector<uint32_t> cps;
  std::vector<uint64_t> source;
  std::vector<size_t> breaks;  // positions in cps where a new segment starts
};

bool StartsWith(const std::vector<uint32_t>& cps, size_t at, size_t end, std::u32string_view prefix) {
  if (end - at < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (cps[at + i] != prefix[i]) return false;
  }
  return true;
}

// Length of a figure/table label at `at` ("图 3:", "图表12：", "表1 ", "Figure 2."), or 0.
size_t CaptionLabel(const std::vector<uint32_t>& cps, size_t at, size_t end) {
  size_t i = at;
  for (std::u32string_view word : {std::u32string_view(U"图表"), std::u32string_view(U"图"), std::u32string_view(U"表"),
                                   std::u32string_view(U"Figure"), std::u32string_view(U"Table"), std::u32string_view(U"Fig.")}) {
    if (StartsWith(cps, at, end, word)) {
      i = at + word.size();
      break;
    }
  }
  if (i == at) return 0;
  while (i < end && IsSpace(cps[i])) ++i;
  const size_t digits = i;
  while (i < end && (IsDigit(cps[i]) || cps[i] == '.' || cps[i] == '-')) ++i;
  if (i == digits) return 0;
  while (i < end && IsSpace(cps[i])) ++i;
  if (i < end && (cps[i] == ':' || cps[i] == 0xff1a || cps[i] == '.')) ++i;
  while (i < end && IsSpace(cps[i])) ++i;
  return i - at;
}

// Length of a date at `at` ("1 月 11 日", "2024 年 6 月", "2025-01-20", "January 11, 2025",
// "11 Jan 2025"), or 0. A line opening with one is a timeline's entry, not a numbered section.
size_t DatePrefix(const std::vector<uint32_t>& cps, size_t at, size_t end) {
  auto digits = [&](size_t i) {
    size_t n = 0;
    while (i + n < end && IsDigit(cps[i + n])) ++n;
    return n;
  };
  auto value = [&](size_t i, size_t n) {
    int v = 0;
    for (size_t k = 0; k < n; ++k) v = v * 10 + static_cast<int>(cps[i + k] - '0');
    return v;
  };
  auto month_day = [&](size_t month_at, size_t month_digits, size_t day_at, size_t day_digits) {
    const int month = value(month_at, month_digits);
    const int day = day_digits == 0 ? 1 : value(day_at, day_digits);
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
  };
  auto skip_spaces = [&](size_t i) {
    while (i < end && IsSpace(cps[i])) ++i;
    return i;
  };
  auto month_name = [&](size_t i) -> size_t {
    static constexpr std::u32string_view kMonths[] = {U"January", U"February", U"March",     U"April",   U"May",
                                                      U"June",    U"July",     U"August",    U"September", U"October",
                                                      U"November", U"December"};
    for (std::u32string_view month : kMonths) {
      // A word of its own: "3 Mayors", "8 Augusta National" name no month.
      if (StartsWith(cps, i, end, month) && (i + month.size() >= end || !IsLetter(cps[i + month.size()]))) {
        return month.size();
      }
      if (month.size() > 3 && StartsWith(cps, i, end, month.substr(0, 3)) && (i + 3 >= end || !IsLetter(cps[i + 3]))) {
        return i + 3 < end && cps[i + 3] == '.' ? 4 : 3;
      }
    }
    return 0;
  };
  const size_t n = digits(at);
  if (n > 0) {
    // 年 / 月 / 日, spaces allowed between the parts as PDF text has them.
    size_t i = at, run = n;
    bool year = false;
    size_t j = skip_spaces(i + run);
    if (run == 4 && j < end && cps[j] == U'年') {
      year = true;
      i = skip_spaces(j + 1);
      run = digits(i);
      j = skip_spaces(i + run);
    }
    if (run >= 1 && run <= 2 && j < end && cps[j] == U'月') {
      const size_t day_at = skip_spaces(j + 1);
      const size_t day = digits(day_at);
      if (!month_day(i, run, day_at, day <= 2 ? day : 0)) return 0;
      if (day >= 1 && day <= 2) {
        const size_t unit = skip_spaces(day_at + day);
        if (unit < end && (cps[unit] == U'日' || cps[unit] == U'号')) return unit + 1 - at;
      }
      return year ? j + 1 - at : 0;
    }
    if (year) return 0;
    // 2025-01-20, 2025/1/20, 2025.01
    if (n == 4 && at + 4 < end && (cps[at + 4] == '-' || cps[at + 4] == '/' || cps[at + 4] == '.')) {
      const uint32_t separator = cps[at + 4];
      const size_t month = digits(at + 5);
      if (month < 1 || month > 2 || value(at, 4) < 1000) return 0;
      size_t after = at + 5 + month;
      size_t day_at = after, day = 0;
      if (after < end && cps[after] == separator) {
        day_at = after + 1;
        day = digits(day_at);
        if (day >= 1 && day <= 2) after += 1 + day;
        else day = 0;
      }
      if (!month_day(at + 5, month, day_at, day)) return 0;
      return after < end && IsDigit(cps[after]) ? 0 : after - at;
    }
    // 11 January 2025
    if (n <= 2) {
      const size_t name_at = skip_spaces(at + n);
      if (name_at == at + n) return 0;
      const size_t name = month_name(name_at);
      if (name == 0) return 0;
      size_t after = name_at + name;
      const size_t year_at = skip_spaces(after);
      if (year_at > after && digits(year_at) == 4) after = year_at + 4;
      return after - at;
    }
    return 0;
  }
  // January 11, 2025 / Jan. 11
  const size_t name = month_name(at);
  if (name == 0) return 0;
  const size_t day_at = skip_spaces(at + name);
  const size_t day = digits(day_at);
  if (day_at == at + name || day < 1 || day > 2) return 0;
  size_t after = day_at + day;
  size_t year_at = after < end && cps[after] == ',' ? after + 1 : after;
  year_at = skip_spaces(year_at);
  if (year_at > after && digits(year_at) == 4) after = year_at + 4;
  return after - at;
}

// Numbers in [begin, end) that stand apart from words ("65 亿", "1,570", not "R1" or "V3"): a
// table's row has a column of them.
size_t StandaloneNumbers(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  size_t count = 0;
  for (size_t i = begin; i < end;) {
    if (!IsDigit(cps[i])) {
      ++i;
      continue;
    }
    const bool after_word = i > begin && ((IsLetter(cps[i - 1]) && !IsCjk(cps[i - 1])) || cps[i - 1] == '-');
    size_t j = i;
    while (j < end && (IsDigit(cps[j]) || ((cps[j] == ',' || cps[j] == '.') && j + 1 < end && IsDigit(cps[j + 1])))) ++j;
    const bool before_word = j < end && IsLetter(cps[j]) && !IsCjk(cps[j]);
    if (!after_word && !before_word) ++count;
    i = j;
  }
  return count;
}

// Whether the line opens with a date set apart by a space, as a timeline's date column is
// ("1 月 11 日 “正式发布” …"; prose runs on: "1 月 11 日发布了…").
bool ColumnDate(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  const size_t date = DatePrefix(cps, begin, end);
  return date > 0 && begin + date < end && IsSpace(cps[begin + date]);
}

// Length of a section number at `at` ("1.2 ", "3、", "一、", "（二）", "## "), or 0.
size_t SectionLabel(const std::vector<uint32_t>& cps, size_t at, size_t end) {
  if (DatePrefix(cps, at, end) > 0) return 0;  // "1 月 11 日", "1 January": a date, not section 1
  size_t i = at;
  if (i < end && cps[i] == '#') {
    while (i < end && cps[i] == '#') ++i;
    while (i < end && IsSpace(cps[i])) ++i;
    return i - at;
  }
  static constexpr std::u32string_view kNumerals = U"一二三四五六七八九十";
  if (i < end && (cps[i] == 0xff08 || cps[i] == '(')) {
    size_t j = i + 1;
    while (j < end && (kNumerals.find(cps[j]) != std::u32string_view::npos || IsDigit(cps[j]))) ++j;
    if (j > i + 1 && j < end && (cps[j] == 0xff09 || cps[j] == ')')) return j + 1 - at;
    return 0;
  }
  size_t j = i;
  while (j < end && kNumerals.find(cps[j]) != std::u32string_view::npos) ++j;
  if (j > i && j < end && cps[j] == 0x3001) return j + 1 - at;
  j = i;
  size_t run = 0;
  while (j < end && (IsDigit(cps[j]) || (cps[j] == '.' && j > i))) {
    run = IsDigit(cps[j]) ? run + 1 : 0;
    if (run > 2) return 0;  // a year or an amount, not a section number
    ++j;
  }
  if (j > i && j < end && (cps[j] == 0x3001 || IsSpace(cps[j]))) {
    ++j;
    while (j < end && IsSpace(cps[j])) ++j;
    return j - at;
  }
  return 0;
}

// Whether the line [begin, end) names a figure's source ("资料来源：游戏产业报告，…山西证券研究所",
// "Source: IEA"): page furniture that ends where its line does. Run on into the next line, it
// took that line's first sentence with it into the furniture that is dropped ("…山西证券研究所
// 2024年版号发行延续常态化趋势，前5月累计发放524个。": the count of licences was never offered).
bool SourceLine(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  for (std::u32string_view prefix : {std::u32string_view(U"资料来源"), std::u32string_view(U"数据来源"),
                                     std::u32string_view(U"来源："), std::u32string_view(U"来源:"),
                                     std::u32string_view(U"Source:"), std::u32string_view(U"Sources:")}) {
    if (StartsWith(cps, begin, end, prefix)) return true;
  }
  return false;
}

// Whether the line [begin, end) is a numbered heading of an outline: a dotted section number
// ("2.", "2.1", "3.2.1"; parts of one or two digits) and a space, then a word — an ideograph
// that is not a unit (a wrapped line "2.1 倍…" is prose) or a capital ("2.1 Global demand";
// "2.1 million units…" is prose) — and no sentence end in the line.
bool NumberedHeadingLine(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  if (DatePrefix(cps, begin, end) > 0) return false;
  size_t i = begin, run = 0;
  bool dotted = false;
  while (i < end && (IsDigit(cps[i]) || (cps[i] == '.' && run > 0))) {
    dotted |= cps[i] == '.';
    run = IsDigit(cps[i]) ? run + 1 : 0;
    if (run > 2) return false;
    ++i;
  }
  if (!dotted || i == begin || i >= end || !IsSpace(cps[i])) return false;
  while (i < end && IsSpace(cps[i])) ++i;
  if (i >= end) return false;
  static constexpr std::u32string_view kUnits = U"倍亿万千百元个年月日号";
  const bool word = IsCjk(cps[i]) ? kUnits.find(cps[i]) == std::u32string_view::npos
                                  : utf8proc_category(static_cast<utf8proc_int32_t>(cps[i])) == UTF8PROC_CATEGORY_LU;
  if (!word) return false;
  for (size_t k = i; k < end; ++k) {
    if (IsSentenceEnd(cps[k])) return false;
  }
  return true;
}

// Whether the line [begin, end) is a Chinese section's heading: a Chinese numeral in brackets or
// before "、" ("（一）", "三、"), then words without a sentence's end. (Items numbered in digits,
// "（1）", are a list's, which may wrap over lines.)
bool ChineseSectionLine(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  while (begin < end && IsSpace(cps[begin])) ++begin;
  static constexpr std::u32string_view kNumerals = U"一二三四五六七八九十";
  size_t i = begin;
  const bool bracketed = i < end && (cps[i] == 0xff08 || cps[i] == '(');
  if (bracketed) ++i;
  const size_t numerals = i;
  while (i < end && kNumerals.find(static_cast<char32_t>(cps[i])) != std::u32string_view::npos) ++i;
  if (i == numerals || i >= end) return false;
  if (bracketed ? (cps[i] != 0xff09 && cps[i] != ')') : cps[i] != 0x3001) return false;
  if (i + 1 >= end) return false;
  for (size_t k = i + 1; k < end; ++k) {
    if (IsSentenceEnd(cps[k])) return false;
  }
  return true;
}

// Length of a list marker at `at` ("2) ", "（2）", "①", "一、", "3、", "1. ", "* ", "• "), or 0:
// dropped from the start of a sentence, which stays a verbatim substring of its passage.
// Whether a line ends on a word that cannot end a phrase — a particle, a preposition, a modal
// or an adverb waiting for its verb ("有望大幅", "进一步", "将") — so the line after it goes on.
bool StopsMidPhrase(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  while (end > begin && IsSpace(cps[end - 1])) --end;
  if (end == begin) return false;
  // (Not characters that also end words: 方向, 行为, 普及, 面对, 现在.)
  static constexpr std::u32string_view kParticles = U"的了和与并或而但将把被";
  if (kParticles.find(static_cast<char32_t>(cps[end - 1])) != std::u32string_view::npos) return true;
  // (Not adverbs a phrase may end on: "业绩增长显著", "国产化加速".)
  static constexpr std::u32string_view kWaiting[] = {U"有望", U"大幅", U"进一步", U"不断", U"逐步", U"正在", U"已经",
                                                     U"或将"};
  for (std::u32string_view word : kWaiting) {
    if (end - begin < word.size()) continue;
    bool match = true;
    for (size_t k = 0; k < word.size() && match; ++k) match = cps[end - word.size() + k] == word[k];
    if (match) return true;
  }
  return false;
}

// Whether the "**" of emphasis in `text` come in pairs ("**强化国产算力产业链**：为中国 AI 发展带来新
// 机遇", which Markdown shows in bold), not one left over from an emphasis the text cut.
bool EmphasisBalances(const std::string& text) {
  size_t marks = 0;
  for (size_t at = text.find("**"); at != std::string::npos; at = text.find("**", at + 2)) ++marks;
  return marks % 2 == 0;
}

// A line ending on a colon is a list's announcement when it holds a clause this long, in code
// points; shorter, it is a label ("投资要点：").
constexpr size_t kMinAnnouncementChars = 12;

// A bullet a line opens with: "•", "●", "■", "◆", and the symbol-font glyphs PDF extraction
// leaves in Unicode's private use area (U+F06C, Wingdings' "l", is a round bullet).
bool IsBullet(uint32_t cp) {
  return cp == 0x2022 || cp == 0x25cf || cp == 0x25a0 || cp == 0x25aa || cp == 0x25c6 || (cp >= 0xf000 && cp <= 0xf0ff);
}

size_t ListMarker(const std::vector<uint32_t>& cps, size_t at, size_t end) {
  size_t i = at;
  // "**" that opens a pair of emphasis marks in the piece is no bullet: taken as one, it left
  // "昆仑万维：**AIGC 发展不及预期…" with one "**" of its pair, and the sentence was dropped as stray
  // markup (a company's risks, asked for). One without its pair closes the emphasis of the
  // sentence before ("…崭露头角。**2024 年 12 月 26 日，…") and goes as a marker does.
  if (i + 1 < end && cps[i] == '*' && cps[i + 1] == '*') {
    size_t marks = 0;
    for (size_t k = i; k + 1 < end; ++k) {
      if (cps[k] == '*' && cps[k + 1] == '*') ++marks, ++k;
    }
    if (marks % 2 == 0) return 0;
  }
  if (i < end && ((cps[i] >= 0x2460 && cps[i] <= 0x2473) || IsBullet(cps[i]) || cps[i] == 0x00b7 || cps[i] == '*' ||
                  cps[i] == '-')) {
    while (i < end && (cps[i] == '*' || cps[i] == '-')) ++i;
    if (i == at) ++i;
  } else if (i < end && IsDigit(cps[i])) {
    while (i < end && IsDigit(cps[i])) ++i;
    if (i - at > 2 || i >= end) return 0;
    if (cps[i] == ')' || cps[i] == 0xff09 || cps[i] == 0x3001) {
      ++i;
    } else if (cps[i] == '.' && i + 1 < end && IsSpace(cps[i + 1])) {
      ++i;
    } else {
      return 0;
    }
  } else {
    const size_t section = SectionLabel(cps, at, end);
    if (section == 0 || IsDigit(cps[at])) return 0;
    i = at + section;
  }
  while (i < end && IsSpace(cps[i])) ++i;
  return i - at;
}

bool IsOpeningBracket(uint32_t cp) { return cp == '(' || cp == 0xff08 || cp == 0x300a; }
bool IsClosingBracket(uint32_t cp) { return cp == ')' || cp == 0xff09 || cp == 0x300b; }

// Whether the brackets of [begin, end) pair up. An inline list's marker ("1）", "2)" outside
// any bracket: "主要原因在于…三个方面超出市场预期：1）其性能…2）其成本…3）其为中国本土的初创企业")
// closes nothing; counted, it made the sentence that answers a why-question unquotable.
// Quotation marks are not counted: a quotation runs over several sentences in news text
// (TrimUnmatchedQuotes).
// The length of a numbered item's marker at `at` ("2)", "2）", "（2）"), 0 when there is none.
size_t ItemNumber(const std::vector<uint32_t>& cps, size_t at, size_t end) {
  size_t i = at;
  const bool opened = i < end && IsOpeningBracket(cps[i]);
  if (opened) ++i;
  const size_t digits = i;
  while (i < end && IsDigit(cps[i])) ++i;
  if (i == digits || i - digits > 2 || i >= end || !IsClosingBracket(cps[i])) return 0;
  return i + 1 - at;
}

// Whether the "；" at `i` separates the items of a list that the sentence [piece, i) opened inside
// itself ("AI Agent 市场规模包括 ToC 端和 ToB 端的应用价值：1) 在 B 端场景下，…；2) 在 C 端场景下，…。"):
// cut there, the quote gave the first item and promised the rest.
bool InlineListGoesOn(const std::vector<uint32_t>& cps, size_t piece, size_t i, size_t end) {
  if (cps[i] != 0xff1b && cps[i] != ';') return false;
  size_t next = i + 1;
  while (next < end && IsSpace(cps[next])) ++next;
  if (ItemNumber(cps, next, end) == 0) return false;
  while (piece < i && IsSpace(cps[piece])) ++piece;
  for (size_t k = piece + 1; k < i; ++k) {
    if (ItemNumber(cps, k, i) > 0 && (k == 0 || !IsDigit(cps[k - 1]))) return true;
  }
  return false;
}

bool BracketsBalance(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  int depth = 0;
  for (size_t i = begin; i < end; ++i) {
    if (IsOpeningBracket(cps[i])) ++depth;
    if (!IsClosingBracket(cps[i])) continue;
    size_t digits = 0;
    while (digits < i - begin && IsDigit(cps[i - 1 - digits])) ++digits;
    const bool after_number = digits >= 1 && digits <= 2;
    const bool list_marker = depth == 0 && after_number && (i - digits == begin || !IsOpeningBracket(cps[i - digits - 1]));
    if (list_marker) continue;
    if (--depth < 0) return false;
  }
  return depth == 0;
}

// A quotation that runs over several sentences ("“采用最新的 LED显示技术，是CINITY实现‘换道超车’的
// 核心竞争优势。LED 显示技术…瓶颈。…正是用了这一技术。”边巍介绍。") leaves its first sentence an
// opening mark it does not close and its last a closing mark it did not open: trimmed, each is
// quotable as it stands (both were dropped, the first being the answer to "CINITY 的核心竞争优势
// 是什么？").
void TrimUnmatchedQuotes(const std::vector<uint32_t>& cps, size_t* begin, size_t* end) {
  constexpr uint32_t kOpen = 0x201c, kClose = 0x201d;
  if (*begin < *end && cps[*begin] == kOpen && std::find(cps.begin() + *begin + 1, cps.begin() + *end, kClose) == cps.begin() + *end) {
    ++*begin;
    while (*begin < *end && IsSpace(cps[*begin])) ++*begin;
  }
  if (*begin < *end && cps[*end - 1] == kClose && std::find(cps.begin() + *begin, cps.begin() + *end - 1, kOpen) == cps.begin() + *end - 1) {
    --*end;
  }
}

// A row of short Chinese labels ("时间 公司 募资 估值") is a table's header, not a heading: three
// or more words of Chinese characters only, none longer than four ("生成式 AI 产业图谱" is a title).
bool IsLabelRow(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  size_t words = 0, length = 0;
  for (size_t i = begin; i <= end; ++i) {
    if (i == end || IsSpace(cps[i])) {
      if (length > 4) return false;
      if (length > 0) ++words;
      length = 0;
      continue;
    }
    if (!IsCjk(cps[i])) return false;
    ++length;
  }
  return words >= 3;
}

// Share of letters (CJK or alphabetic) among the visible characters.
double LetterShare(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  size_t visible = 0, letters = 0;
  for (size_t i = begin; i < end; ++i) {
    if (IsSpace(cps[i])) continue;
    ++visible;
    letters += IsLetter(cps[i]) ? 1 : 0;
  }
  return visible == 0 ? 0.0 : static_cast<double>(letters) / static_cast<double>(visible);
}

// The same share with each number ("548.47", "86.3%", "1,234") counted as one word: a sentence
// that reports figures ("2023 年全年票房收入已达 548.47 亿元、恢复至 2019 年的 86.3%……") is mostly
// words by this measure though most of its characters are digits, while a run of numbers is not.
double WordShare(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  size_t visible = 0, letters = 0;
  for (size_t i = begin; i < end; ++i) {
    if (IsSpace(cps[i])) continue;
    ++visible;
    if (IsDigit(cps[i])) {
      while (i + 1 < end && (IsDigit(cps[i + 1]) || ((cps[i + 1] == '.' || cps[i + 1] == ',') && i + 2 < end &&
                                                     IsDigit(cps[i + 2])))) {
        ++i;
      }
      if (i + 1 < end && cps[i + 1] == '%') ++i;
      continue;
    }
    letters += IsLetter(cps[i]) ? 1 : 0;
  }
  return visible == 0 ? 0.0 : static_cast<double>(letters) / static_cast<double>(visible);
}

Joined Join(const std::vector<uint32_t>& cps, bool hard_breaks) {
  std::vector<Line> lines;
  bool blank = false;
  for (size_t i = 0; i <= cps.size();) {
    size_t j = i;
    while (j < cps.size() && cps[j] != '\n') ++j;
    size_t b = i, e = j;
    while (b < e && IsSpace(cps[b])) ++b;
    while (e > b && IsSpace(cps[e - 1])) --e;
    if (b < e) {
      lines.push_back({b, e, blank});
      blank = false;
    } else if (i < cps.size()) {
      blank = true;
    }
    i = j + 1;
  }
  // The usual line length tells PDF-style text (short lines of one width) from prose; a
  // line well short of it that ends without punctuation is a heading.
  std::vector<size_t> lengths;
  size_t blank_gaps = 0;
  for (const Line& line : lines) {
    lengths.push_back(line.end - line.begin);
    blank_gaps += line.blank_before ? 1 : 0;
  }
  size_t usual = 0;
  if (!lengths.empty()) {
    std::vector<size_t> sorted = lengths;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() * 3 / 4), sorted.end());
    usual = sorted[sorted.size() * 3 / 4];
  }
  // Blank lines separate paragraphs unless (as in much PDF text) they separate every line.
  const bool blank_is_paragraph = lines.size() > 1 && blank_gaps * 2 < lines.size();

  // A timeline: lines that open with a date set apart — two in Chinese ("1 月 11 日 “正式发布”
  // …"; prose puts a comma after such a date, "1 月 11 日，"), three with a month's name, which
  // prose runs on from with a space ("…will be published on\nMarch 3, 2025 at the annual
  // meeting…"). A passage cut from a timeline may hold only two of its lines.
  size_t dated_lines = 0, dated_in_chinese = 0;
  for (const Line& line : lines) {
    if (!ColumnDate(cps, line.begin, line.end)) continue;
    ++dated_lines;
    const size_t date_end = line.begin + DatePrefix(cps, line.begin, line.end);
    dated_in_chinese += std::find(cps.begin() + line.begin, cps.begin() + date_end, U'月') != cps.begin() + date_end;
  }
  const bool timeline = dated_lines >= 3 || dated_in_chinese >= 2;
  Joined out;
  bool segment_dated = !lines.empty() && ColumnDate(cps, lines[0].begin, lines[0].end);
  for (size_t k = 0; k < lines.size(); ++k) {
    const Line& line = lines[k];
    if (k > 0) {
      const Line& previous = lines[k - 1];
      const size_t previous_length = previous.end - previous.begin;
      const uint32_t last = cps[previous.end - 1];
      const uint32_t first = cps[line.begin];
      bool hard = false;
      if (hard_breaks) {
        // A Chinese heading wrapped onto a second, short line without punctuation goes on there
        // when it is bulleted or its first line stops mid-phrase: " 中国互联网龙头加大 AI 投入，有望
        // 大幅" / "提升 AI 大模型能力" headed a section cut off at "有望大幅". (Blank lines or not: PDF
        // text puts them between every line.)
        const size_t line_length = line.end - line.begin;
        bool heading_goes_on = (IsBullet(cps[previous.begin]) || StopsMidPhrase(cps, previous.begin, previous.end)) &&
                               !IsBullet(first) && usual >= 12 && previous_length * 10 < usual * 9 &&
                               line_length * 10 < usual * 7 && IsCjk(last) && IsCjk(first) &&
                               !IsPunctuation(cps[line.end - 1]);
        for (size_t i = previous.begin; i < line.end && heading_goes_on; ++i) {
          heading_goes_on = !IsSentenceEnd(cps[i]) && cps[i] != '\t';
        }
        hard = (previous_length * 10 < usual * 7 && usual >= 12 && !IsPunctuation(last) && !heading_goes_on) ||
               (line.blank_before && blank_is_paragraph) || first == '#' || first == '-' || first == '*' ||
               first == '>' || first == '|' || cps[previous.begin] == '#' ||
               CaptionLabel(cps, line.begin, line.end) > 0 || CaptionLabel(cps, previous.begin, previous.end) > 0;
        // A short line of mostly digits without punctuation (a date, a page number) stands alone.
        auto digits_only = [&](const Line& l) {
          if ((l.end - l.begin) * 10 >= usual * 7 || LetterShare(cps, l.begin, l.end) >= 0.5) return false;
          for (size_t i = l.begin; i < l.end; ++i) {
            if (IsPunctuation(cps[i]) && cps[i] != '.' && cps[i] != '-') return false;
          }
          return true;
        };
        hard = hard || digits_only(previous) || digits_only(line);
        // A bulleted line starts an item; one shorter than the usual line that ends without
        // punctuation is a heading, which ends where its line does: " DeepSeek 缓解美对中的 AI
        // 半导体制裁" ran on into the paragraph under it, quoted as one sentence.
        hard = hard || IsBullet(first) ||
               (IsBullet(cps[previous.begin]) && previous_length * 10 < usual * 9 && !IsPunctuation(last) && !heading_goes_on);
        // A numbered heading line ("2. AI：行业发展仍处快车道，AGI 及 AIGC 或将深入影响传媒行业",
        // "2.1 全球 AI：产业投资及模型训练成本激增，头部机构领先优势明显") ends where the line
        // does, however long: run on, the outline's headings and the paragraph under them read
        // as one "sentence" that the ranker quoted first.
        hard = hard || NumberedHeadingLine(cps, previous.begin, previous.end);
        // So does a line numbered as a Chinese section ("（一）运营商、光模块等细分板块仍旧具备较大投资
        // 价值", "三、硬件端：…"), and one starts where such a line does: run on, the heading and the
        // list's announcement under it were quoted as one sentence.
        hard = hard || ChineseSectionLine(cps, previous.begin, previous.end) || ChineseSectionLine(cps, line.begin, line.end);
        hard = hard || SourceLine(cps, previous.begin, previous.end) || SourceLine(cps, line.begin, line.end);
        // In a timeline each dated line starts an entry, however long the lines around it.
        hard = hard || (timeline && segment_dated && ColumnDate(cps, line.begin, line.end));
        for (size_t i = previous.begin; i < previous.end && !hard; ++i) hard = cps[i] == '\t';
        for (size_t i = line.begin; i < line.end && !hard; ++i) hard = cps[i] == '\t';
      }
      if (hard) {
        out.breaks.push_back(out.cps.size());
        segment_dated = ColumnDate(cps, line.begin, line.end);
      } else if ((last == 0x2043 || last == 0xad) && !IsCjk(first) && (IsLetter(first) || IsDigit(first))) {
        // A word hyphenated across lines ("CINI⁃\nTY": PDF extraction leaves U+2043 or a soft
        // hyphen) is one word again, as the lexical analyser reads it: the mark goes.
        out.cps.pop_back();
        out.source.pop_back();
      } else if (!IsWide(last) && !IsWide(first)) {
        out.cps.push_back(' ');
        out.source.push_back(previous.end);
      }
    }
    bool in_space = false;
    for (size_t i = line.begin; i < line.end; ++i) {
      if (IsSpace(cps[i]) && cps[i] != '\t') {
        if (in_space) continue;
        in_space = true;
        out.cps.push_back(' ');
      } else {
        in_space = false;
        out.cps.push_back(cps[i]);
      }
      out.source.push_back(i);
    }
  }
  out.breaks.push_back(out.cps.size());
  return out;
}

// A run-in heading written as a sentence ("中国云服务市场增速及竞争格局。根据信通院数据，…": the bold
// lead-in of a paragraph): a short phrase without a comma or a figure, ending on the noun of a
// caption. Quoted, it reads as a finding that says nothing.
bool IsRunInHeading(const std::string& text) {
  constexpr size_t kMaxBytes = 3 * 20;  // twenty CJK characters
  static constexpr std::string_view kCaptionNouns[] = {"格局", "情况", "现状", "概况", "展望", "趋势", "回顾",
                                                       "复盘", "综述", "简介", "分析", "概览"};
  if (text.size() > kMaxBytes || !text.ends_with("。")) return false;
  const std::string_view phrase = std::string_view(text).substr(0, text.size() - std::string_view("。").size());
  if (phrase.find("，") != std::string_view::npos || phrase.find_first_of("0123456789,") != std::string_view::npos) return false;
  // A verb before the noun makes it a claim: "游戏行业收入增速呈放缓趋势。" (growth shows a slowing
  // trend) opens the paragraph giving its figures; "…正在重塑电商格局。"
  static constexpr std::string_view kVerbs[] = {"呈", "正在", "重塑", "保持", "延续", "出现", "显现", "有所"};
  for (std::string_view verb : kVerbs) {
    if (phrase.find(verb) != std::string_view::npos) return false;
  }
  for (std::string_view noun : kCaptionNouns) {
    if (phrase.ends_with(noun)) return true;
  }
  return false;
}

bool IsFurniture(const std::string& text) {
  for (std::string_view word : kFurniture) {
    if (text.find(word) != std::string::npos) return true;
  }
  // A security code ("300418.SZ", "601595.SH"): a brokerage report's stock recommendation.
  for (size_t dot = text.find('.'); dot != std::string::npos; dot = text.find('.', dot + 1)) {
    if (dot < 6 || dot + 3 > text.size()) continue;
    const std::string_view exchange = std::string_view(text).substr(dot + 1, 2);
    if (exchange != "SZ" && exchange != "SH" && exchange != "BJ" && exchange != "HK") continue;
    bool digits = true;
    for (size_t i = dot - 6; i < dot && digits; ++i) digits = text[i] >= '0' && text[i] <= '9';
    if (digits) return true;
  }
  return false;
}


// Whether the '.' at i ends a sentence: followed by a space, the end or a wide character, and
// neither a decimal point nor the dot of a one-letter abbreviation ("U.S.", "e.g.").
bool IsFullStop(const std::vector<uint32_t>& cps, size_t i, size_t end) {
  if (i + 1 < end && !IsSpace(cps[i + 1]) && !IsWide(cps[i + 1]) && !IsCloser(cps[i + 1])) return false;
  if (i >= 1 && IsLetter(cps[i - 1]) && !IsCjk(cps[i - 1]) && (i < 2 || !IsLetter(cps[i - 2]))) return false;
  return true;
}

}  // namespace

std::string NormalizeSpacing(std::string_view text) {
  const internal::DecodedText decoded = internal::DecodeUtf8(text);
  const Joined joined = Join(decoded.code_points, /*hard_breaks=*/false);
  std::string out;
  for (uint32_t cp : joined.cps) Append(cp, &out);
  return out;
}

PassageSentences SplitSentences(std::string_view passage, const SentenceOptions& options) {
  const internal::DecodedText decoded = internal::DecodeUtf8(passage);
  const Joined joined = Join(decoded.code_points, /*hard_breaks=*/true);
  const std::vector<uint32_t>& cps = joined.cps;
  PassageSentences result;
  std::set<std::string> seen;
  bool first_piece = true;
  std::string current_section;
  size_t content_end = cps.size();
  while (content_end > 0 && IsSpace(cps[content_end - 1])) --content_end;
  auto text_of = [&](size_t b, size_t e) {
    std::string text;
    for (size_t i = b; i < e; ++i) Append(cps[i], &text);
    return text;
  };
  // A heading line's words: without its bullets, trailing punctuation, a second caption beside
  // it or the unit in brackets closing a chart title.
  auto heading_span = [&](size_t b, size_t e) -> std::pair<size_t, size_t> {
    // Two captions on one line (a two-column page): the first one.
    for (size_t i = b + 1; i < e; ++i) {
      if (IsSpace(cps[i - 1]) && CaptionLabel(cps, i, e) > 0) {
        e = i;
        break;
      }
    }
    while (b < e && !IsLetter(cps[b]) && !IsDigit(cps[b])) ++b;  // bullets, private-use glyphs
    while (e > b && (IsSpace(cps[e - 1]) || IsPunctuation(cps[e - 1]))) --e;
    // A unit in brackets at the end of a chart title ("(亿元)", "（%）") says nothing as a heading.
    if (e > b && (cps[e - 1] == ')' || cps[e - 1] == 0xff09)) {
      size_t open = e - 1;
      while (open > b && cps[open] != '(' && cps[open] != 0xff08) --open;
      if ((cps[open] == '(' || cps[open] == 0xff08) && e - open <= 8) e = open;
      while (e > b && IsSpace(cps[e - 1])) --e;
    }
    return {b, e};
  };
  static constexpr std::u32string_view kCannotStart = U"是的了和与及并或而但月日年";
  auto add_heading = [&](size_t line_begin, size_t line_end) {
    const auto [b, e] = heading_span(line_begin, line_end);
    const size_t length = e - b;
    if (length < 4 || length > 40 || LetterShare(cps, b, e) < 0.6 || !BracketsBalance(cps, b, e) ||
        IsLabelRow(cps, b, e)) {
      return;
    }
    std::string text = text_of(b, e);
    // Notes ("注：E=IDC 预测"), formulas and markup are no headings, nor are pieces of a sentence
    // cut at a line end: they start with a particle or a date unit, or end with one.
    static constexpr std::u32string_view kCannotEnd = U"的了和与及并或而但在从对将为";
    if (IsFurniture(text) || text.find_first_of("[]\t|=*") != std::string::npos || text.rfind("注", 0) == 0 ||
        text.find("记者") != std::string::npos ||  // a byline
        kCannotStart.find(cps[b]) != std::u32string_view::npos || kCannotEnd.find(cps[e - 1]) != std::u32string_view::npos ||
        !seen.insert(text).second) {
      return;
    }
    result.headings.push_back({std::move(text), joined.source[b], joined.source[e - 1] + 1});
  };
  // Between a caption and the figure's source line lie the figure's contents: a table's cells
  // set as lines of their own ("第一类 盟友，可以不受限制地获" over "取美国先进计算芯片", a row of
  // 图表 22 in a PDF's text) are no headings, whatever their length (two of them headed sections
  // of a report on the export rules). Until a source line, a section's heading, or this many
  // code points (a source line the chunk or the extraction lost).
  constexpr size_t kMaxFigureChars = 1600, kNoFigure = static_cast<size_t>(-1);
  size_t figure_from = kNoFigure;
  // A passage may start inside a figure, its caption in the chunk before: its first source line,
  // before any caption, ends one that began with the passage.
  {
    size_t begin = 0;
    for (size_t end : joined.breaks) {
      if (begin < end && CaptionLabel(cps, begin, end) > 0) break;
      if (begin < end && SourceLine(cps, begin, end)) {
        if (begin <= kMaxFigureChars) figure_from = 0;
        break;
      }
      begin = end;
    }
  }
  size_t segment_begin = 0;
  for (size_t segment_end : joined.breaks) {
    const size_t begin = segment_begin;
    segment_begin = segment_end;
    if (begin >= segment_end) continue;
    // A caption or a numbered/Markdown heading line is a heading, never a sentence.
    const size_t caption = CaptionLabel(cps, begin, segment_end);
    const size_t section = caption == 0 ? SectionLabel(cps, begin, segment_end) : 0;
    if (figure_from != kNoFigure && (SourceLine(cps, begin, segment_end) || begin - figure_from > kMaxFigureChars)) {
      figure_from = kNoFigure;
    }
    bool has_end = false;
    for (size_t i = begin; i < segment_end && !has_end; ++i) {
      has_end = IsSentenceEnd(cps[i]) || (cps[i] == '.' && IsFullStop(cps, i, segment_end));
    }
    if (caption > 0 || ((section > 0 || cps[begin] == '#') && !has_end)) {
      if (!first_piece || options.starts_at_sentence) {
        add_heading(begin + caption + section, segment_end);
        // Every section line starts a section, whether or not it reads well as a heading (too
        // long, said before): the sentences after it are under it, not under an earlier one.
        if (caption == 0) {
          const auto [b, e] = heading_span(begin + section, segment_end);
          current_section = text_of(b, std::min(e, b + kMaxSectionChars));
        }
      }
      figure_from = caption > 0 ? begin : kNoFigure;
      first_piece = false;
      continue;
    }
    size_t piece = begin;
    // Furniture whose clause a "；" ended goes on in the next piece ("专业知识社群：每月分享…
    // 研究报告…；已成为投资、产业研究…工作助手。"): that piece is furniture too.
    bool furniture_goes_on = false;
    for (size_t i = begin; i <= segment_end; ++i) {
      const bool at_end = i == segment_end;
      if (!at_end && !(IsSentenceEnd(cps[i]) || (cps[i] == '.' && IsFullStop(cps, i, segment_end)))) continue;
      if (!at_end && InlineListGoesOn(cps, piece, i, segment_end)) continue;
      size_t stop = segment_end;
      if (!at_end) {
        stop = i + 1;
        while (stop < segment_end && (IsSentenceEnd(cps[stop]) || IsCloser(cps[stop]) || cps[stop] == '.')) ++stop;
      }
      const bool whole_segment = piece == begin;
      const bool continues_furniture = furniture_goes_on;
      furniture_goes_on = false;
      bool dated_entry = false;
      size_t b = piece, e = stop;
      piece = stop;
      if (!at_end) i = stop - 1;  // the loop's ++i lands on the next piece
      while (b < e && IsSpace(cps[b])) ++b;
      while (e > b && IsSpace(cps[e - 1])) --e;
      if (b >= e) continue;
      const bool leading_fragment = first_piece && !options.starts_at_sentence;
      first_piece = false;
      if (leading_fragment) continue;
      // A marker at a line's start in the passage as given makes the sentence a list's item (not
      // one after a sentence end on the same line).
      const size_t marker = ListMarker(cps, b, e);
      size_t line_start = joined.source[b];
      while (line_start > 0 && (decoded.code_points[line_start - 1] == ' ' || decoded.code_points[line_start - 1] == '\t')) {
        --line_start;
      }
      const bool list_item = marker > 0 && (line_start == 0 || decoded.code_points[line_start - 1] == '\n');
      b += marker;
      if (at_end) {
        // No sentence end: a fragment, or, when it is the whole line, a heading — or a
        // timeline's entry ("1 月 11 日 “正式发布” DeepSeek 正式发布官方 APP，并上线 iOS 与安卓
        // 应用市场"), which says what happened when as a sentence does. Not the passage's last
        // line, which a chunk boundary may have cut.
        const size_t date = whole_segment && segment_end < content_end ? DatePrefix(cps, b, e) : 0;
        dated_entry = date > 0 && e - (b + date) >= kMinDatedEntryChars && StandaloneNumbers(cps, b + date, e) <= 1;
        // A line that ends on a colon after a clause announces the list under it ("我们认为
        // DeepSeek 对通信行业的推动作用主要体现在两方面："): a sentence, which the ranker quotes
        // with the list's first item. A label ("投资要点：", "风险提示：") stays a heading. The line's
        // last clause after a sentence on it announces as well ("…保证搜索质量。天工 AI 搜索呈现的具体特点包括：").
        const bool announces = segment_end < content_end && e - b >= kMinAnnouncementChars &&
                               (cps[e - 1] == 0xff1a || cps[e - 1] == ':');
        if (!dated_entry && !announces) {
          // (Nor is a line the next one goes on from with a particle: "第二类 除第一类和第三类的
          // 国家" over "和地区，面临以国为单位", a table's cell in a passage that starts inside its
          // figure, after the caption.)
          size_t next = segment_end;
          while (next < cps.size() && IsSpace(cps[next])) ++next;
          const bool goes_on = next < cps.size() && kCannotStart.find(cps[next]) != std::u32string_view::npos;
          if (whole_segment && figure_from == kNoFigure && !goes_on) add_heading(b, e);
          continue;
        }
        // A hyphenation mark the line ended on joins the next line's word, which a hard break
        // left to the next segment: the entry ends before it.
        while (e > b && (cps[e - 1] == 0x2043 || cps[e - 1] == 0xad || IsSpace(cps[e - 1]))) --e;
      }
      TrimUnmatchedQuotes(cps, &b, &e);
      const size_t length = e - b;
      if (length < static_cast<size_t>(options.min_chars) || length > static_cast<size_t>(options.max_chars)) continue;
      // Inside a figure a short piece is a cell, not a sentence: "不限制先进计算芯片获得数量；" (the first
      // tier's rule, its tier in another line of the table) opened a section of "…第三类国家包括哪些？".
      constexpr size_t kMinFigureSentenceChars = 20;
      if (figure_from != kNoFigure && length < kMinFigureSentenceChars) continue;
      // (A title's or a quotation's opening mark is no stray punctuation: "《射雕英雄传：侠之大者》
      // 《封神第二部：战火西岐》…等都是视效大片。" names the films a question asks for.)
      // Not a page's list of related reports ("《…——传媒行业周报》2025.01.20《…》2024.12.06摘要："):
      // a title's sentence ends as a statement, a predicate of words after its last title.
      bool opens_a_title = cps[b] == 0x300a || cps[b] == 0x300c || cps[b] == 0x300e;  // 《「『
      if (opens_a_title) {
        const bool states = cps[e - 1] == 0x3002 || cps[e - 1] == 0xff01 || cps[e - 1] == 0xff1f;  // 。！？
        size_t last_title = e;
        for (size_t k = b; k < e; ++k) {
          if (cps[k] == 0x300b || cps[k] == 0x300d || cps[k] == 0x300f) last_title = k;  // 》」』
        }
        size_t said = 0;
        for (size_t k = last_title; k < e; ++k) said += IsCjk(cps[k]) ? 1 : 0;
        opens_a_title = states && last_title < e && said >= 2;
      }
      if ((IsPunctuation(cps[b]) && !opens_a_title) || IsCloser(cps[b]) || WordShare(cps, b, e) < 0.5 ||
          !BracketsBalance(cps, b, e)) {
        continue;
      }
      std::string text = text_of(b, e);
      if (IsRunInHeading(text)) continue;
      // "**" left over from emphasis in the extracted text would render as stray markup; dot
      // leaders ("布局大模型.....  14") are a table of contents' entry, not a sentence.
      if (continues_furniture || IsFurniture(text)) {
        furniture_goes_on = text.ends_with("；") || text.ends_with(";");
        continue;
      }
      if (text.find_first_of("[]\t|") != std::string::npos || !EmphasisBalances(text) ||
          text.find("....") != std::string::npos || text.find("………") != std::string::npos ||
          !seen.insert(text).second) {
        continue;
      }
      result.sentences.push_back(
          {std::move(text), joined.source[b], joined.source[e - 1] + 1, current_section, dated_entry, list_item});
    }
  }
  return result;
}

}  // namespace memory
