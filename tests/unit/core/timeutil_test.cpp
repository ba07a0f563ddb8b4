// Times read from files and S3 answers: what SysTime cannot hold is refused, never overflowed
// (inputs found by tests/fuzz/s3_xml_fuzz.cpp and state_fuzz.cpp under UBSan).
#include "agent/core/timeutil.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace pgbackup;

TEST_CASE("an ISO 8601 time parses within 1900-2200 and only as a real date") {
  CHECK(parse_iso8601("2026-02-01T02:03:04Z") == from_unix_seconds(1769911384));
  CHECK(parse_iso8601("2026-02-01T02:03:04.000Z") == parse_iso8601("2026-02-01T02:03:04Z"));
  CHECK(parse_iso8601("2200-12-31T23:59:59Z"));
  for (const char* bad :
       {"4052-02-01T02:03:04.000Z", "9999-12-31T23:59:59Z", "1000-01-01T00:00:00Z",
        "-999-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-01-01T-1:00:00Z", "2026-01-01T00:00:00", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
}

TEST_CASE("a backup file stamp past 2200 is not a backup's name") {
  CHECK(parse_file_stamp("20260201_020000"));
  CHECK_FALSE(parse_file_stamp("99991231_235959"));
  CHECK_FALSE(parse_file_stamp("20260231_020000"));
}

TEST_CASE("unix seconds that SysTime cannot hold give the epoch") {
  CHECK(from_unix_seconds(1769911384) == parse_iso8601("2026-02-01T02:03:04Z"));
  for (const double bad : {1e300, -1e300, std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(), 9.3e9}) {
    INFO(bad);
    CHECK(from_unix_seconds(bad) == SysTime{});
  }
}
