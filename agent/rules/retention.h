#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"

namespace pgbackup {

// The tier of a new good backup started at `started`, given when the earlier good backups
// started (DESIGN §5): monthly if it is the first of its UTC calendar month, else weekly if the
// first of its ISO week, else daily.
Tier assign_tier(SysTime started, const std::vector<SysTime>& earlier_good);

struct RetainedBackup {
  SysTime started_at;
  Tier tier;
};

// How long a backup of `tier` is kept (retention.daily, weekly or monthly).
std::chrono::seconds window_of(Tier tier, const RetentionConfig& policy);

// Indices into `backups` (good backups only) that retention deletes at `now`: those whose age
// reached their tier's window, except the newest `min_keep`, which are always kept.
std::vector<std::size_t> select_expired(const std::vector<RetainedBackup>& backups,
                                        const RetentionConfig& policy, SysTime now);

// Why retention must wait (DESIGN §5), or "" when it may run: never prune after a failed or
// anomalous backup. `last_backup_failed`: the newest backup attempt (state.json) failed;
// `newest_good`: the manifest of the newest good backup, or nullptr when there is none.
std::string retention_blocked_reason(bool last_backup_failed, const Manifest* newest_good);

}  // namespace pgbackup
