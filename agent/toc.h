#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/postgres.h"

namespace pgbackup {

// What `pg_restore --list` says about an archive.
struct TocSummary {
  int entries = 0;
  std::set<std::pair<std::string, std::string>> table_data;  // (schema, table) with data
};

// Parses `pg_restore --list` output (comment lines start with ';').
TocSummary parse_toc_list(std::string_view text);

// Counted tables that have no TABLE DATA entry in the archive, as "schema.table".
std::vector<std::string> tables_missing_data(const TocSummary& toc,
                                             const std::vector<TableRows>& tables);

// Runs `pg_restore --list FILE` and parses it. Throws OperationError when pg_restore cannot
// read the archive (truncated, corrupt, not a custom-format dump).
TocSummary read_toc(const std::string& file);

}  // namespace pgbackup
