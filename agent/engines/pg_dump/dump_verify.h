#pragma once

#include "agent/core/progress.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/engine.h"

namespace pgbackup {

// Proves a backup again: its manifest, size, SHA-256, that pg_restore can list it, and that
// every counted table has its data in the archive. The checksum's bytes go to `progress`.
VerifyReport verify_backup(const CatalogEntry& entry, Progress* progress = nullptr);

}  // namespace pgbackup
