#include "memory/document_issuer.h"

#include <cctype>
#include <map>

namespace memory {
namespace {

// What opens a line's list of sources, the last of which in the line counts: "资料来源：气泡大小
// 代表成本；资料来源：中国工业互联网研究院、浦银国际" credits 浦银国际.
constexpr std::string_view kSourceMarks[] = {"来源：", "来源:", "Sources:", "Source:", "Source："};
// What ends the list: a note after it ("数据来源：iFind，华龙证券研究所；注：标的盈利预测…").
constexpr std::string_view kListEnds[] = {"；", ";", "。", "\t"};
// What parts its credits.
constexpr std::string_view kCreditSeparators[] = {"，", "、", ",", "／", "/"};
// Past this, a "source line" is prose the PDF ran on into.
constexpr size_t kMaxSourceLineBytes = 400;
constexpr int kMinCredits = 3;
constexpr size_t kMaxQuestionBytes = 480;
// Data vendors and kinds of source that a report credits on most of its lines without having
// written them: no issuer.
constexpr std::string_view kNotIssuers[] = {"Wind", "iFind", "Bloomberg", "Choice", "同花顺", "FactSet", "Refinitiv",
                                            "公司公告", "公开资料", "公开信息", "公开信息整理", "公司官网", "官网",
                                            "公司财报", "公司年报"};

bool IsBlank(std::string_view s, size_t at, size_t* width) {
  if (s[at] == ' ' || s[at] == '\t' || s[at] == '\r') return *width = 1, true;
  if (s.substr(at, 3) == "\xe3\x80\x80") return *width = 3, true;  // 　 (full-width space)
  return false;
}

std::string_view Trimmed(std::string_view s) {
  size_t width = 0;
  while (!s.empty() && IsBlank(s, 0, &width)) s.remove_prefix(width);
  while (!s.empty()) {
    if (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '.') {
      s.remove_suffix(1);
    } else if (s.size() >= 3 && s.substr(s.size() - 3) == "\xe3\x80\x80") {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

// The last source a source line credits, or "" when `line` credits none.
std::string_view LastCredit(std::string_view line) {
  if (line.size() > kMaxSourceLineBytes) return {};
  size_t from = std::string_view::npos;
  for (std::string_view mark : kSourceMarks) {
    const size_t at = line.rfind(mark);
    if (at != std::string_view::npos && (from == std::string_view::npos || at + mark.size() > from)) from = at + mark.size();
  }
  if (from == std::string_view::npos) return {};
  std::string_view list = line.substr(from);
  for (std::string_view end : kListEnds) list = list.substr(0, list.find(end));
  for (std::string_view separator : kCreditSeparators) {
    const size_t at = list.rfind(separator);
    if (at != std::string_view::npos) list = list.substr(at + separator.size());
  }
  return Trimmed(list);
}

}  // namespace

std::string GuessDocumentIssuer(std::string_view text) {
  std::map<std::string_view, int> credits;
  int source_lines = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view credit = LastCredit(text.substr(at, end - at));
    if (!credit.empty()) {
      ++source_lines;
      ++credits[credit];
    }
    at = end + 1;
  }
  std::string_view best;
  int most = 0;
  for (const auto& [credit, count] : credits) {
    if (count > most) best = credit, most = count;
  }
  if (most < kMinCredits || 2 * most < source_lines || best.size() > kMaxIssuerBytes) return {};
  for (char c : best) {
    if (c >= '0' && c <= '9') return {};
  }
  for (std::string_view vendor : kNotIssuers) {
    if (best == vendor) return {};
  }
  return std::string(best);
}

std::string_view IssuerName(std::string_view issuer) {
  std::string_view name = Trimmed(issuer);
  for (std::string_view part : {"研究所", "研究院", "研究中心", "研究部"}) {
    if (name.ends_with(part)) name.remove_suffix(part.size());
  }
  name = Trimmed(name);
  if (name.starts_with("中国")) name.remove_prefix(std::string_view("中国").size());
  // (Two CJK characters at least, or three letters.)
  const bool cjk = !name.empty() && static_cast<unsigned char>(name[0]) >= 0x80;
  return name.size() < (cjk ? 6u : 3u) ? std::string_view() : name;
}

bool NamesIssuer(std::string_view text, std::string_view issuer) {
  const std::string_view name = IssuerName(issuer);
  if (name.empty() || text.size() > kMaxQuestionBytes) return false;
  auto word_byte = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  const bool latin_start = word_byte(name.front()), latin_end = word_byte(name.back());
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    if (latin_start && at > 0 && word_byte(text[at - 1])) continue;
    if (latin_end && at + name.size() < text.size() && word_byte(text[at + name.size()])) continue;
    return true;
  }
  return false;
}

}  // namespace memory
