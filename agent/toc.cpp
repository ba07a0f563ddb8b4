#include "agent/toc.h"

#include <sstream>

#include "agent/errors.h"
#include "agent/subprocess.h"

namespace pgbackup {

TocSummary parse_toc_list(std::string_view text) {
  TocSummary toc;
  std::istringstream lines{std::string(text)};
  std::string line;
  static const std::string kTableData = " TABLE DATA ";
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == ';') continue;
    ++toc.entries;
    // "3363; 0 16401 TABLE DATA public nodes postgres": schema, table name, owner.
    const auto at = line.find(kTableData);
    if (at == std::string::npos) continue;
    const std::string rest = line.substr(at + kTableData.size());
    const auto first_space = rest.find(' ');
    const auto last_space = rest.rfind(' ');
    if (first_space == std::string::npos || last_space <= first_space) continue;
    toc.table_data.emplace(rest.substr(0, first_space),
                           rest.substr(first_space + 1, last_space - first_space - 1));
  }
  return toc;
}

std::vector<std::string> tables_missing_data(const TocSummary& toc,
                                             const std::vector<TableRows>& tables) {
  std::vector<std::string> missing;
  for (const TableRows& t : tables) {
    if (!toc.table_data.count({t.schema, t.name})) missing.push_back(t.schema + "." + t.name);
  }
  return missing;
}

TocSummary read_toc(const std::string& file) {
  ProcessSpec spec;
  spec.argv = {client_program("pg_restore"), "--list", file};
  spec.timeout = std::chrono::minutes(10);
  const ProcessResult result = run_process(spec);
  if (!result.ok()) {
    throw OperationError("pg_restore cannot read the archive " + file + ": " +
                         describe_failure(spec, result) +
                         " (hint: the file is truncated or corrupt; use another backup)");
  }
  return parse_toc_list(result.out);
}

}  // namespace pgbackup
