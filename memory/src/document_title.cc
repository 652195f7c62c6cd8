#include "memory/document_title.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include "utf8_text.h"

namespace memory {
namespace {

using internal::DecodedText;
using internal::DecodeUtf8;

constexpr size_t kMaxTitleCodePoints = 100;
constexpr size_t kMaxLinesConsidered = 40;
// A title's first line is at least this long: shorter ones are section names ("传媒").
constexpr size_t kMinTitleCodePoints = 6;

// Words that mark a line as front matter rather than a headline: bylines, analysts and their
// licences, dates, ratings, disclaimers, contacts.
constexpr std::array<std::string_view, 27> kFrontMatterWords = {
    "记者",     "分析师",   "研究员",   "研究助理", "联系人",   "报告日期", "发布日期", "证书编号", "执业证书",
    "邮箱",     "电话",     "投资评级", "评级",     "（维持）", "(维持)",   "资料来源", "数据来源", "请务必阅读",
    "免责声明", "证券研究报告", "http://", "https://", "www.",   "@",        "Copyright", "All rights reserved",
    "Page "};

bool IsSpaceOrBom(uint32_t cp) { return internal::IsSpace(cp) || cp == 0xFEFF || cp == 0x3000; }

struct Line {
  std::string_view text;  // trimmed
  size_t code_points = 0;
  bool has_letters = false;  // a letter or a CJK ideograph, not only digits and marks
};

Line MakeLine(std::string_view raw) {
  const DecodedText decoded = DecodeUtf8(raw);
  size_t first = 0, last = decoded.code_points.size();
  while (first < last && IsSpaceOrBom(decoded.code_points[first])) ++first;
  while (last > first && IsSpaceOrBom(decoded.code_points[last - 1])) --last;
  Line line;
  line.text = raw.substr(decoded.byte_offsets[first], decoded.byte_offsets[last] - decoded.byte_offsets[first]);
  line.code_points = last - first;
  for (size_t i = first; i < last; ++i) {
    const uint32_t cp = decoded.code_points[i];
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || internal::IsCjk(cp) || (cp >= 0xC0 && cp < 0x2000)) {
      line.has_letters = true;
      break;
    }
  }
  return line;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool IsFrontMatter(const Line& line) {
  if (line.code_points < kMinTitleCodePoints || !line.has_letters) return true;
  for (std::string_view word : kFrontMatterWords) {
    if (line.text.find(word) != std::string_view::npos) return true;
  }
  // A label of the report's kind ("行业中期策略报告", "专题报告"), not its subject.
  return line.code_points <= 12 && EndsWith(line.text, "报告");
}

// The line breaks off where a headline cannot end: the next line continues it.
bool BreaksOff(std::string_view text) {
  for (std::string_view mark : {"，", "、", "：", "；", "——", ",", ":", "-", "(", "（", "《"}) {
    if (EndsWith(text, mark)) return true;
  }
  return false;
}

bool EndsSentence(std::string_view text) {
  for (std::string_view mark : {"。", "！", "？", ".", "!", "?", "”", "\""}) {
    if (EndsWith(text, mark)) return true;
  }
  return false;
}

// Joins two pieces of one title: a space after Latin text ("Robotics: annual"), none next
// to CJK text.
std::string Join(std::string_view a, std::string_view b) {
  const bool latin_a = !a.empty() && static_cast<unsigned char>(a.back()) < 0x80 && a.back() != '(' && a.back() != '-';
  const bool latin_b = !b.empty() && static_cast<unsigned char>(b.front()) < 0x80 && std::isalnum(static_cast<unsigned char>(b.front()));
  std::string joined(a);
  if (latin_a && latin_b) joined += ' ';
  joined += b;
  return joined;
}

// The first `limit` code points of `text` (whole code points), with "…" when cut.
std::string Clip(const std::string& text, size_t limit) {
  const DecodedText decoded = DecodeUtf8(text);
  if (decoded.code_points.size() <= limit) return text;
  return text.substr(0, decoded.byte_offsets[limit - 1]) + "…";
}

// Where the first sentence-ending mark in `text` within `limit` code points is (bytes before
// it), or npos.
size_t SentenceEndWithin(std::string_view text, size_t limit) {
  const DecodedText decoded = DecodeUtf8(text);
  const size_t n = std::min(limit, decoded.code_points.size());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t cp = decoded.code_points[i];
    if (cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F) return decoded.byte_offsets[i];  // 。！？
  }
  return std::string_view::npos;
}

// Where the first clause-ending mark (，；：。！？) in `text` within `limit` code points is, or npos.
size_t ClauseEndWithin(std::string_view text, size_t limit) {
  const DecodedText decoded = DecodeUtf8(text);
  const size_t n = std::min(limit, decoded.code_points.size());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t cp = decoded.code_points[i];
    if (cp == 0xFF0C || cp == 0xFF1B || cp == 0xFF1A || cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F) {
      return decoded.byte_offsets[i];
    }
  }
  return std::string_view::npos;
}

