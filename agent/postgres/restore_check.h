#pragma once

// What a restore test runs in the restored database, whichever engine restored it: the
// configured checks (restore_test.checks) and reading every table in full.

#include <pqxx/pqxx>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "agent/config/config.h"

namespace pgbackup {

// Runs one check query read-only; returns why it failed, or nothing when it returned true.
std::optional<std::string> run_restore_check(pqxx::connection& conn,
                                             const RestoreTestConfig::Check& check);

// The restore test's readers: one per core, at most four.
unsigned default_table_readers();

using ConnectFn = std::function<std::unique_ptr<pqxx::connection>()>;

// Reads every table of every schema in full (count(*)), keyed "schema.table": the ordinary and
// partitioned tables that are not themselves a partition or an inheritance child (their rows are
// counted with their parent's: a hypertable's chunks, compressed ones decompressed), outside
// pg_catalog, information_schema and TimescaleDB's internal schema. The reads are shared out
// between conn and readers - 1 more connections from connect (see table_reads.h), without
// parallel workers when there are several; big plain tables in pieces of piece_bytes.
// Throws naming the table it could not read.
std::map<std::string, std::uint64_t> count_every_table(
    pqxx::connection& conn, const ConnectFn& connect, unsigned readers = default_table_readers(),
    std::uint64_t piece_bytes = std::uint64_t{128} << 20);

}  // namespace pgbackup
