#pragma once

// A good backup of a physical engine as its catalogue would list it, for unit tests of what
// reads catalogues (collectors, the status page): they only see CatalogEntry values.

#include <cstdint>

#include "agent/core/timeutil.h"
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

}  // namespace pgtest
