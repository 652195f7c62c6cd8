#include "share_of_whole.h"

#include <algorithm>
#include <cctype>
#include <string>

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

}  // namespace memory::internal
