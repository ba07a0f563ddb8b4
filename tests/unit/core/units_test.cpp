#include "agent/core/units.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using pgbackup::parse_duration;
using pgbackup::parse_size;

TEST_CASE("durations are read in the config's units") {
  CHECK(parse_duration("90s") == 90s);
  CHECK(parse_duration("45m") == 45min);
  CHECK(parse_duration("26h") == 26h);
  CHECK(parse_duration("30d") == 30 * 24h);
  CHECK(parse_duration("1h30m") == 90min);
}

TEST_CASE("a duration without a known unit is rejected with the accepted forms") {
  for (const char* bad : {"", "10", "h", "10x", "10 h", "-5m", "1.5h"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse_duration(bad), Catch::Contains("expected a number with a unit"));
  }
}

TEST_CASE("sizes are read in binary units") {
  CHECK(parse_size("512KiB") == 512 * 1024);
  CHECK(parse_size("1MiB") == 1024 * 1024);
  CHECK(parse_size("2GiB") == 2ULL * 1024 * 1024 * 1024);
  CHECK(parse_size("1000") == 1000);
  CHECK_THROWS_WITH(parse_size("1MB"), Catch::Contains("KiB, MiB, GiB"));
  CHECK_THROWS(parse_size("MiB"));
}

TEST_CASE("durations and sizes are formatted for people") {
  CHECK(pgbackup::format_duration(26h) == "1d2h");
  CHECK(pgbackup::format_duration(90s) == "1m30s");
  CHECK(pgbackup::format_bytes(17) == "17 B");
  CHECK(pgbackup::format_bytes(1536) == "1.5 KiB");
  CHECK(pgbackup::format_bytes(300ULL << 20) == "300 MiB");
}

TEST_CASE("a size is spelled in the largest unit that is exact, and reads back the same") {
  CHECK(pgbackup::format_size(1024) == "1KiB");
  CHECK(pgbackup::format_size(64ULL << 20) == "64MiB");
  CHECK(pgbackup::format_size(1536) == "1536B");
  CHECK(pgbackup::format_size(0) == "0B");
  for (const std::uint64_t bytes : {0ULL, 1ULL, 1000ULL, 1536ULL, 5ULL << 20, 3ULL << 40}) {
    INFO(bytes);
    CHECK(parse_size(pgbackup::format_size(bytes)) == bytes);
  }
}
