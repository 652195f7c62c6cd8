// How a line of extracted text reads as part of a table. PDF extraction leaves a table as lines
// of tab-separated cells, and where the page had space or a ruled line between rows it leaves a
// blank line or a rule ("--\t-----\t…"); a table's total row often comes after one. Both the
// table finder (tables.h) and the widening of a search hit to whole units (sentence_span.h)
// follow a table past such lines the same way.
#ifndef AGENTD_MEMORY_TABLE_LINES_H_
#define AGENTD_MEMORY_TABLE_LINES_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace memory::internal {

enum class TableLineKind {
  kBlank,  // whitespace only
  kRule,   // three or more cells of dashes, equals signs, colons or bars only (and empty ones)
  kRow,    // three or more tab-separated cells
  kText,   // anything else
};

struct TableLine {
  TableLineKind kind = TableLineKind::kText;
  std::vector<std::string> cells;  // kRow only: trimmed, in order, empty cells kept
};

// One line, without its '\n'.
TableLine ReadTableLine(std::string_view line);

// Whether a row reads as a header: at least two cells are filled and most of those are words,
// not numbers.
bool ReadsAsHeader(const std::vector<std::string>& cells);

// The index of the row that continues a table after its row lines[last_row], or lines.size()
// when the table ends there. The next line continues it when it is a row (extraction writes rows
// one per line); after blank lines and rules (three at most), a row continues it only when it
// stands alone (no row right after it), has the same number of cells as the table's header
// (`columns`) and does not itself read as a header: otherwise it starts a second table.
size_t NextTableRow(std::span<const TableLine> lines, size_t last_row, size_t columns);

}  // namespace memory::internal

#endif  // AGENTD_MEMORY_TABLE_LINES_H_
