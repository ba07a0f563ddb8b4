#pragma once

// A physical engine's backups and WAL archive as its catalogue and the prober would give them,
// for unit tests of what reads TargetStatus (collectors, the status page).

#include <cstdint>

#include "agent/core/timeutil.h"
#include "agent/daemon/archive_status.h"
#include "agent/engines/catalog_entry.h"

namespace pgtest {

inline pgbackup::CatalogEntry physical_backup(const char* label, pgbackup::BackupType type,
                                              const char* started, const char* finished,
                                              std::uint64_t size, std::uint64_t restore_set) {
  pgbackup::CatalogEntry b;
  b.dump = label;
  b.type = type;
  b.started_at = *pgbackup::parse_iso8601(started);
  b.file_size = size;
  b.restore_set_size = restore_set;
  b.manifest.emplace();
  b.manifest->started_at = b.started_at;
  b.manifest->finished_at = *pgbackup::parse_iso8601(finished);
  b.manifest->size_bytes = size;
  b.manifest->tier = pgbackup::Tier::daily;
  return b;
}

// An archive whose newest segment (in the repository and per pg_stat_archiver) is from
// `last_archived`, with archiving failing (12 failures), 48 MiB unarchived, an exposure of
// 10 minutes, one missing segment and a healthy stanza.
inline pgbackup::ArchiveStatus failing_archive(const char* last_archived) {
  pgbackup::ArchiveStatus a;
  a.health = {0, "ok", 1, pgbackup::parse_iso8601(last_archived)};
  a.from_database = true;
  a.last_archived = pgbackup::parse_iso8601(last_archived);
  a.failed_count = 12;
  a.failing = true;
  a.unarchived_bytes = 48u << 20;
  a.rpo_exposure = std::chrono::seconds(600);
  return a;
}

}  // namespace pgtest