// A reporter's byline on a line of its own: a short line of names and nothing else, naming a
// reporter ("证券时报记者 阮润生", "本报记者 张三 李四") or opening with "By " and a capitalised
// name. A sentence that mentions a reporter ("向记者表示，") has punctuation and is not one.
bool IsByline(const Line& line) {
  if (line.code_points > 24) return false;
  const DecodedText decoded = DecodeUtf8(line.text);
  for (uint32_t cp : decoded.code_points) {
    const bool name_like = internal::IsCjk(cp) || internal::IsSpace(cp) || cp == 0x3000 || cp == '.' || cp == '-' ||
                           (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || cp == 0x00B7 || cp == 0x30FB;
    if (!name_like) return false;
  }
  const size_t reporter = line.text.find("记者");
  if (reporter != std::string_view::npos) {
    // The name follows after a space: "向证券时报记者表" (a sentence broken by the layout) is not one.
    const Line name = MakeLine(line.text.substr(reporter + 6));
    return !name.text.empty() && name.text.size() + reporter + 6 < line.text.size();
  }
  return StartsWith(line.text, "By ") && line.text.size() > 3 && std::isupper(static_cast<unsigned char>(line.text[3]));
}

// Code points of text before the first byline that still count as the document's opening:
// a byline there introduces the first article.
constexpr size_t kOpeningCodePoints = 200;

}  // namespace

std::string GuessDocumentTitle(std::string_view text) {
  std::vector<Line> lines;
  size_t at = 0;
  while (at <= text.size() && lines.size() < kMaxLinesConsidered) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    Line line = MakeLine(text.substr(at, end - at));
    if (!line.text.empty()) lines.push_back(line);
    at = end + 1;
  }
  // A Markdown document names itself.
  for (const Line& line : lines) {
    if (StartsWith(line.text, "# ")) {
      const Line heading = MakeLine(line.text.substr(2));
      if (!heading.text.empty()) return Clip(std::string(heading.text), kMaxTitleCodePoints);
    }
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (StartsWith(line.text, "#") || IsFrontMatter(line)) continue;
    std::string title(line.text);
    const Line* next = i + 1 < lines.size() ? &lines[i + 1] : nullptr;
    if (next != nullptr && !IsFrontMatter(*next)) {
      if (BreaksOff(title) || StartsWith(next->text, "——") || StartsWith(next->text, "—")) {
        title = Join(title, next->text);  // a headline over two lines, or a headline and its subtitle
      } else if (!EndsSentence(title)) {
        // The opening sentence of an article with no headline, broken by the PDF's layout: up to
        // its full stop, when that comes soon, else up to its first pause ("凭借出色性" + "价比，").
        size_t stop = SentenceEndWithin(next->text, 24);
        if (stop == std::string_view::npos) stop = ClauseEndWithin(next->text, 24);
        if (stop != std::string_view::npos && stop > 0) title = Join(title, next->text.substr(0, stop));
      }
    }
    return Clip(title, kMaxTitleCodePoints);
  }
  return "";
}

std::vector<ArticleStart> FindLaterArticles(std::string_view text) {
  std::vector<ArticleStart> articles;
  uint64_t code_points_before = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(at, end - at);
    const Line line = MakeLine(raw);
    if (!line.text.empty() && IsByline(line) && code_points_before >= kOpeningCodePoints) {
      // The title comes from the lines after the byline; the byline itself is front matter.
      std::string title = GuessDocumentTitle(text.substr(end));
      if (!title.empty()) articles.push_back(ArticleStart{code_points_before, std::move(title)});
    }
    code_points_before += DecodeUtf8(raw).code_points.size() + (end < text.size() ? 1 : 0);
    at = end + 1;
  }
  return articles;
}

std::string ArticleTitleAt(const std::vector<ArticleStart>& articles, const std::string& document_title,
                           uint64_t start, uint64_t end) {
  const uint64_t middle = start + (end > start ? (end - start) / 2 : 0);
  const std::string* title = &document_title;
  for (const ArticleStart& article : articles) {
    if (article.offset > middle) break;
    title = &article.title;
  }
  return *title;
}

}  // namespace memory
