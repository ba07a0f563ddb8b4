#include "agent/daemon/archive_status.h"

namespace pgbackup {

ArchiveStatus assess_archive(const ArchiveHealth& health,
                             const std::optional<ArchiverReading>& reading,
                             const std::optional<ArchiveStatus>& previous, SysTime now) {
  ArchiveStatus s;
  s.health = health;
  const auto& newest_in_repository = health.newest_wal_time;
  if (!reading) {
    s.last_archived = newest_in_repository;
    s.failed_count = previous ? previous->failed_count : 0;
    s.failing = previous && previous->failing;
    if (newest_in_repository) {
      s.rpo_exposure = pgbackrest::exposure_from_repository(*newest_in_repository, now);
    }
    return s;
  }
  const pgbackrest::ArchiverAssessment a = pgbackrest::assess_archiver(
      reading->stats, reading->current_lsn, now, reading->wal_segment_size);
  s.from_database = true;
  s.last_archived = a.last_archived ? a.last_archived : newest_in_repository;
  s.failed_count = a.failed_count;
  s.failing = a.failing;
  s.unarchived_bytes = a.unarchived_bytes;
  s.rpo_exposure = a.rpo_exposure;
  // Statistics reset, or the last archived file is a timeline history file: the repository
  // still dates the newest segment it holds.
  if (!s.rpo_exposure && newest_in_repository) {
    s.rpo_exposure = pgbackrest::exposure_from_repository(*newest_in_repository, now);
  }
  return s;
}

}  // namespace pgbackup
