// Tables inside a retrieved passage — tab-separated rows as PDF extraction leaves them — so a
// report can quote the row that answers a question together with its header, cell for cell,
// where no sentence states the figure.
//
//   for (const PassageTable& t : memory::FindTables(chunk_text)) ... t.header, t.rows[i].cells ...
#ifndef AGENTD_MEMORY_TABLES_H_
#define AGENTD_MEMORY_TABLES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace memory {

struct TableRow {
  std::vector<std::string> cells;  // trimmed, in order; empty cells kept
  // Code points into the passage, [start, end) of the row's line.
  uint64_t start = 0;
  uint64_t end = 0;
};

struct PassageTable {
  std::vector<std::string> header;
  std::vector<TableRow> rows;
};

// Runs of at least two consecutive lines with three or more tab-separated cells whose first line
// reads as a header (mostly words, not numbers) and is followed by at least one row. A table goes
// on past blank lines and rules ("--\t-----", three lines at most) to a lone row as wide as its
// header that is not itself a header (a total row set apart on the page); rules are not rows. A
// passage's first line, trimmed, may have lost a header's empty corner cell: it is put back when
// the row under it is one cell longer. Tables cut off before their header (a chunk starting
// mid-table) are left out: a row without its header says nothing.
std::vector<PassageTable> FindTables(std::string_view passage);

}  // namespace memory

#endif  // AGENTD_MEMORY_TABLES_H_
