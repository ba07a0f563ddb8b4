#pragma once

// The recovery-point probe's table (restore_test.heartbeat, issue 23): one row in
// pgbackup.heartbeat of the production database, `at` set to now() on every write, read back
// from a restored cluster to see how far the restore reached.

#include <pqxx/connection>

#include <optional>

#include "agent/config/config.h"
#include "agent/core/clock.h"

namespace pgbackup {

// Upserts now() into pgbackup.heartbeat (id 1) of `database`, first creating the schema and the
// table when they are missing. Throws OperationError (connection) or pqxx errors (permissions, a
// read-only server) with the server's message.
void write_heartbeat(const DatabaseConfig& database);

// The newest heartbeat in the database of `conn`; nullopt when the table is missing or empty.
std::optional<SysTime> read_newest_heartbeat(pqxx::connection& conn);

}  // namespace pgbackup
