#pragma once

#include <string>
#include <vector>

namespace pgtest {

// TimescaleDB is not packaged for Debian 12, so restore tests use a stand-in: an extension
// named `timescaledb` (versions kOldVersion and kNewVersion, with an update path between them)
// whose timescaledb_pre_restore() and timescaledb_post_restore() do nothing but record each
// call. It is NOT TimescaleDB: it proves the agent's call sequence and version checks only.
//
// The calls go to the server log (RAISE LOG) rather than to a table: pg_restore --clean drops
// and re-creates the extension and everything in the dump, and the server log is the one
// record that survives whatever the restore does to the database.
struct TimescaleStandIn {
  static constexpr const char* kOldVersion = "2.13.0";
  static constexpr const char* kNewVersion = "2.14.0";

  // Writes the control file and SQL scripts into PostgreSQL 15's SHAREDIR/extension (needs
  // root, as the integration tests run). Idempotent; every file says it is a test stand-in.
  static void install();

  // The stand-in calls recorded in the shared cluster's log for `db`, oldest first:
  // "pre_restore", "post_restore".
  static std::vector<std::string> calls(const std::string& db);
};

}  // namespace pgtest
