#include "memory/tables.h"

#include "utf8_text.h"

namespace memory {
namespace {

struct Line {
  size_t begin = 0, end = 0;  // code points
  std::vector<std::string> cells;
};

bool IsNumberLike(const std::string& cell) {
  size_t digits = 0, other = 0;
  for (unsigned char c : cell) {
    if (c >= '0' && c <= '9') ++digits;
    else if (c != '.' && c != ',' && c != '%' && c != '-' && c != '+' && c != ' ') ++other;
  }
  return digits > 0 && other == 0;
}

}  // namespace

std::vector<PassageTable> FindTables(std::string_view passage) {
  const internal::DecodedText decoded = internal::DecodeUtf8(passage);
  const std::vector<size_t>& offsets = decoded.byte_offsets;
  std::vector<Line> lines;
  size_t begin = 0;
  for (size_t i = 0; i <= decoded.code_points.size(); ++i) {
    if (i < decoded.code_points.size() && decoded.code_points[i] != '\n') continue;
    Line line{begin, i, {}};
    const std::string_view text = passage.substr(offsets[begin], offsets[i] - offsets[begin]);
    size_t tabs = 0;
    for (char c : text) tabs += c == '\t';
    if (tabs >= 2) {
      size_t at = 0;
      while (true) {
        const size_t tab = text.find('\t', at);
        std::string cell(text.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
        while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\r')) cell.pop_back();
        while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
        line.cells.push_back(std::move(cell));
        if (tab == std::string_view::npos) break;
        at = tab + 1;
      }
    }
    lines.push_back(std::move(line));
    begin = i + 1;
  }
  std::vector<PassageTable> tables;
  for (size_t i = 0; i < lines.size();) {
    if (lines[i].cells.size() < 3) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < lines.size() && lines[j].cells.size() >= 3) ++j;
    // A header reads as words: most of its non-empty cells are not numbers.
    size_t words = 0, filled = 0;
    for (const std::string& cell : lines[i].cells) {
      if (cell.empty()) continue;
      ++filled;
      words += IsNumberLike(cell) ? 0 : 1;
    }
    if (j - i >= 2 && filled >= 2 && words * 4 >= filled * 3) {
      PassageTable table;
      table.header = lines[i].cells;
      for (size_t k = i + 1; k < j; ++k) table.rows.push_back({lines[k].cells, lines[k].begin, lines[k].end});
      tables.push_back(std::move(table));
    }
    i = j;
  }
  return tables;
}

}  // namespace memory
