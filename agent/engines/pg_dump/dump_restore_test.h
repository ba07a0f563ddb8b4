#pragma once

// The pg_dump engine's part of a restore test (engines/restore_test_run.h, DESIGN §7): verify
// the dump, re-create the scratch database of restore_test.database, create the roles it needs,
// pg_restore it, compare the row counts and the schema with the manifest, run the checks.

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "agent/config/config.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/restore_test_run.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

// The backup a scheduled test restores: among good backups that finished within `max_age`,
// the newest (pick: latest) or one chosen by `random_index(n)` in [0, n) (pick: random).
// nullptr when there is none.
const CatalogEntry* pick_backup_to_test(
    const std::vector<CatalogEntry>& entries, const RestoreTestConfig& config, SysTime now,
    const std::function<std::size_t(std::size_t)>& random_index);

std::unique_ptr<RestoreTestRun> dump_restore_test(const Config& config, const TargetConfig& target,
                                                  const JobContext& ctx);

}  // namespace pgbackup
