// The prober's reading of a real pg_stat_archiver (read_archiver) on a cluster archiving into a
// real pgBackRest stanza, assessed as the daemon does (assess_archive).
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include <thread>

#include "agent/daemon/archive_status.h"
#include "agent/postgres/wal_archiver.h"
#include "tests/support/pgbackrest_cluster.h"

using pgtest::PgBackRestCluster;

namespace {

pgbackup::ArchiverReading read(PgBackRestCluster& c) {
  pqxx::connection conn(c.pg().connection_string("postgres"));
  return pgbackup::read_archiver(conn);
}

}  // namespace

TEST_CASE(
    "read_archiver: the real archiver's last segment, position and segment size; a switch "
    "leaves nothing unarchived",
    "[pgbackrest]") {
  auto& c = PgBackRestCluster::shared();
  pgbackup::ArchiverReading r;
  // Background WAL (autovacuum) may follow a switch: a few tries, each waiting for the archiver.
  for (int i = 0; i < 5; ++i) {
    const std::string segment = c.switch_wal();
    for (int j = 0; j < 100 && read(c).stats.last_archived_wal < segment; ++j) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    r = read(c);
    if (pgbackup::assess_archive({}, r, std::nullopt, pgbackup::from_unix_seconds(0))
            .unarchived_bytes == 0u) {
      break;
    }
  }
  CHECK(r.wal_segment_size == 16u * 1024 * 1024);
  CHECK(r.stats.archived_count > 0);
  REQUIRE(r.stats.last_archived_time.has_value());
  CHECK(r.current_lsn > 0);
  const auto now = std::chrono::system_clock::now();
  const pgbackup::ArchiveStatus clean = pgbackup::assess_archive({}, r, std::nullopt, now);
  CHECK(clean.from_database);
  CHECK(clean.unarchived_bytes == 0u);
  CHECK(clean.rpo_exposure == std::chrono::seconds(0));

  c.exec("CREATE TABLE IF NOT EXISTS probe_rows(n int)");
  c.exec("INSERT INTO probe_rows SELECT generate_series(1, 1000)");
  const pgbackup::ArchiveStatus written =
      pgbackup::assess_archive({}, read(c), std::nullopt, now + std::chrono::seconds(5));
  REQUIRE(written.unarchived_bytes.has_value());
  CHECK(*written.unarchived_bytes > 0);
  REQUIRE(written.rpo_exposure.has_value());
  CHECK(*written.rpo_exposure >= std::chrono::seconds(5));
}
