// Physical backups of a TimescaleDB database with real pgBackRest 2.45: a hypertable with daily
// chunks, some of them compressed, and a continuous aggregate, on a cluster that preloads the
// real extension. The agent's parts take the backups and prove them; then `pgbackrest restore`
// into a scratch directory and a server started on it show that the backup holds the data.
// (The agent's own restore of a pgBackRest backup is issue 23.)
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "agent/core/text.h"
#include "tests/support/pgbackrest_cluster.h"
#include "tests/support/timescaledb.h"

using namespace pgtest;
using namespace pgbackup::pgbackrest;
using pgbackup::BackupType;

namespace {

constexpr const char* kDb = "tsdb";

// 20 days of readings every minute from 20 devices in daily chunks; the chunks older than
// 7 days compressed; a daily continuous aggregate, refreshed. One statement per call: a
// continuous aggregate cannot be refreshed inside a transaction block.
void load_readings(PgCluster& pg) {
  pg.create_database(kDb);
  for (const char* sql : {
           "CREATE EXTENSION IF NOT EXISTS timescaledb",
           "CREATE TABLE readings (time timestamptz NOT NULL, device int NOT NULL, "
           "value double precision NOT NULL)",
           "SELECT create_hypertable('readings', 'time', chunk_time_interval => "
           "INTERVAL '1 day')",
           "INSERT INTO readings SELECT now() - g * INTERVAL '1 minute', g % 20, "
           "sin(g) * 100 FROM generate_series(1, 20 * 1440) g",
           "ALTER TABLE readings SET (timescaledb.compress, "
           "timescaledb.compress_segmentby = 'device')",
           "SELECT count(compress_chunk(c)) FROM show_chunks('readings', older_than => "
           "INTERVAL '7 days') c",
           "CREATE MATERIALIZED VIEW readings_daily WITH (timescaledb.continuous) AS "
           "SELECT device, time_bucket(INTERVAL '1 day', time) AS day, avg(value) AS mean, "
           "count(*) AS samples FROM readings GROUP BY device, day WITH NO DATA",
           "CALL refresh_continuous_aggregate('readings_daily', NULL, NULL)",
       }) {
    pg.exec(sql, kDb);
  }
}

// What the database says about its TimescaleDB objects.
struct Facts {
  long long rows, chunks, compressed, aggregate_rows, aggregate_samples;
  bool operator==(const Facts&) const = default;
};

Facts facts_of(PgCluster& pg) {
  const auto number = [&](const std::string& sql) { return std::stoll(pg.query_value(sql, kDb)); };
  const std::string chunks =
      "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'readings'";
  return {number("SELECT count(*) FROM readings"), number(chunks),
          number(chunks + " AND is_compressed"), number("SELECT count(*) FROM readings_daily"),
          number("SELECT sum(samples) FROM readings_daily")};
}

std::ostream& operator<<(std::ostream& os, const Facts& f) {
  return os << "{rows " << f.rows << ", chunks " << f.chunks << ", compressed " << f.compressed
            << ", aggregate rows " << f.aggregate_rows << " of " << f.aggregate_samples
            << " samples}";
}

// Waits (up to 60 s) until the restored server has reached its target and been promoted.
void wait_for_promotion(PgCluster& pg) {
  for (int i = 0; i < 600; ++i) {
    if (pg.query_value("SELECT pg_is_in_recovery()") == "f") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("the restored server was still in recovery after 60 s");
}

}  // namespace

TEST_CASE(
    "a TimescaleDB database with compressed chunks and a continuous aggregate: a full and an "
    "incr pass the agent's proofs, and pgbackrest restore of the incr gives the same rows, "
    "compressed chunks and aggregate",
    "[pgbackrest_timescaledb]") {
  if (!timescaledb_available()) return;
  PgBackRestCluster c(PgBackRestClusterOptions{nullptr, true, ""});
  load_readings(c.pg());
  const PgBackRestCli cli(c.settings());
  cli.backup(BackupType::full);
  // About 1 % new rows, appended to the newest chunk.
  c.exec(
      "INSERT INTO readings SELECT now() - g * INTERVAL '1 second', g % 20, 1 "
      "FROM generate_series(1, 288) g",
      kDb);
  const Facts source = facts_of(c.pg());
  CHECK(source.rows == 20 * 1440 + 288);
  CHECK(source.chunks >= 20);
  CHECK(source.compressed >= 12);
  CHECK(source.compressed < source.chunks);
  CHECK(source.aggregate_samples == 20 * 1440);  // the aggregate was refreshed before the append
  cli.backup(BackupType::incr);

  // Proof (a): info says both are complete and error-free, the incr built on the full.
  const InfoStanza info = c.info();
  CHECK(info.status_code == 0);
  const auto taken = new_backups(InfoStanza{}, info);
  REQUIRE(taken.size() == 2);
  const InfoBackup &full = taken[0], &incr = taken[1];
  CHECK(full.type == BackupType::full);
  CHECK(incr.type == BackupType::incr);
  CHECK(incr.prior == full.label);
  for (const InfoBackup* b : {&full, &incr}) {
    INFO(b->label);
    CHECK(b->error_known);
    CHECK_FALSE(b->error);
    CHECK(b->repository_size > 0);
  }
  CHECK(incr.delta < full.delta);
  // Proof (b): every segment from the full's start to the archive's newest is in the repository.
  c.switch_wal();
  const WalContinuity continuity = c.wal_continuity_since(full.archive_start);
  CHECK(continuity.complete());
  // Proof (c): pgBackRest's verify, judged by its output.
  const VerifyVerdict verdict = cli.verify();
  INFO(pgbackup::join(verdict.reasons, "\n"));
  CHECK(verdict.ok);

  // The incr restored into a scratch directory, to its consistency point, not archiving (a
  // scratch server must never push a new timeline into the production stanza).
  PgClusterOptions scratch_options;
  scratch_options.initdb = false;
  scratch_options.start = false;
  PgCluster scratch(scratch_options);
  const auto restored =
      c.pgbackrest({"restore", "--set=" + incr.label, "--pg1-path=" + scratch.data_dir().string(),
                    "--archive-mode=off", "--type=immediate", "--target-action=promote"});
  INFO(restored.err + restored.out);
  REQUIRE(restored.ok());
  scratch.start();
  wait_for_promotion(scratch);
  CHECK(scratch.query_value("SHOW archive_mode") == "off");
  CHECK(facts_of(scratch) == source);
  CHECK(scratch.query_value("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'",
                            kDb) == PgCluster::timescaledb_version());
}
