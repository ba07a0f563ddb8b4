#include "agent/rules/retention.h"

#include <algorithm>
#include <chrono>
#include <numeric>

namespace pgbackup {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::sys_days;

// Identifies the UTC calendar month.
int month_key(SysTime t) {
  const std::chrono::year_month_day ymd{floor<days>(t)};
  return static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month()));
}

// Identifies the ISO week (Monday to Sunday). 1970-01-01 was a Thursday, so shifting by three
// days makes every Monday start a new multiple of seven.
long iso_week_key(SysTime t) {
  const long day = floor<days>(t).time_since_epoch().count();
  const long shifted = day + 3;
  return shifted >= 0 ? shifted / 7 : (shifted - 6) / 7;
}

}  // namespace

std::chrono::seconds window_of(Tier tier, const RetentionConfig& policy) {
  switch (tier) {
    case Tier::monthly:
      return policy.monthly;
    case Tier::weekly:
      return policy.weekly;
    case Tier::daily:
      break;
  }
  return policy.daily;
}

Tier assign_tier(SysTime started, const std::vector<SysTime>& earlier_good) {
  bool month_seen = false;
  bool week_seen = false;
  for (SysTime t : earlier_good) {
    if (t >= started) continue;
    month_seen = month_seen || month_key(t) == month_key(started);
    week_seen = week_seen || iso_week_key(t) == iso_week_key(started);
  }
  if (!month_seen) return Tier::monthly;
  if (!week_seen) return Tier::weekly;
  return Tier::daily;
}

std::vector<std::size_t> select_expired(const std::vector<RetainedBackup>& backups,
                                        const RetentionConfig& policy, SysTime now) {
  std::vector<std::size_t> newest_first(backups.size());
  std::iota(newest_first.begin(), newest_first.end(), 0);
  std::sort(newest_first.begin(), newest_first.end(), [&](std::size_t a, std::size_t b) {
    return backups[a].started_at > backups[b].started_at;
  });
  std::vector<std::size_t> expired;
  for (std::size_t rank = 0; rank < newest_first.size(); ++rank) {
    if (rank < static_cast<std::size_t>(std::max(policy.min_keep, 1))) continue;
    const RetainedBackup& b = backups[newest_first[rank]];
    if (now - b.started_at >= window_of(b.tier, policy)) expired.push_back(newest_first[rank]);
  }
  std::sort(expired.begin(), expired.end());
  return expired;
}

std::string clock_guard_reason(const std::vector<RetainedBackup>& backups, std::size_t expired,
                               SysTime now, RetentionRun run) {
  const auto newest = std::max_element(
      backups.begin(), backups.end(),
      [](const RetainedBackup& a, const RetainedBackup& b) { return a.started_at < b.started_at; });
  if (newest != backups.end() && newest->started_at > now + kClockTolerance) {
    return "a backup started at " + format_iso8601(newest->started_at) +
           ", after the clock's now " + format_iso8601(now) +
           ": the clock went back, or was ahead when that backup was taken; retention waits "
           "until the clock passes it (hint: check the system clock, timedatectl)";
  }
  constexpr std::size_t kMassDeletion = 3;
  if (run == RetentionRun::automatic && expired > kMassDeletion && expired * 4 > backups.size()) {
    return std::to_string(expired) + " of " + std::to_string(backups.size()) +
           " backups would expire at once, which a schedule never does: the clock may have "
           "jumped forward (now " +
           format_iso8601(now) +
           ") or the retention windows were shortened; nothing was deleted (hint: check the "
           "system clock; `prune --dry-run` lists them and `prune` applies it)";
  }
  return "";
}

ExpiryDecision decide_expiry(const std::vector<RetainedBackup>& backups,
                             const RetentionConfig& policy, SysTime now, RetentionRun run) {
  ExpiryDecision d;
  d.expired = select_expired(backups, policy, now);
  d.refused = clock_guard_reason(backups, d.expired.size(), now, run);
  if (!d.refused.empty()) d.expired.clear();
  return d;
}

std::string retention_blocked_reason(bool last_backup_failed, const Manifest* newest_good) {
  if (last_backup_failed) {
    return "the newest backup attempt failed; retention waits for a good backup";
  }
  if (newest_good && newest_good->size_anomaly) {
    return "the newest backup is a size anomaly (" + newest_good->size_anomaly_reason +
           "); retention waits for a normal backup";
  }
  return "";
}

}  // namespace pgbackup
