#include "agent/postgres/wal_archiver.h"

#include <pqxx/pqxx>

#include "agent/core/errors.h"
#include "agent/core/timeutil.h"

namespace pgbackup {
namespace {

// Times come as epoch seconds (NULL until the first archive or failure).
std::optional<SysTime> epoch_field(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return from_unix_seconds(f.as<double>());
}

}  // namespace

ArchiverReading read_archiver(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  const pqxx::row row = tx.exec1(
      "SELECT archived_count, coalesce(last_archived_wal, ''),"
      " extract(epoch FROM last_archived_time)::float8,"
      " failed_count, coalesce(last_failed_wal, ''),"
      " extract(epoch FROM last_failed_time)::float8,"
      " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
      "  ELSE pg_current_wal_lsn() END)::text,"
      " (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')"
      " FROM pg_stat_archiver");
  ArchiverReading r;
  r.stats.archived_count = row[0].as<std::int64_t>();
  r.stats.last_archived_wal = row[1].as<std::string>();
  r.stats.last_archived_time = epoch_field(row[2]);
  r.stats.failed_count = row[3].as<std::int64_t>();
  r.stats.last_failed_wal = row[4].as<std::string>();
  r.stats.last_failed_time = epoch_field(row[5]);
  const std::string lsn = row[6].is_null() ? "" : row[6].as<std::string>();
  const auto parsed = pgbackrest::parse_lsn(lsn);
  if (!parsed) throw OperationError("cannot read the current WAL position: got '" + lsn + "'");
  r.current_lsn = *parsed;
  r.wal_segment_size = row[7].as<std::uint64_t>();
  return r;
}

}  // namespace pgbackup
