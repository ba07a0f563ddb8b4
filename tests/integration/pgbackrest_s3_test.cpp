// A pgBackRest repository on S3: real pgBackRest 2.45 (which speaks only HTTPS) against s3rver
// serving TLS itself with a throwaway certificate for "localhost", checked by pgBackRest
// (repo1-storage-ca-file; 2.45 ignores IP SANs, so the endpoint is the host name), path-style
// URIs. The agent's own parts (CLI wrapper, info parser, WAL listing and continuity check) read
// the repository as they read a posix one.
#include <catch2/catch.hpp>

#include "agent/core/text.h"
#include "tests/support/pgbackrest_cluster.h"

using namespace pgtest;
using namespace pgbackup::pgbackrest;
using pgbackup::BackupType;

namespace {

void add_rows(PgBackRestCluster& c, int rows) {
  c.exec("CREATE TABLE IF NOT EXISTS metrics (id bigint, v text)");
  c.exec("INSERT INTO metrics SELECT g, md5(g::text) FROM generate_series(1, " +
         std::to_string(rows) + ") g");
}

}  // namespace

TEST_CASE(
    "a repository on S3 over TLS: archive-push, a full and an incr through the CLI wrapper, "
    "info and the WAL continuity check through the agent's parsers, and a segment object "
    "deleted from the bucket is found",
    "[pgbackrest_s3]") {
  S3ServerOptions tls;
  tls.tls = true;
  const S3Server s3(tls);
  PgBackRestCluster c(PgBackRestClusterOptions{&s3, false, ""});
  const PgBackRestCli cli(c.settings());
  // `check` has archive_command push a segment to the bucket and waits for it.
  CHECK_NOTHROW(cli.check());

  add_rows(c, 20000);
  cli.backup(BackupType::full);
  add_rows(c, 500);
  cli.backup(BackupType::incr);
  const InfoStanza info = c.info();
  CHECK(info.status_code == 0);
  const auto taken = new_backups(InfoStanza{}, info);
  REQUIRE(taken.size() == 2);
  const InfoBackup &full = taken[0], &incr = taken[1];
  CHECK(full.type == BackupType::full);
  CHECK(incr.type == BackupType::incr);
  CHECK(incr.prior == full.label);
  REQUIRE(info.current_database() != nullptr);
  CHECK(std::to_string(info.current_database()->system_id) == c.system_identifier());
  for (const InfoBackup* b : {&full, &incr}) {
    INFO(b->label);
    CHECK(b->size > 0);
    CHECK(b->repository_size > 0);
    CHECK(b->repository_delta > 0);
    CHECK_FALSE(b->error);
    CHECK(b->archive_start <= b->archive_stop);
    // The backup is in the bucket: its manifest is an object in s3rver's store.
    CHECK(fs::exists(c.backup_dir(b->label) /
                     ("backup.manifest" + std::string(S3Server::kObjectSuffix))));
  }
  CHECK(incr.delta < full.delta);
  CHECK(incr.repository_delta < full.repository_delta);
  const InfoArchive* archive = info.archive_of(info.current_database()->id);
  REQUIRE(archive != nullptr);
  CHECK(archive->min <= full.archive_start);
  CHECK(archive->max >= incr.archive_stop);

  c.switch_wal();
  const std::string doomed = c.switch_wal();
  const std::string newest = c.switch_wal();
  const WalContinuity clean = c.wal_continuity_since(full.archive_start);
  CHECK(clean.complete());
  REQUIRE(clean.newest.has_value());
  CHECK(wal_segment_name(*clean.newest) >= newest);

  const fs::path object = c.archived_segment_file(doomed);
  REQUIRE_FALSE(object.empty());
  const SetAside deleted(object);
  const WalContinuity gap = c.wal_continuity_since(full.archive_start);
  CHECK_FALSE(gap.complete());
  CHECK(gap.missing == 1);
  CHECK(missing_segment_names(gap, 10) == std::vector<std::string>{doomed});

  // The server's certificate is checked: against the system's CAs it is refused (pgBackRest
  // retries until its io-timeout, 60 s by default).
  const auto untrusted = c.pgbackrest(
      {"repo-ls", "--repo1-storage-ca-file=/etc/ssl/certs/ca-certificates.crt", "--io-timeout=1"});
  CHECK_FALSE(untrusted.ok());
  CHECK(untrusted.err.find("unable to verify certificate presented by 'localhost:") !=
        std::string::npos);
}
