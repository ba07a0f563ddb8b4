#pragma once

// The recovery-point probe's bound (restore_test.heartbeat, issue 23): the daemon writes now()
// into pgbackup.heartbeat on the production database every cadence, so a restore to a point T
// must bring back a heartbeat written within one cadence before T. Pure: the caller reads the
// newest heartbeat in the restored cluster and says what T is.

#include <chrono>
#include <optional>
#include <string>

#include "agent/core/clock.h"

namespace pgbackup {

// What a heartbeat may lag behind a cadence: the writer's connection and commit (the row holds
// the transaction's start, now()), the database server's clock against the agent's, and, for
// `latest`, the time between a WAL segment's last commit and its arrival in the repository
// (whose file times are whole seconds).
constexpr std::chrono::seconds kHeartbeatSlack{5};

struct HeartbeatBound {
  // T: the target time of a time restore, or (for `latest`) the end of the archive when the test
  // started.
  SysTime point;
  // A time target: replay stops at T, so a heartbeat after it means it did not. With `latest`
  // replay reaches whatever the archive holds when it runs, which may be past T.
  bool exact = true;
  std::chrono::seconds cadence{30};
};

// Empty when `newest` (the newest heartbeat restored; nullopt when the table is missing or
// empty) lies in [T - cadence - kHeartbeatSlack, T] (no upper end when not exact); otherwise the
// finding, naming both times.
std::string heartbeat_finding(const HeartbeatBound& bound, std::optional<SysTime> newest);

}  // namespace pgbackup
