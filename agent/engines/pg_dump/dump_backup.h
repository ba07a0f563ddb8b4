#pragma once

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

// The pg_dump pipeline (DESIGN §1, §4): checks there is room for another dump like the last,
// then pg_dump in the snapshot the row counts, the schema fingerprint and the cluster globals
// use, SHA-256 while streaming, fsync, pg_restore --list against the counts, rename, companion
// file, and the manifest with its checks (size anomaly, shrunk tables, schema drift, tier).
// Returns the manifest written. Throws OperationError, leaving no .partial and no new file that
// looks like a backup, when it fails. The caller holds the directory lock.
Manifest take_dump(const TargetConfig& target, const DumpCatalog& catalog, const JobContext& ctx);

}  // namespace pgbackup
