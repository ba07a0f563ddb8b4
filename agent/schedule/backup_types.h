#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/engines/backup_type.h"

namespace pgbackup {

// One backup type a target schedules, with its cron line.
struct TypeSchedule {
  BackupType type = BackupType::full;
  std::string schedule;
};

// The backup types `target` schedules, largest first: full (backup.schedule) always, then diff
// and incr when their schedules are set. The config sets them only with `engine: pgbackrest`
// (a pg_dump target's backup.schedule is one string), so a pg_dump target has full only.
std::vector<TypeSchedule> scheduled_types(const TargetConfig& target);

// Whether a backup of type `taken` serves a slot of type `slot`: a full serves every slot, a
// diff serves diff and incr slots, an incr only incr ones (each restores at least as much).
bool serves(BackupType taken, BackupType slot);

// When each scheduled type is due (after backoff), largest first, as plan_target computes them.
struct TypeDue {
  BackupType type = BackupType::full;
  SysTime due;
};

// The type to run at `now`: the largest one that is due. Several types due in one slot (the same
// minute, or the one catch-up after downtime) run once, as the largest; the smaller ones are
// then served by it (see serves) and not due any more. nullopt when none is due.
std::optional<BackupType> type_to_run(const std::vector<TypeDue>& dues, SysTime now);

// The next `count` scheduled runs of each type after `from`, largest type first (a preview:
// config-check). A slot a larger type also has is the larger one's, so it is not listed for the
// smaller type.
struct TypeRuns {
  BackupType type = BackupType::full;
  std::vector<SysTime> runs;
};
std::vector<TypeRuns> next_runs_by_type(const TargetConfig& target, SysTime from, int count);

// The earliest due time of `dues` (not empty).
SysTime earliest_due(const std::vector<TypeDue>& dues);

}  // namespace pgbackup
