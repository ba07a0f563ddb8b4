#pragma once

#include <pqxx/connection>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"
#include "agent/postgres/cluster_globals.h"
#include "agent/postgres/schema_fingerprint.h"

namespace pgbackup {

// What a counted relation is, which decides how it is counted: an ordinary table with
// `count(*) FROM ONLY` (its own rows), a TimescaleDB hypertable with `count(*) FROM` (its logical
// rows: every chunk's, compressed ones included), a continuous aggregate through its view.
enum class RelationKind { table, hypertable, continuous_aggregate };

struct TableRows {
  std::string schema;
  std::string name;
  std::int64_t rows = 0;
  RelationKind kind = RelationKind::table;
  // Hypertables: their chunks, and how many of those are compressed.
  std::int64_t chunks = 0;
  std::int64_t compressed_chunks = 0;
  // Continuous aggregates: the hypertable they aggregate, "schema.name".
  std::string hypertable{};
};

// "table", "hypertable", "continuous_aggregate"; parse_relation_kind throws
// std::invalid_argument on anything else.
const char* relation_kind_name(RelationKind kind);
RelationKind parse_relation_kind(const std::string& name);

// The row counts of one snapshot: every table whose data pg_dump writes, and (TimescaleDB) the
// continuous aggregates.
struct RowCounts {
  std::vector<TableRows> tables;
  std::vector<TableRows> continuous_aggregates;
};

struct Extension {
  std::string name;
  std::string version;
};

struct DatabaseInfo {
  std::string name;
  std::string server_version;
  std::uint64_t size_bytes = 0;
  std::vector<Extension> extensions;
};

// How the agent reaches one database: connection strings for libpqxx and the argv/environment
// for pg_dump and pg_restore. The password is read from its environment variable once, kept
// in memory, and handed to children only through their environment.
class DatabaseEndpoint {
 public:
  // Throws OperationError naming the variable when password_env is set but empty.
  explicit DatabaseEndpoint(const DatabaseConfig& config);

  const DatabaseConfig& config() const { return config_; }
  // "user@host:port/dbname", for messages.
  std::string describe() const;
  // A libpq connection string, optionally for another database on the same server.
  std::string connection_string(const std::string& dbname = "") const;
  // -h, -p, -U for pg_dump, pg_restore and psql.
  std::vector<std::string> client_args() const;
  // PGPASSWORD / PGPASSFILE / PGCONNECT_TIMEOUT for child processes.
  std::vector<std::pair<std::string, std::string>> client_env() const;
  // Opens a connection; failures become OperationError with a hint (see explain_error).
  std::unique_ptr<pqxx::connection> connect(const std::string& dbname = "") const;
  // Appends a hint to a libpq/pg_dump error: wrong password, missing role or database, server
  // down.
  std::string explain_error(const std::string& error) const;

 private:
  DatabaseConfig config_;
  std::optional<std::string> password_;
};

// A read-only REPEATABLE READ transaction that exports its snapshot, so pg_dump --snapshot and
// the row counts see exactly the same data. Keep it alive until pg_dump has finished.
class SnapshotSession {
 public:
  // `statement_timeout` bounds each counting query (the backup's own timeout).
  SnapshotSession(const DatabaseEndpoint& endpoint, std::chrono::seconds statement_timeout);
  ~SnapshotSession();

  const std::string& snapshot_id() const { return snapshot_id_; }
  // Name, server version, size and extensions (with versions) of the database.
  DatabaseInfo database_info();
  // Exact row counts in the exported snapshot: ordinary tables and partitions by their own
  // rows; with TimescaleDB, each hypertable by its logical rows (chunks and compressed chunks
  // are counted through it, never on their own: TimescaleDB refuses some direct reads of its
  // internal tables), its chunks and compressed chunks, and each continuous aggregate through
  // its view (its materialization hypertable is not listed). Each count runs in its own
  // savepoint, so a failing one leaves the snapshot pg_dump reads intact; it throws
  // OperationError naming the relation and the server's error.
  RowCounts count_rows();
  // The schema fingerprint in the exported snapshot (catalog queries only, see
  // read_schema_fingerprint), in its own savepoint like the counts; throws OperationError with
  // the server's error. Runs on the same connection as count_rows(): call them one after the
  // other, never at once.
  SchemaFingerprint schema_fingerprint();
  // What the database needs from its cluster (roles, the database's own settings; see
  // read_cluster_globals), in its own savepoint like the fingerprint, on the same connection.
  // Throws OperationError with the server's error.
  ClusterGlobals cluster_globals();
  // Ends the transaction (releasing the snapshot).
  void finish();
  // Asks the server to cancel the running query (from another thread), e.g. when pg_dump failed
  // while the counts still run; count_rows() then stops before its next query. A cancel that
  // reaches the server between two queries is lost, so callers repeat it until count_rows()
  // returns.
  void cancel_query();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string snapshot_id_;
};

// The PostgreSQL client program `name` (pg_dump, pg_restore) matching the server's major
// version when Debian's per-version directory has it (/usr/lib/postgresql/<major>/bin; with no
// version, the newest installed), else `name` from PATH. Calling it directly skips Debian's
// wrapper script, which costs a Perl start per call.
std::string client_program(const std::string& name, const std::string& server_version = "");

// Row counts of the given relations in a database (used to check restores), each counted as its
// kind says (hypertables with their chunk counts); rows is -1 for one that does not exist there.
std::vector<TableRows> count_rows_in(pqxx::connection& conn, const std::vector<TableRows>& tables);

}  // namespace pgbackup
