#include "memory/tables.h"

#include "table_lines.h"
#include "utf8_text.h"

namespace memory {

std::vector<PassageTable> FindTables(std::string_view passage) {
  const internal::DecodedText decoded = internal::DecodeUtf8(passage);
  const std::vector<size_t>& offsets = decoded.byte_offsets;
  std::vector<internal::TableLine> lines;
  std::vector<std::pair<size_t, size_t>> spans;  // each line's [begin, end) in code points
  size_t begin = 0;
  for (size_t i = 0; i <= decoded.code_points.size(); ++i) {
    if (i < decoded.code_points.size() && decoded.code_points[i] != '\n') continue;
    lines.push_back(internal::ReadTableLine(passage.substr(offsets[begin], offsets[i] - offsets[begin])));
    spans.emplace_back(begin, i);
    begin = i + 1;
  }
  std::vector<PassageTable> tables;
  for (size_t i = 0; i < lines.size();) {
    if (lines[i].kind != internal::TableLineKind::kRow) {
      ++i;
      continue;
    }
    // A passage's first line comes trimmed: a header there one cell short of a full row under it
    // has lost its empty corner cell ("2023\t2024E…" for "\t2023\t2024E…"), and its columns are
    // the rows' last ones. (Elsewhere a row one cell longer ends in a tab: an empty last cell.)
    std::vector<std::string> header = lines[i].cells;
    if (i == 0 && i + 1 < lines.size() && lines[i + 1].kind == internal::TableLineKind::kRow &&
        lines[i + 1].cells.size() == header.size() + 1 && !lines[i + 1].cells.back().empty()) {
      header.insert(header.begin(), std::string());
    }
    std::vector<size_t> rows;
    for (size_t r = internal::NextTableRow(lines, i, header.size()); r < lines.size();
         r = internal::NextTableRow(lines, r, header.size())) {
      rows.push_back(r);
    }
    if (!rows.empty() && internal::ReadsAsHeader(header)) {
      PassageTable table;
      table.header = std::move(header);
      for (size_t r : rows) table.rows.push_back({lines[r].cells, spans[r].first, spans[r].second});
      tables.push_back(std::move(table));
    }
    i = rows.empty() ? i + 1 : rows.back() + 1;
  }
  return tables;
}

}  // namespace memory
