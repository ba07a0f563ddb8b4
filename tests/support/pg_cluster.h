#pragma once

#include <pqxx/pqxx>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/subprocess.h"

namespace pgtest {

namespace fs = std::filesystem;

// How a cluster differs from the shared one (tests/support/pgbackrest_cluster.h archives WAL).
struct PgClusterOptions {
  // Written into postgresql.conf before the first start ("archive_mode" -> "on").
  std::map<std::string, std::string> settings;
  // Put at the top of pg_hba.conf (e.g. "local all postgres peer").
  std::vector<std::string> hba_lines;
  // Preload TimescaleDB when it is installed.
  bool timescaledb = true;
  // Start the server at once; else the caller calls start().
  bool start = true;
  // Make the data directory with initdb; else it is left empty (owned by the server's user,
  // 0700) for the caller to fill, e.g. by a `pgbackrest restore`, before start(). The settings
  // and hba_lines are then not written.
  bool initdb = true;
};

// A throwaway PostgreSQL 15 cluster for one test process: initdb in a temp dir (as the
// `postgres` user when running as root), scram-sha-256 password authentication, TCP on
// 127.0.0.1 and a random free port, a unix socket in the temp dir. Stopped and removed at exit.
// When TimescaleDB is installed for PostgreSQL 15, the cluster preloads it
// (shared_preload_libraries), as a TimescaleDB server must.
class PgCluster {
 public:
  static constexpr const char* kSuperuser = "postgres";
  static constexpr const char* kPassword = "s3cret-Pa55word";

  // The cluster of this test process, created on first use.
  static PgCluster& shared();
  // Another cluster of this test process, created on first use: a second server (a restore
  // onto a new one), with nothing but its superuser.
  static PgCluster& second();
  // A cluster of its own (initdb now), stopped and removed with the test temp area.
  explicit PgCluster(const PgClusterOptions& options);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  const fs::path& dir() const { return dir_; }

  // Runs SQL as the superuser (several statements allowed).
  void exec(const std::string& sql, const std::string& db = "postgres");
  // The first column of the first row, as text.
  std::string query_value(const std::string& sql, const std::string& db = "postgres");
  // A fresh database (dropped first if it exists).
  void create_database(const std::string& name);
  // Loads scripts/sql/pnode_pulse.sql into `db` with `scale` metric rows per node.
  void load_demo_data(const std::string& db, int scale);
  // Loads scripts/sql/pnode_pulse_timescaledb.sql (real TimescaleDB: hypertables node_metrics and
  // network_stats, compressed chunks older than 7 days, a continuous aggregate, policies).
  void load_timescaledb_data(const std::string& db, int scale);

  // Whether the real TimescaleDB is installed for PostgreSQL 15 (its control file names its
  // library, and the library is there), and its default version ("2.28.3"), or empty.
  static bool timescaledb_installed();
  static std::string timescaledb_version();
  // Row counts of every ordinary table of `db`, keyed "schema.table".
  std::map<std::string, long long> table_counts(const std::string& db);

  void stop();
  void start();
  // The data directory (PGDATA).
  fs::path data_dir() const { return dir_ / "data"; }
  // A libpq connection string for `db` as the superuser.
  std::string connection_string(const std::string& db) const;

 private:
  PgCluster();
  pgbackup::ProcessResult as_postgres(std::vector<std::string> argv);

  fs::path dir_;
  int port_ = 0;
  bool running_ = false;
  bool timescaledb_ = true;
};

// Holds ACCESS EXCLUSIVE on `table` of `db` in the shared cluster until release() (or
// destruction): a pg_dump of that database then waits, which is how tests keep a backup in
// progress for as long as they need.
class TableLock {
 public:
  explicit TableLock(const std::string& db, const std::string& table = "nodes");
  ~TableLock();
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;
  void release();

 private:
  pqxx::connection conn_;
  std::unique_ptr<pqxx::work> tx_;
};

// Waits up to 10 s for a .partial file (a dump being written) to appear in `dir`; returns it,
// or an empty path.
fs::path wait_for_partial(const fs::path& dir);

// A fresh empty directory under the test temp area, removed at exit.
fs::path make_temp_dir(const std::string& name);

// Finds a free TCP port on 127.0.0.1.
int free_port();

}  // namespace pgtest
