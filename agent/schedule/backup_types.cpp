#include "agent/schedule/backup_types.h"

#include <algorithm>
#include <cassert>

#include "agent/schedule/cron.h"

namespace pgbackup {
namespace {

// full 0, diff 1, incr 2: a smaller rank restores more on its own.
int rank(BackupType type) { return static_cast<int>(type); }

}  // namespace

std::vector<TypeSchedule> scheduled_types(const TargetConfig& target) {
  std::vector<TypeSchedule> types{{BackupType::full, target.backup.schedule}};
  if (!target.backup.diff_schedule.empty())
    types.push_back({BackupType::diff, target.backup.diff_schedule});
  if (!target.backup.incr_schedule.empty())
    types.push_back({BackupType::incr, target.backup.incr_schedule});
  return types;
}

bool serves(BackupType taken, BackupType slot) { return rank(taken) <= rank(slot); }

std::optional<BackupType> type_to_run(const std::vector<TypeDue>& dues, SysTime now) {
  std::optional<BackupType> chosen;
  for (const TypeDue& d : dues) {
    if (d.due <= now && (!chosen || rank(d.type) < rank(*chosen))) chosen = d.type;
  }
  return chosen;
}

std::vector<TypeRuns> next_runs_by_type(const TargetConfig& target, SysTime from, int count) {
  std::vector<TypeRuns> out;
  std::vector<CronSchedule> larger;
  for (const TypeSchedule& t : scheduled_types(target)) {
    const CronSchedule schedule = CronSchedule::parse(t.schedule);
    TypeRuns runs{t.type, {}};
    // Bounded: a type whose every slot a larger one takes has no runs of its own.
    SysTime at = from;
    for (int step = 0; step < 10000 && static_cast<int>(runs.runs.size()) < count; ++step) {
      at = schedule.next_after(at);
      const bool taken = std::any_of(larger.begin(), larger.end(),
                                     [&](const CronSchedule& l) { return l.matches(at); });
      if (!taken) runs.runs.push_back(at);
    }
    out.push_back(std::move(runs));
    larger.push_back(schedule);
  }
  return out;
}

SysTime earliest_due(const std::vector<TypeDue>& dues) {
  assert(!dues.empty());
  return std::min_element(dues.begin(), dues.end(),
                          [](const TypeDue& a, const TypeDue& b) { return a.due < b.due; })
      ->due;
}

}  // namespace pgbackup
