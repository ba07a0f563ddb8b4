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

// How a retention run started: after a backup or an upload (automatic), or by `prune` (by
// hand: the operator asked for it, and `--dry-run` shows the list first).
enum class RetentionRun { automatic, by_hand };

// How far a backup may have started after `now` before the clock is distrusted.
inline constexpr std::chrono::minutes kClockTolerance{10};

// Why retention must not trust the clock at `now`, or "" when it may: a clock that jumps
// forward ages every backup at once, one that went back leaves backups "from the future".
// - a backup started more than kClockTolerance after `now`: the clock went back, or that backup
//   was taken while it was ahead; retention waits until the clock passes it;
// - an automatic run that would delete `expired` backups, more than a quarter of them and more
//   than 3: a schedule never expires that many at once, a clock that jumped forward (or a
//   shortened retention window) does; `prune` by hand applies it.
std::string clock_guard_reason(const std::vector<RetainedBackup>& backups, std::size_t expired,
                               SysTime now, RetentionRun run);

// What one retention run deletes at `now`: select_expired's choice, or nothing when
// clock_guard_reason refuses (the reason in `refused`).
struct ExpiryDecision {
  std::vector<std::size_t> expired;  // indices into the backups, oldest first
  std::string refused;
};
ExpiryDecision decide_expiry(const std::vector<RetainedBackup>& backups,
                             const RetentionConfig& policy, SysTime now, RetentionRun run);

// Why retention must wait (DESIGN §5), or "" when it may run: never prune after a failed or
// anomalous backup. `last_backup_failed`: the newest backup attempt (state.json) failed;
// `newest_good`: the manifest of the newest good backup, or nullptr when there is none.
std::string retention_blocked_reason(bool last_backup_failed, const Manifest* newest_good);

}  // namespace pgbackup
