#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/subprocess.h"
#include "agent/engines/pgbackrest/cli.h"
#include "agent/engines/pgbackrest/info.h"
#include "agent/engines/pgbackrest/wal.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/s3_server.h"

namespace pgtest {

// How a cluster differs from the shared one.
struct PgBackRestClusterOptions {
  // The repository: posix in the test temp area, or a bucket of this S3 server, which must
  // serve TLS (S3ServerOptions::tls): repo1-type=s3, path-style URIs, repo1-path=/repo, the
  // server's certificate checked for the host name localhost (repo1-storage-ca-file).
  const S3Server* s3 = nullptr;
  // Preload TimescaleDB when it is installed (its background workers write WAL now and then).
  bool timescaledb = false;
  // Encrypt the repository (repo1-cipher-type=aes-256-cbc) with this passphrase, written in the
  // cluster's private pgbackrest.conf; empty: a plaintext repository (cipher "none").
  std::string cipher_pass;
};

// A PostgreSQL 15 cluster that archives its WAL with pgBackRest into a stanza of its own: a
// posix repository, lock, log and spool paths in the test temp area, a private pgbackrest.conf
// (zst, start-fast, process-max 2), archive_mode=on and an archive_command pushing to the
// stanza, stanza-create done (an S3 repository instead with PgBackRestClusterOptions::s3).
// pgBackRest runs as the `postgres` user (runuser) when the test
// runs as root, and reaches the server over its unix socket with peer authentication.
class PgBackRestCluster {
 public:
  static constexpr const char* kStanza = "pgbr-test";

  // The cluster of this test process, created on first use.
  static PgBackRestCluster& shared();
  // A cluster of its own, stopped and removed with the test temp area.
  explicit PgBackRestCluster(const PgBackRestClusterOptions& options);

  PgCluster& pg() { return *pg_; }
  const fs::path& config() const { return config_; }
  // The repository's directory: for S3, the bucket's directory in s3rver's store, where each
  // object is a file named <name>._S3rver_object.
  const fs::path& repo() const { return repo_; }
  std::string stanza() const { return kStanza; }

  // The argv prefix that runs pgbackrest as the PGDATA owner: [runuser, -u, postgres, --,
  // pgbackrest] as root, [pgbackrest] otherwise.
  static std::vector<std::string> command_prefix();
  // Settings for the agent's CLI wrapper that reach this stanza.
  pgbackup::pgbackrest::PgBackRestSettings settings() const;
  // Runs `pgbackrest --config=... --stanza=... ARGS...` as the PGDATA owner, as is.
  pgbackup::ProcessResult pgbackrest(const std::vector<std::string>& args) const;

  // The stanza as the agent reads it: `info --output=json` through its CLI wrapper, parsed.
  pgbackup::pgbackrest::InfoStanza info() const;
  // The agent's WAL continuity check of the repository (`repo-ls` of archive_repo_path()
  // through its CLI wrapper, parsed) from `start`, a segment name.
  pgbackup::pgbackrest::WalContinuity wal_continuity_since(const std::string& start) const;

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
  // The file holding archived `segment` (<segment>-<sha1>.zst, with S3Server::kObjectSuffix
  // for S3), or an empty path.
  fs::path archived_segment_file(const std::string& segment) const;

 private:
  fs::path dir_, config_, repo_;
  std::string object_suffix_;
  std::unique_ptr<PgCluster> pg_;
};

// The backups of `after` that `before` did not have, oldest first.
std::vector<pgbackup::pgbackrest::InfoBackup> new_backups(
    const pgbackup::pgbackrest::InfoStanza& before, const pgbackup::pgbackrest::InfoStanza& after);

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

// The largest regular file under `dir`, or an empty path: in a backup, corrupting its middle
// leaves a readable zst frame header.
fs::path largest_file(const fs::path& dir);

}  // namespace pgtest
