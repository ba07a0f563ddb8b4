#pragma once

// What the prober knows about the WAL archive of a target whose engine keeps one (DESIGN §11):
// the engine's ArchiveHealth with the database's archiver, combined on the prober's cadence
// (never per scrape) into what the collectors and the status page show. Pure.

#include <chrono>
#include <cstdint>
#include <optional>

#include "agent/core/timeutil.h"
#include "agent/engines/engine.h"
#include "agent/postgres/wal_archiver.h"

namespace pgbackup {

struct ArchiveStatus {
  ArchiveHealth health;  // the engine's: stanza status, WAL gaps, newest segment in the repository
  // The database answered this probe; false: it is down and the repository's newest segment
  // stands in for pg_stat_archiver (exposure_from_repository).
  bool from_database = false;
  // When a segment was last archived: pg_stat_archiver.last_archived_time, else the newest
  // segment's time in the repository.
  std::optional<SysTime> last_archived;
  // pg_stat_archiver.failed_count at the last probe that reached the database (a counter: it
  // only goes back when PostgreSQL's statistics are reset).
  std::int64_t failed_count = 0;
  bool failing = false;  // the newest archive attempt failed (archiving is stuck)
  // Current WAL position minus the end of the last archived segment; unknown when the database
  // is down or no segment was archived yet.
  std::optional<std::uint64_t> unarchived_bytes;
  // Age of the oldest change not yet in the repository (archiver.h says how it is estimated);
  // unknown when neither the database nor the repository can date the newest archived segment.
  std::optional<std::chrono::seconds> rpo_exposure;
};

// The archive's status at `now` from the engine's `health` and, when the database answered,
// its `reading`. Without a reading the database's facts fall back to the repository's newest
// segment, and the failure count keeps `previous`'s (a counter must not drop to 0 because the
// database is down).
ArchiveStatus assess_archive(const ArchiveHealth& health,
                             const std::optional<ArchiverReading>& reading,
                             const std::optional<ArchiveStatus>& previous, SysTime now);

}  // namespace pgbackup
