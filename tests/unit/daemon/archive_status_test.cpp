// assess_archive: the prober's combination of the engine's archive health with the database's
// archiver, including the fall-back to the repository when the database is down.
#include <catch2/catch.hpp>

#include "agent/daemon/archive_status.h"

namespace pgbackup {
namespace {

using std::chrono::seconds;

const SysTime kNow = *parse_iso8601("2026-12-06T14:00:00Z");

ArchiveHealth repository(std::optional<SysTime> newest) {
  ArchiveHealth h;
  h.stanza_status = 0;
  h.stanza_message = "ok";
  h.wal_gaps = 2;
  h.newest_wal_time = newest;
  return h;
}

// Segment ...07 archived at `archived`, the server `past_end` bytes beyond its end.
ArchiverReading reading(SysTime archived, std::uint64_t past_end, std::int64_t failed = 0) {
  ArchiverReading r;
  r.stats.archived_count = 7;
  r.stats.last_archived_wal = "000000010000000000000007";
  r.stats.last_archived_time = archived;
  r.stats.failed_count = failed;
  r.current_lsn = 8ull * 16 * 1024 * 1024 + past_end;
  return r;
}

}  // namespace

TEST_CASE("a database that answers: its archiver's facts, the engine's health kept whole") {
  struct Row {
    const char* name;
    std::uint64_t past_end;
    std::optional<seconds> exposure;
  };
  const Row rows[] = {
      {"nothing unarchived: no exposure", 0, seconds(0)},
      {"changes after the last archived segment: its age", 4096, seconds(600)},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    const ArchiveStatus s =
        assess_archive(repository(kNow - seconds(3600)),
                       reading(kNow - seconds(600), row.past_end, 3), std::nullopt, kNow);
    CHECK(s.from_database);
    CHECK(s.last_archived == kNow - seconds(600));
    CHECK(s.failed_count == 3);
    CHECK(s.unarchived_bytes == row.past_end);
    CHECK(s.rpo_exposure == row.exposure);
    CHECK(s.health.wal_gaps == 2);
    CHECK(s.health.stanza_message == "ok");
  }
}

TEST_CASE("a database that is down: the repository's newest segment dates the exposure") {
  ArchiveStatus before;
  before.failed_count = 5;
  before.failing = true;
  const ArchiveStatus s =
      assess_archive(repository(kNow - seconds(900)), std::nullopt, before, kNow);
  CHECK_FALSE(s.from_database);
  CHECK(s.last_archived == kNow - seconds(900));
  CHECK(s.rpo_exposure == seconds(900));
  CHECK_FALSE(s.unarchived_bytes.has_value());
  // The counter keeps its last value rather than dropping to 0 while the database is away.
  CHECK(s.failed_count == 5);
  CHECK(s.failing);

  const ArchiveStatus first =
      assess_archive(repository(std::nullopt), std::nullopt, std::nullopt, kNow);
  CHECK_FALSE(first.rpo_exposure.has_value());
  CHECK_FALSE(first.last_archived.has_value());
  CHECK(first.failed_count == 0);
}

TEST_CASE("the archiver cannot place its position: the repository still dates the exposure") {
  SECTION("the last archived file is a timeline history file") {
    ArchiverReading r = reading(kNow - seconds(60), 4096);
    r.stats.last_archived_wal = "00000002.history";
    const ArchiveStatus s = assess_archive(repository(kNow - seconds(120)), r, std::nullopt, kNow);
    CHECK(s.from_database);
    CHECK_FALSE(s.unarchived_bytes.has_value());
    CHECK(s.rpo_exposure == seconds(120));
    CHECK(s.last_archived == kNow - seconds(60));
  }
  SECTION("statistics reset: nothing archived since, the repository's segment stands in") {
    ArchiverReading r;
    r.current_lsn = 8ull * 16 * 1024 * 1024 + 100;
    const ArchiveStatus s = assess_archive(repository(kNow - seconds(300)), r, std::nullopt, kNow);
    CHECK(s.last_archived == kNow - seconds(300));
    CHECK(s.rpo_exposure == seconds(300));
  }
  SECTION("archiving is stuck: the exposure grows with the clock") {
    ArchiverReading r = reading(kNow - seconds(1800), 32u << 20, 9);
    r.stats.last_failed_wal = "000000010000000000000008";
    r.stats.last_failed_time = kNow - seconds(10);
    const ArchiveStatus s = assess_archive(repository(kNow - seconds(1800)), r, std::nullopt, kNow);
    CHECK(s.failing);
    CHECK(s.failed_count == 9);
    CHECK(s.rpo_exposure == seconds(1800));
    const ArchiveStatus later =
        assess_archive(repository(kNow - seconds(1800)), r, s, kNow + seconds(60));
    CHECK(later.rpo_exposure == seconds(1860));
  }
}

}  // namespace pgbackup
