#include "share_of_whole.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>

#include "memory/lexical.h"
#include "utf8_text.h"

namespace memory::internal {
namespace {

// A whole is a noun phrase: "国内电影总票房", "全国影厅总数", "公司总收入". Longer spans are a clause.
constexpr size_t kMaxWholeCodePoints = 16;

bool StartsWith(const std::vector<uint32_t>& cps, size_t at, std::u32string_view word) {
  if (at + word.size() > cps.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    if (cps[at + k] != word[k]) return false;
  }
  return true;
}

bool IsAsciiWordChar(uint32_t cp) { return cp < 0x80 && (std::isalnum(static_cast<int>(cp)) || cp == '.'); }

}  // namespace

bool AsksForAShare(std::string_view question) {
  for (std::string_view word : {"占", "比例", "比重", "比率", "份额", "百分之", "百分比", "渗透率", "%", "％"}) {
    if (question.find(word) != std::string_view::npos) return true;
  }
  std::string lower(question);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view word : {"share", "percent", "proportion"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

std::string WithoutWholes(std::string_view text) {
  if (text.find("占") == std::string_view::npos) return std::string(text);
  const DecodedText decoded = DecodeUtf8(text);
  const std::vector<uint32_t>& cps = decoded.code_points;
  std::string out;
  size_t copied = 0;  // code points of `text` already in `out`
  for (size_t i = 0; i < cps.size(); ++i) {
    if (cps[i] != U'占' || i + 1 >= cps.size()) continue;
    // "占据市场份额前五", "占有", "占领", "占用", "占优": to hold, not to be a share of; "占比最高的"
    // names the share.
    if (std::u32string_view(U"据有领用优满上比").find(static_cast<char32_t>(cps[i + 1])) != std::u32string_view::npos) continue;
    size_t end = 0;  // one past the whole's last code point, once found
    for (size_t j = i + 1; j < cps.size() && j <= i + kMaxWholeCodePoints; ++j) {
      if (cps[j] == U'的') {
        end = j + 1;
        break;
      }
      if (StartsWith(cps, j, U"比重") || StartsWith(cps, j, U"比例")) {
        end = j;
        break;
      }
      if (!IsCjk(cps[j]) && !IsSpace(cps[j]) && !IsAsciiWordChar(cps[j])) break;  // punctuation: a clause ends
    }
    if (end <= i + 1) continue;
    out.append(text.substr(decoded.byte_offsets[copied], decoded.byte_offsets[i] - decoded.byte_offsets[copied]));
    out.push_back(' ');
    copied = end;
    i = end - 1;
  }
  out.append(text.substr(decoded.byte_offsets[copied]));
  return out;
}

std::vector<std::string> ShareHolderTerms(std::string_view question) {
  const size_t at = question.find("占");
  if (at == std::string_view::npos) return {};
  const std::string_view after = question.substr(at + std::string_view("占").size());
  for (std::string_view not_a_share : {"比", "有", "据", "领", "用"}) {
    if (after.starts_with(not_a_share)) return {};
  }
  // From the last break before it: punctuation, a digit (a time's, "2024年"), a time word.
  const size_t from = StartWithin(question, at, kMaxShareHolderBytes);
  std::string_view before = question.substr(from, at - from);
  for (std::string_view mark : {"，", "、", "；", "：", ",", " ", "年", "月", "季度", "以来"}) {
    const size_t last = before.rfind(mark);
    if (last != std::string_view::npos) before = before.substr(last + mark.size());
  }
  // Not the wholes it is a share of, "在…中", nor an adverb before "占": "全球高端特效厅在影厅数量和
  // 票房中分别占多大比例？" asks the premium halls' shares, which "全球 2%的高端特效厅产出的票房占整体的
  // 25%以上" gives.
  for (std::string_view adverb : {"分别", "各自", "均", "各"}) {
    if (before.ends_with(adverb)) {
      before.remove_suffix(adverb.size());
      break;
    }
  }
  if (const size_t in = before.rfind("在"); in != std::string_view::npos && in > 0 && before.ends_with("中")) {
    before = before.substr(0, in);
  }
  static constexpr std::string_view kOf[] = {"的"};
  std::vector<std::string> terms = LexicalTerms(WordsAsBreaks(before, kOf));
  // A lone character ("其", "它") names nobody in particular.
  if (terms.size() == 1 && terms[0].size() <= 4 && static_cast<unsigned char>(terms[0][0]) >= 0x80) terms.clear();
  return terms;
}

bool GivesTheShareOf(const std::unordered_set<std::string>& wanted, std::string_view sentence) {
  if (wanted.empty() || sentence.find("占") == std::string_view::npos) return true;
  static constexpr std::string_view kClauseEnds[] = {"，", "；", "。", "：", ",", ";", ":"};
  // A holder stands within a clause's reach of its "占" (kMaxReachBytes), and a sentence gives
  // few shares: a hostile one of megabytes of "占" is read a bounded stretch at a time.
  constexpr size_t kMaxReachBytes = 3 * kMaxWholeCodePoints * 4;
  constexpr int kMaxShares = 16;
  int shares = 0;
  for (size_t at = sentence.find("占"); at != std::string_view::npos && shares < kMaxShares;
       at = sentence.find("占", at + 1), ++shares) {
    const size_t reach = StartWithin(sentence, at, kMaxReachBytes);
    // The clause's start: past the last clause end before `to`, within reach.
    auto clause_start = [&](size_t to) {
      size_t from = reach;
      for (std::string_view end : kClauseEnds) {
        const size_t last = sentence.substr(reach, to - reach).rfind(end);
        if (last != std::string_view::npos) from = std::max(from, reach + last + end.size());
      }
      return from;
    };
    size_t from = clause_start(at);
    // A clause that opens on its share ("…票房为 85.3亿元，约占国内电影总票房的20%") has its
    // subject in the clause before: at most two characters ("约", "大约") stand before its "占".
    constexpr size_t kMaxOpenerBytes = 6;
    if (at - from <= kMaxOpenerBytes && from > reach) {
      size_t end = from;
      for (std::string_view mark : kClauseEnds) {
        if (end >= reach + mark.size() && sentence.substr(end - mark.size(), mark.size()) == mark) {
          end -= mark.size();
          break;
        }
      }
      from = clause_start(end);
    }
    size_t named = 0;
    std::unordered_set<std::string> seen;
    for (std::string& term : LexicalTerms(sentence.substr(from, at - from))) {
      if (wanted.count(term) && seen.insert(term).second) ++named;
    }
    if (4 * named >= 3 * wanted.size()) return true;
  }
  return false;
}

}  // namespace memory::internal
