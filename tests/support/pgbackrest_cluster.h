#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/subprocess.h"
#include "agent/engines/pgbackrest/cli.h"
#include "tests/support/pg_cluster.h"

namespace pgtest {

// A PostgreSQL 15 cluster that archives its WAL with pgBackRest into a stanza of its own: a
// posix repository, lock, log and spool paths in the test temp area, a private pgbackrest.conf
// (zst, start-fast, process-max 2), archive_mode=on and an archive_command pushing to the
// stanza, stanza-create done. pgBackRest runs as the `postgres` user (runuser) when the test
// runs as root, and reaches the server over its unix socket with peer authentication.
class PgBackRestCluster {
 public:
  static constexpr const char* kStanza = "pgbr-test";

  // The cluster of this test process, created on first use.
  static PgBackRestCluster& shared();

  PgCluster& pg() { return *pg_; }
  const fs::path& config() const { return config_; }
  const fs::path& repo() const { return repo_; }
  std::string stanza() const { return kStanza; }

  // The argv prefix that runs pgbackrest as the PGDATA owner: [runuser, -u, postgres, --,
  // pgbackrest] as root, [pgbackrest] otherwise.
  static std::vector<std::string> command_prefix();
  // Settings for the agent's CLI wrapper that reach this stanza.
  pgbackup::pgbackrest::PgBackRestSettings settings() const;
  // Runs `pgbackrest --config=... --stanza=... ARGS...` as the PGDATA owner, as is.
  pgbackup::ProcessResult pgbackrest(const std::vector<std::string>& args) const;

  // Runs SQL as the superuser.
  void exec(const std::string& sql, const std::string& db = "postgres") { pg_->exec(sql, db); }
  std::string query_value(const std::string& sql, const std::string& db = "postgres") {
    return pg_->query_value(sql, db);
  }
  // pg_switch_wal() and waits (up to 30 s) until the segment it closed is in the repository;
  // returns that segment's name.
  std::string switch_wal();
  // pg_control_system().system_identifier.
  std::string system_identifier();

  // archive/<stanza>/<archive id> ("15-1") in the repository, and the relative form that
  // `repo-ls` takes.
  fs::path archive_dir() const;
  std::string archive_repo_path() const;
  // backup/<stanza>/<label>.
  fs::path backup_dir(const std::string& label) const;
  // The file holding archived `segment` (<segment>-<sha1>.zst), or an empty path.
  fs::path archived_segment_file(const std::string& segment) const;

 private:
  PgBackRestCluster();

  fs::path dir_, config_, repo_;
  std::unique_ptr<PgCluster> pg_;
};

// Moves a file aside (as if deleted) and puts it back when destroyed, so that a test leaves
// the repository as it found it.
class SetAside {
 public:
  explicit SetAside(fs::path file);
  ~SetAside();
  SetAside(const SetAside&) = delete;
  SetAside& operator=(const SetAside&) = delete;

 private:
  fs::path file_, aside_;
};

// Overwrites bytes of a file in place (its owner and size unchanged) and writes the original
// bytes back when destroyed.
class Corruption {
 public:
  Corruption(fs::path file, std::size_t offset, const std::string& garbage);
  ~Corruption();
  Corruption(const Corruption&) = delete;
  Corruption& operator=(const Corruption&) = delete;

 private:
  fs::path file_;
  std::size_t offset_;
  std::string original_;
};

}  // namespace pgtest
