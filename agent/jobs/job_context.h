#pragma once

#include <atomic>

#include "agent/core/clock.h"
#include "agent/core/progress.h"

namespace pgbackup {

// What every job gets from whoever runs it (the daemon, a command): the clock it reads the time
// from and a way to be stopped.
struct JobContext {
  const Clock& clock;
  // Set when the agent is asked to stop; running children are stopped then. May be null.
  const std::atomic<bool>* cancel = nullptr;
  // Where long steps show how far they are (a command on a terminal); null for the daemon and
  // whenever nobody watches.
  Progress* progress = nullptr;

  // The wall-clock time now.
  SysTime now() const { return clock.now(); }
  bool cancelled() const { return cancel && cancel->load(); }
};

}  // namespace pgbackup
