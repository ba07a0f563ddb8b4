// WAL archiving health and RPO exposure from pg_stat_archiver and the current WAL position.
#include <catch2/catch.hpp>

#include <string>

#include "agent/engines/pgbackrest/archiver.h"

using namespace pgbackup;
using namespace pgbackup::pgbackrest;
using namespace std::chrono_literals;

namespace {

const SysTime kNow = from_unix_seconds(1796589600);

ArchiverStats archived(const std::string& wal, std::chrono::seconds ago) {
  ArchiverStats s;
  s.archived_count = 7;
  s.last_archived_wal = wal;
  s.last_archived_time = kNow - ago;
  return s;
}

}  // namespace

TEST_CASE("LSNs as PostgreSQL prints them, and where a segment ends") {
  CHECK(parse_lsn("0/3000050") == 0x3000050u);
  CHECK(parse_lsn("16/B374D848") == (0x16ull << 32 | 0xB374D848u));
  CHECK(parse_lsn("FFFFFFFF/FFFFFFFF") == 0xFFFFFFFFFFFFFFFFull);
  for (const std::string bad : {"", "0", "/1", "1/", "0/3000050x", "123456789/0", "g/0", "-1/0"}) {
    INFO(bad);
    CHECK_FALSE(parse_lsn(bad).has_value());
  }
  const WalSegment seg7{1, 0, 7};
  CHECK(segment_end_lsn(seg7) == 0x8000000u);
  CHECK(segment_end_lsn({1, 0x16, 0xB3}) == (0x16ull << 32 | 0xB4000000u));
  CHECK(segment_end_lsn({1, 2, 255}) == 3ull << 32);
  CHECK(segment_end_lsn({1, 0, 7}, 64ull * 1024 * 1024) == 8ull * 64 * 1024 * 1024);
}

TEST_CASE("archiving health and RPO exposure, case by case") {
  struct Case {
    std::string name;
    ArchiverStats stats;
    std::string current_lsn;
    std::optional<std::uint64_t> unarchived;
    std::optional<std::chrono::seconds> exposure;
    bool failing;
  };
  ArchiverStats failing = archived("000000010000000000000007", 600s);
  failing.failed_count = 12;
  failing.last_failed_wal = "000000010000000000000008";
  failing.last_failed_time = kNow - 5s;
  ArchiverStats recovered = failing;
  recovered.last_archived_wal = "000000010000000000000008";
  recovered.last_archived_time = kNow - 2s;
  ArchiverStats never;
  ArchiverStats never_but_failing;
  never_but_failing.failed_count = 3;
  never_but_failing.last_failed_time = kNow - 30s;

  const std::vector<Case> cases = {
      {"right after a switch everything is in the repository",
       archived("000000010000000000000007", 40s), "0/8000000", 0, 0s, false},
      {"WAL written since the last archived segment is exposed since it was archived",
       archived("000000010000000000000007", 40s), "0/8001000", 0x1000, 40s, false},
      {"a failing archive_command: the exposure grows with the clock", failing, "0/9400000",
       0x1400000, 600s, true},
      {"a failure followed by success is not failing, its count stays", recovered, "0/9000000", 0,
       0s, false},
      {"a backup label names the segment it was archived after",
       archived("000000010000000000000007.00000028.backup", 10s), "0/8000100", 0x100, 10s, false},
      {"a history file archived last leaves the position unknown",
       archived("00000002.history", 10s), "0/8000100", std::nullopt, std::nullopt, false},
      {"nothing ever archived", never, "0/1000000", std::nullopt, std::nullopt, false},
      {"nothing ever archived and failing", never_but_failing, "0/1000000", std::nullopt,
       std::nullopt, true},
      {"a current position before the archived end leaves nothing unarchived",
       archived("000000010000000000000007", 40s), "0/7FFF000", 0, 0s, false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto a = assess_archiver(c.stats, parse_lsn(c.current_lsn).value(), kNow);
    CHECK(a.unarchived_bytes == c.unarchived);
    CHECK(a.rpo_exposure == c.exposure);
    CHECK(a.failing == c.failing);
    CHECK(a.failed_count == c.stats.failed_count);
    CHECK(a.last_archived == c.stats.last_archived_time);
  }
}

TEST_CASE("with the database down, the exposure is the age of the repository's newest segment") {
  CHECK(exposure_from_repository(kNow - 95s, kNow) == 95s);
  CHECK(exposure_from_repository(kNow + 5s, kNow) == 0s);  // a clock ahead is not negative
}
