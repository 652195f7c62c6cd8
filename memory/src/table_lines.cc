#include "table_lines.h"

namespace memory::internal {
namespace {

bool IsNumberLike(const std::string& cell) {
  size_t digits = 0, other = 0;
  for (unsigned char c : cell) {
    if (c >= '0' && c <= '9') ++digits;
    else if (c != '.' && c != ',' && c != '%' && c != '-' && c != '+' && c != ' ') ++other;
  }
  return digits > 0 && other == 0;
}

bool IsRuleCell(const std::string& cell) {
  for (char c : cell) {
    if (c != '-' && c != '=' && c != ':' && c != '|' && c != '+') return false;
  }
  return true;
}

}  // namespace

TableLine ReadTableLine(std::string_view line) {
  TableLine out;
  size_t tabs = 0;
  bool blank = true;
  for (char c : line) {
    tabs += c == '\t';
    blank = blank && (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v');
  }
  if (blank) {
    out.kind = TableLineKind::kBlank;
    return out;
  }
  if (tabs < 2) return out;
  size_t at = 0;
  while (true) {
    const size_t tab = line.find('\t', at);
    std::string cell(line.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at));
    while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\r')) cell.pop_back();
    size_t lead = 0;
    while (lead < cell.size() && cell[lead] == ' ') ++lead;
    cell.erase(0, lead);
    out.cells.push_back(std::move(cell));
    if (tab == std::string_view::npos) break;
    at = tab + 1;
  }
  bool rule = true;
  for (const std::string& cell : out.cells) rule = rule && IsRuleCell(cell);
  out.kind = rule ? TableLineKind::kRule : TableLineKind::kRow;
  if (rule) out.cells.clear();
  return out;
}

bool ReadsAsHeader(const std::vector<std::string>& cells) {
  size_t words = 0, filled = 0;
  for (const std::string& cell : cells) {
    if (cell.empty()) continue;
    ++filled;
    words += IsNumberLike(cell) ? 0 : 1;
  }
  return filled >= 2 && words * 4 >= filled * 3;
}

size_t NextTableRow(std::span<const TableLine> lines, size_t last_row, size_t columns) {
  constexpr size_t kMaxGap = 3;  // blank lines and rules between a table and its set-apart row
  const size_t next = last_row + 1;
  if (next < lines.size() && lines[next].kind == TableLineKind::kRow) return next;
  for (size_t i = next; i < lines.size() && i - next <= kMaxGap; ++i) {
    switch (lines[i].kind) {
      case TableLineKind::kBlank:
      case TableLineKind::kRule:
        break;
      case TableLineKind::kRow: {
        // A lone row: one followed by another row is a second table's first (its header may
        // read as numbers: "Region  2023  2024").
        const bool lone = i + 1 >= lines.size() || lines[i + 1].kind != TableLineKind::kRow;
        return lone && lines[i].cells.size() == columns && !ReadsAsHeader(lines[i].cells) ? i : lines.size();
      }
      case TableLineKind::kText:
        return lines.size();
    }
  }
  return lines.size();
}

}  // namespace memory::internal
