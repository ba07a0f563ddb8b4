#include "agent/rules/heartbeat.h"

#include <cstdio>

#include "agent/core/units.h"
#include "agent/rules/recovery_target.h"

namespace pgbackup {
namespace {

std::string seconds_text(std::chrono::duration<double> d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", d.count());
  return text;
}

}  // namespace

std::string heartbeat_finding(const HeartbeatBound& bound, std::optional<SysTime> newest) {
  const std::string point =
      (bound.exact ? "the target " : "the archive's end ") + format_target_time(bound.point);
  if (!newest) {
    return "heartbeat: the restored cluster has no heartbeat (pgbackup.heartbeat is missing or "
           "empty), so the recovery point near " +
           point +
           " is not proven; hint: the daemon writes it every restore_test.heartbeat while it "
           "runs; a target before its first heartbeat has none";
  }
  const std::string found = format_target_time(*newest);
  if (bound.exact && *newest > bound.point) {
    return "heartbeat: the newest heartbeat restored (" + found + ") is after " + point +
           ": recovery did not stop at the target";
  }
  const auto earliest = bound.point - bound.cadence - kHeartbeatSlack;
  if (*newest < earliest) {
    return "heartbeat: the newest heartbeat restored (" + found + ") is " +
           seconds_text(bound.point - *newest) + " before " + point + ", more than one cadence (" +
           format_duration(bound.cadence) + ", plus " + format_duration(kHeartbeatSlack) +
           " slack): writes of that time are missing from the restore, or the heartbeat writer "
           "had stopped (the daemon's log says)";
  }
  return "";
}

}  // namespace pgbackup
