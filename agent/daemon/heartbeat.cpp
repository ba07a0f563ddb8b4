// The recovery-point probe's writer (restore_test.heartbeat, issue 23): now() into
// pgbackup.heartbeat of each target that asks for it, on its cadence. A failed write is logged
// when the writer's state changes (not at every tick) and touches nothing else: backups and the
// other threads never wait for it.
#include <spdlog/spdlog.h>

#include <map>

#include "agent/daemon/threads.h"
#include "agent/postgres/heartbeat.h"

namespace pgbackup {
namespace {

struct Beat {
  SysTime due{};
  std::optional<bool> ok;  // the last write's outcome; unset before the first
};

void beat(const TargetConfig& t, Beat& b) {
  try {
    write_heartbeat(t.database);
    if (b.ok == false) spdlog::info("{}: heartbeat written again to pgbackup.heartbeat", t.name);
    b.ok = true;
  } catch (const std::exception& e) {
    if (b.ok != false) {
      spdlog::warn(
          "{}: cannot write the heartbeat into pgbackup.heartbeat (restore_test.heartbeat): {}; "
          "backups go on, but restore tests will find the heartbeat old (logged again when it "
          "works)",
          t.name, e.what());
    }
    b.ok = false;
  }
}

}  // namespace

void run_heartbeat(DaemonState& state) {
  std::map<std::string, Beat> beats;
  while (!state.stopping()) {
    const auto cfg = state.config();
    std::map<std::string, Beat> kept;
    SysTime next = state.clock().now() + DaemonState::kMaxSleep;
    for (const TargetConfig& t : cfg->targets) {
      if (!t.restore_test || !t.restore_test->heartbeat) continue;
      Beat& b = kept[t.name] = beats[t.name];
      if (b.due <= state.clock().now()) {
        beat(t, b);
        b.due = state.clock().now() + *t.restore_test->heartbeat;
      }
      next = std::min(next, b.due);
    }
    // A target a reload removed, or whose probe it turned off, is forgotten.
    beats = std::move(kept);
    if (!state.sleep_until(next)) break;
  }
}

}  // namespace pgbackup
