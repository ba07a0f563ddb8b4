#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/postgres/postgres.h"

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

// The entries of a `pg_restore --list` text that a partial restore of `tables` needs, for
// pg_restore --use-list: each table's definition and data, the constraints, defaults, triggers,
// policies and rules named after it, and the indexes and sequences in `related` as
// (schema, name) -- the list names those by their own name only, so the caller looks them up.
std::string select_toc_entries(std::string_view list, const std::vector<TableRows>& tables,
                               const std::set<std::pair<std::string, std::string>>& related);

// The indexes and owned sequences of `tables` as (schema, name), read from the archive's own
// schema SQL (`pg_restore --schema-only -f -`): "CREATE INDEX i ON [ONLY] s.t ..." and
// "ALTER SEQUENCE s.q OWNED BY s.t.col". The `related` argument of select_toc_entries.
std::set<std::pair<std::string, std::string>> objects_of_tables(
    std::string_view schema_sql, const std::vector<TableRows>& tables);

// A TimescaleDB archive's entries in the two stages of its restore (see run_pg_restore):
// `serial` holds the pre-data section and the data of TimescaleDB's catalog
// (_timescaledb_catalog, _timescaledb_config: TABLE DATA, SEQUENCE SET), `parallel` everything
// else (the chunks' data, post-data). Both keep the archive's order; `pre_data` is the
// `pg_restore --list --section=pre-data` text of the same archive.
struct RestoreStages {
  std::string serial;
  std::string parallel;
};
RestoreStages split_timescaledb_stages(std::string_view list, std::string_view pre_data);

// The DROP statements (and ALTER ... DROP) that `pg_restore --clean --if-exists` would run
// first, from its `--schema-only --file=-` script: every such line before the first entry it
// creates ("-- Name: ..."), in pg_restore's order (dependents first), quoted by pg_restore.
std::string drop_statements(std::string_view clean_script);

// `pg_restore --schema-only -f - FILE`: the archive's DDL. Throws OperationError.
std::string read_schema_sql(const std::string& file);

// `pg_restore --clean --if-exists --schema-only -f - FILE`. Throws OperationError.
std::string read_clean_schema_sql(const std::string& file);

// `pg_restore --list FILE` as pg_restore prints it; with `section` ("pre-data", "data",
// "post-data") only that section's entries. Throws OperationError (see read_toc).
std::string read_toc_text(const std::string& file, const std::string& section = "");

// Runs `pg_restore --list FILE` and parses it. Throws OperationError when pg_restore cannot
// read the archive (truncated, corrupt, not a custom-format dump).
TocSummary read_toc(const std::string& file);

}  // namespace pgbackup
