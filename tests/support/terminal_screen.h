#pragma once

#include <string>
#include <vector>

namespace pgtest {

// The rows a terminal shows after `written`: "\r" moves back to the first column, "\n" starts
// a row, "\x1b[K" erases the rest of the row, anything else overwrites the cell under the
// cursor. Enough for the agent's progress line and its log lines (no wrapping, no other
// escapes).
inline std::vector<std::string> screen_rows(const std::string& written) {
  std::vector<std::string> rows(1);
  std::size_t col = 0;
  for (std::size_t i = 0; i < written.size(); ++i) {
    const char c = written[i];
    if (c == '\r') {
      col = 0;
    } else if (c == '\n') {
      rows.emplace_back();
      col = 0;
    } else if (written.compare(i, 3, "\x1b[K") == 0) {
      rows.back().resize(col);
      i += 2;
    } else {
      if (col < rows.back().size()) {
        rows.back()[col] = c;
      } else {
        rows.back() += c;
      }
      ++col;
    }
  }
  return rows;
}

}  // namespace pgtest
