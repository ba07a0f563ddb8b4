#pragma once

// Whether a TimescaleDB test can run. No stand-in: where the real extension is not installed
// for PostgreSQL 15 such a test says so loudly and passes, unless PGBACKUP_REQUIRE_TIMESCALEDB=1
// (as under .ci/run) makes its absence a failure.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "tests/support/pg_cluster.h"

namespace pgtest {

// False (after a loud warning) when the real extension is missing and not required; fails the
// test when it is required.
inline bool timescaledb_available() {
  if (PgCluster::timescaledb_installed()) return true;
  const char* required = std::getenv("PGBACKUP_REQUIRE_TIMESCALEDB");
  if (required != nullptr && std::string(required) == "1") {
    FAIL(
        "TimescaleDB is not installed for PostgreSQL 15, and PGBACKUP_REQUIRE_TIMESCALEDB=1 "
        "requires it (hint: scripts/setup --timescaledb FILE builds it from a release source)");
  }
  WARN("SKIPPED: TimescaleDB is not installed for PostgreSQL 15; this test did not run");
  return false;
}

}  // namespace pgtest
