#pragma once

// The database's side of WAL archiving (DESIGN §11): pg_stat_archiver, the current WAL position
// and the segment size, read by the prober for targets whose engine keeps a WAL archive.

#include <pqxx/connection>

#include <cstdint>

#include "agent/engines/pgbackrest/archiver.h"

namespace pgbackup {

// One reading of the database's archiver, taken at one probe.
struct ArchiverReading {
  pgbackrest::ArchiverStats stats;
  // pg_current_wal_lsn() (on a standby, the last replayed position).
  std::uint64_t current_lsn = 0;
  std::uint64_t wal_segment_size = pgbackrest::kDefaultWalSegmentSize;
};

// Reads pg_stat_archiver, the WAL position and wal_segment_size over `conn`; throws pqxx errors
// or OperationError (an LSN it cannot parse).
ArchiverReading read_archiver(pqxx::connection& conn);

}  // namespace pgbackup
