#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "agent/daemon/threads.h"
#include "agent/engines/engine.h"
#include "agent/postgres/postgres.h"
#include "agent/postgres/wal_archiver.h"

namespace pgbackup {
namespace {

constexpr auto kProbeInterval = std::chrono::seconds(30);
constexpr auto kProbeTimeout = std::chrono::seconds(5);

struct Probe {
  bool up = false;
  std::optional<ArchiverReading> archiver;  // asked only for a target with an archive
};

// One connection: is the database up, and (`archived`) what its archiver says.
Probe probe(const TargetConfig& t, bool archived) {
  Probe p;
  try {
    DatabaseConfig db = t.database;
    db.connect_timeout = std::min<std::chrono::seconds>(db.connect_timeout, kProbeTimeout);
    const DatabaseEndpoint endpoint(db);
    auto conn = endpoint.connect();
    {
      pqxx::nontransaction tx(*conn);
      tx.exec("SELECT 1");
    }
    p.up = true;
    if (archived) p.archiver = read_archiver(*conn);
  } catch (const std::exception& e) {
    spdlog::debug("database probe of {} failed: {}", t.name, e.what());
  }
  return p;
}

// The engine's archive health over the cached catalogue; on a failure the previous one (a
// repository that cannot be read this time keeps its last known facts, with a warning).
std::optional<ArchiveHealth> archive_health(const TargetConfig& t, const DaemonState& state,
                                            const std::optional<ArchiveStatus>& previous) {
  try {
    return make_engine(t)->archive_health(state.cached_catalog(t.name));
  } catch (const std::exception& e) {
    spdlog::warn("cannot read the WAL archive of {}: {}", t.name, e.what());
    if (previous) return previous->health;
    return std::nullopt;
  }
}

void probe_target(DaemonState& state, const TargetConfig& t) {
  std::optional<ArchiveStatus> previous;
  state.update_runtime(t.name, [&](TargetRuntime& r) { previous = r.archive; });
  const std::optional<ArchiveHealth> health = archive_health(t, state, previous);
  const Probe p = probe(t, health.has_value());
  std::optional<ArchiveStatus> archive;
  if (health) archive = assess_archive(*health, p.archiver, previous, state.clock().now());
  state.update_runtime(t.name, [&](TargetRuntime& r) {
    r.database_up = p.up;
    r.archive = archive;
  });
}

}  // namespace

void run_prober(DaemonState& state) {
  // The archive's health is read over the catalogue the refresher caches: wait for its first
  // pass.
  while (!state.ready()) {
    if (state.stopping()) return;
    state.clock().sleep_for(std::chrono::milliseconds(10));
  }
  while (!state.stopping()) {
    const auto cfg = state.config();
    for (const TargetConfig& t : cfg->targets) {
      if (state.stopping()) break;
      probe_target(state, t);
    }
    state.mark_probed();
    if (!state.sleep_until(state.clock().now() + kProbeInterval)) break;
  }
}

}  // namespace pgbackup
