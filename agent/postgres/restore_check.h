#pragma once

// What a restore test runs in the restored database, whichever engine restored it: the
// configured checks (restore_test.checks) and reading every table in full.

#include <pqxx/pqxx>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/config/config.h"

namespace pgbackup {

// Runs one check query read-only; returns why it failed, or nothing when it returned true.
std::optional<std::string> run_restore_check(pqxx::connection& conn,
                                             const RestoreTestConfig::Check& check);

// Reads every table of every schema in full (count(*)), keyed "schema.table": the ordinary and
// partitioned tables that are not themselves a partition or an inheritance child (those are
// read through their parent: a hypertable's chunks, compressed ones decompressed, through the
// hypertable), outside pg_catalog, information_schema and TimescaleDB's internal schema.
// Throws pqxx errors naming the table it could not read.
std::map<std::string, std::uint64_t> count_every_table(pqxx::connection& conn);

}  // namespace pgbackup
