// count_every_table (agent/postgres/restore_check.h) against a real PostgreSQL 15 with
// TimescaleDB: every kind of table read in full, on several connections and in block ranges,
// counts the same rows as one plain count(*) of each table.
#include <catch2/catch.hpp>

#include <pqxx/pqxx>

#include "agent/postgres/restore_check.h"
#include "tests/support/pg_cluster.h"
#include "tests/support/timescaledb.h"

using namespace pgtest;

namespace {

constexpr const char* kDb = "every_table";
// Four 8 KB blocks: every table of more than that is read in pieces.
constexpr std::uint64_t kTinyPieces = 4 * 8192;

pgbackup::ConnectFn connect_to(const std::string& db) {
  return [db] {
    return std::make_unique<pqxx::connection>(PgCluster::shared().connection_string(db));
  };
}

// Tables of every kind the restore test meets, with known row counts.
std::map<std::string, std::uint64_t> make_tables(PgCluster& pg) {
  pg.create_database(kDb);
  pg.exec(R"(
    CREATE TABLE plain (id int, note text);
    INSERT INTO plain SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
    DELETE FROM plain WHERE id % 7 = 0;
    CREATE SCHEMA "Odd Schema";
    CREATE TABLE "Odd Schema"."Mixed Case" (v int);
    INSERT INTO "Odd Schema"."Mixed Case" SELECT generate_series(1, 30);
    CREATE TABLE empty (v int);
    CREATE TABLE parted (k int, v text) PARTITION BY RANGE (k);
    CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (0) TO (1000);
    CREATE TABLE parted_mid PARTITION OF parted FOR VALUES FROM (1000) TO (3000)
      PARTITION BY LIST ((k % 2));
    CREATE TABLE parted_mid_even PARTITION OF parted_mid FOR VALUES IN (0);
    CREATE TABLE parted_mid_odd PARTITION OF parted_mid FOR VALUES IN (1);
    CREATE TABLE parted_rest PARTITION OF parted DEFAULT;
    INSERT INTO parted SELECT g, md5(g::text) FROM generate_series(0, 3999) g;
    CREATE TABLE parted_none (k int) PARTITION BY RANGE (k);
    CREATE TABLE legacy (v int);
    CREATE TABLE legacy_child (extra int) INHERITS (legacy);
    INSERT INTO legacy SELECT generate_series(1, 11);
    INSERT INTO legacy_child SELECT g, g FROM generate_series(1, 1200) g;
  )",
          kDb);
  std::map<std::string, std::uint64_t> expected = {
      {"public.plain", 5000 - 5000 / 7}, {"Odd Schema.Mixed Case", 30}, {"public.empty", 0},
      {"public.parted", 4000},           {"public.parted_none", 0},     {"public.legacy", 1211},
  };
  if (PgCluster::timescaledb_installed()) {
    pg.exec(R"(
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      CREATE TABLE readings (time timestamptz NOT NULL, device int, value float8);
      SELECT create_hypertable('readings', 'time', chunk_time_interval => INTERVAL '1 day');
      INSERT INTO readings SELECT now() - g * INTERVAL '1 minute', g % 5, g
        FROM generate_series(1, 6 * 1440) g;
      ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'device');
      SELECT count(compress_chunk(c)) FROM show_chunks('readings', older_than => INTERVAL '2 days') c;
      INSERT INTO readings VALUES (now() - INTERVAL '4 days', 1, -1);
    )",
            kDb);
    expected["public.readings"] = 6 * 1440 + 1;
  }
  return expected;
}

}  // namespace

TEST_CASE(
    "every table is counted in full whether read on one connection or shared out in block ranges "
    "between several: partitions, inheritance children and a hypertable's compressed chunks "
    "with their parent",
    "[table_reads]") {
  PgCluster& pg = PgCluster::shared();
  const auto expected = make_tables(pg);
  if (PgCluster::timescaledb_installed()) {
    REQUIRE(pg.query_value("SELECT count(*) FROM timescaledb_information.chunks WHERE "
                           "hypertable_name = 'readings' AND is_compressed",
                           kDb) != "0");
  }
  REQUIRE(std::stoull(pg.query_value("SELECT pg_relation_size('plain') / 8192", kDb)) > 8);
  const auto connect = connect_to(kDb);
  const auto conn = connect();
  for (const auto& [readers, pieces] : std::vector<std::pair<unsigned, std::uint64_t>>{
           {1, 0}, {3, kTinyPieces}, {2, std::uint64_t{128} << 20}}) {
    INFO(readers << " readers, pieces of " << pieces << " bytes");
    auto counts = pgbackup::count_every_table(*conn, connect, readers, pieces);
    // The extension's own catalog tables are tables of the database too; only ours are compared.
    std::erase_if(counts, [](const auto& c) { return c.first.starts_with("_timescaledb"); });
    CHECK(counts == expected);
  }
  // The caller's connection is left as it was given.
  CHECK(pqxx::nontransaction(*conn).exec1("SHOW max_parallel_workers_per_gather")[0].c_str() ==
        std::string("2"));
}

TEST_CASE(
    "a table that cannot be read fails the count with the table named, whichever reader met it",
    "[table_reads]") {
  PgCluster& pg = PgCluster::shared();
  make_tables(pg);
  pg.exec(R"(
    CREATE EXTENSION file_fdw;
    CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
    CREATE TABLE parted_gone PARTITION OF parted_none FOR VALUES FROM (0) TO (10);
    CREATE FOREIGN TABLE parted_lost PARTITION OF parted_none FOR VALUES FROM (10) TO (20)
      SERVER files OPTIONS (filename '/nonexistent/pgbackup-lost.csv', format 'csv');
  )",
          kDb);
  const auto connect = connect_to(kDb);
  const auto conn = connect();
  for (const unsigned readers : {1u, 3u}) {
    INFO(readers << " readers");
    try {
      pgbackup::count_every_table(*conn, connect, readers, kTinyPieces);
      FAIL("count_every_table read a table whose file is missing");
    } catch (const std::exception& e) {
      CHECK_THAT(e.what(), Catch::Contains("cannot read table public.parted_none in full") &&
                               Catch::Contains("pgbackup-lost.csv"));
    }
  }
}
