#pragma once

#include <pqxx/connection>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/progress.h"
#include "agent/postgres/postgres.h"

namespace pgbackup {

// The shared restore core of `restore` (DESIGN §6) and `restore-test` (§7).

struct RestoreOptions {
  int jobs = 2;                     // pg_restore --jobs
  std::vector<std::string> tables;  // partial restore: "name" or "schema.name"; empty = all
  bool clean = false;               // --clean --if-exists (restore over existing objects)
  // --no-owner --no-acl: every object belongs to the connecting role. Restore tests use it so
  // the test database does not need production's roles.
  bool no_owner = false;
  // --no-tablespaces: every object goes to the database's default tablespace (the server lacks
  // some of the backup's).
  bool no_tablespaces = false;
  // The TimescaleDB version recorded in the manifest, empty when the source had none: the
  // restore then runs between timescaledb_pre_restore() and timescaledb_post_restore().
  std::string timescaledb_version;
  // The dump holds TimescaleDB (set whenever timescaledb_version is; `restore`, which calls
  // pre/post itself, sets only this): restore in stages, see run_pg_restore.
  bool timescaledb = false;
  // pg_restore --use-list: only the archive entries this file lists (then `tables` is unused).
  std::filesystem::path use_list;
  // --single-transaction: all or nothing (implies jobs = 1).
  bool single_transaction = false;
  std::chrono::seconds timeout{0};  // 0: no limit
  const std::atomic<bool>* cancel = nullptr;
  // Where to show the items restored (pg_restore then runs with --verbose); may be null.
  Progress* progress = nullptr;
};

// The pg_restore argv (program first) for `dump` into `dbname`; the password is never in it.
std::vector<std::string> pg_restore_argv(const DatabaseEndpoint& endpoint,
                                         const std::string& dbname,
                                         const std::filesystem::path& dump,
                                         const RestoreOptions& options,
                                         const std::string& server_version);

// Runs pg_restore (the one matching the server's major version) of `dump` into `dbname` on
// `endpoint`'s server, the password only in its environment. Throws OperationError with the
// pg_restore stderr tail and a hint on failure.
//
// A TimescaleDB dump (options.timescaledb) is restored in stages, because pg_restore --jobs
// loads TimescaleDB's catalog tables in parallel, out of their foreign-key order
// (dimension_slice before dimension): with clean, first pg_restore's own DROP statements in one
// transaction; then the pre-data section and the catalog's data serially, in the archive's
// order; then the rest (chunk data, indexes, constraints) with --jobs. A partial restore
// (use_list) is restored as asked.
void run_pg_restore(const DatabaseEndpoint& endpoint, const std::string& dbname,
                    const std::filesystem::path& dump, const RestoreOptions& options);

// timescaledb_pre_restore() (creating the extension at `version` first when the database has
// none) and timescaledb_post_restore(): run_pg_restore calls them around pg_restore when
// options.timescaledb_version is set; `restore` calls them itself to audit each step. Throw
// OperationError.
void timescaledb_pre_restore(pqxx::connection& conn, const std::string& version);
void timescaledb_post_restore(pqxx::connection& conn);

struct TableMismatch {
  std::string schema;
  std::string name;
  std::int64_t expected = 0;
  std::optional<std::int64_t> actual;  // nullopt: the table is missing
  RelationKind kind = RelationKind::table;
  // Hypertables: (chunks, compressed chunks) in the backup and restored.
  std::pair<std::int64_t, std::int64_t> expected_chunks{0, 0};
  std::pair<std::int64_t, std::int64_t> actual_chunks{0, 0};
};

// Counts the rows of every relation in `expected` (the manifest's tables and continuous
// aggregates) in the connected database and returns those that differ, in the manifest's
// order; a hypertable also differs when its chunk or compressed-chunk count does.
std::vector<TableMismatch> compare_row_counts(pqxx::connection& conn,
                                              const std::vector<TableRows>& expected);

// "public.nodes: 1000 rows in the backup, 990 restored" / "...: missing after the restore";
// hypertables with their chunks: "hypertable public.node_metrics: 1000 rows in 16 chunks (11
// compressed) in the backup, 1000 rows in 15 chunks (11 compressed) restored".
std::string describe(const TableMismatch& mismatch);

}  // namespace pgbackup
