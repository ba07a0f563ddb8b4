#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include "agent/daemon/threads.h"
#include "agent/postgres/postgres.h"

namespace pgbackup {
namespace {

constexpr auto kProbeInterval = std::chrono::seconds(30);
constexpr auto kProbeTimeout = std::chrono::seconds(5);

bool probe(const TargetConfig& t) {
  try {
    DatabaseConfig db = t.database;
    db.connect_timeout = std::min<std::chrono::seconds>(db.connect_timeout, kProbeTimeout);
    const DatabaseEndpoint endpoint(db);
    auto conn = endpoint.connect();
    pqxx::nontransaction tx(*conn);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("database probe of {} failed: {}", t.name, e.what());
    return false;
  }
}

}  // namespace

void run_prober(DaemonState& state) {
  while (!state.stopping()) {
    const auto cfg = state.config();
    for (const TargetConfig& t : cfg->targets) {
      if (state.stopping()) break;
      const bool up = probe(t);
      state.update_runtime(t.name, [up](TargetRuntime& r) { r.database_up = up; });
    }
    if (!state.sleep_until(state.clock().now() + kProbeInterval)) break;
  }
}

}  // namespace pgbackup
