#pragma once

#include "agent/engines/catalog_entry.h"
#include "agent/engines/engine.h"

namespace pgbackup {

// Proves a backup again: its manifest, size, SHA-256, that pg_restore can list it, and that
// every counted table has its data in the archive.
VerifyReport verify_backup(const CatalogEntry& entry);

}  // namespace pgbackup
