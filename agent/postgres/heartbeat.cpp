#include "agent/postgres/heartbeat.h"

#include <pqxx/pqxx>

#include <algorithm>

#include "agent/core/timeutil.h"
#include "agent/postgres/postgres.h"

namespace pgbackup {
namespace {

// A heartbeat must never hang on a busy or unreachable server: the next one is due soon.
constexpr std::chrono::seconds kHeartbeatTimeout{5};

const char* const kUpsert =
    "INSERT INTO pgbackup.heartbeat (id, at) VALUES (1, now()) "
    "ON CONFLICT (id) DO UPDATE SET at = excluded.at";

// undefined_table, invalid_schema_name: the probe's table is not there yet.
bool table_missing(const pqxx::sql_error& e) {
  return e.sqlstate() == "42P01" || e.sqlstate() == "3F000";
}

}  // namespace

void write_heartbeat(const DatabaseConfig& database) {
  DatabaseConfig db = database;
  db.connect_timeout = std::min(db.connect_timeout, kHeartbeatTimeout);
  const auto conn = DatabaseEndpoint(db).connect();
  pqxx::nontransaction(*conn).exec("SET statement_timeout = '5s'");
  // The upsert first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
  // schema exists, which a role given only the table need not have.
  try {
    pqxx::nontransaction(*conn).exec(kUpsert);
    return;
  } catch (const pqxx::sql_error& e) {
    if (!table_missing(e)) throw;
  }
  pqxx::work tx(*conn);
  tx.exec("CREATE SCHEMA IF NOT EXISTS pgbackup");
  tx.exec(
      "CREATE TABLE IF NOT EXISTS pgbackup.heartbeat (id int PRIMARY KEY CHECK (id = 1), "
      "at timestamptz NOT NULL)");
  tx.exec(kUpsert);
  tx.commit();
}

std::optional<SysTime> read_newest_heartbeat(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  if (tx.exec1("SELECT to_regclass('pgbackup.heartbeat') IS NULL")[0].as<bool>()) {
    return std::nullopt;
  }
  const pqxx::row r =
      tx.exec1("SELECT extract(epoch FROM max(at))::float8 FROM pgbackup.heartbeat");
  if (r[0].is_null()) return std::nullopt;
  return from_unix_seconds(r[0].as<double>());
}

}  // namespace pgbackup
