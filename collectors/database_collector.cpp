// pgbackup_database_*: the cached connection probe and the size at the last backup.
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class DatabaseCollector : public Collector {
 public:
  std::string name() const override { return "database"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_target(
        out, in, "pgbackup_database_up", "1 if the last connection probe (every 30 s) succeeded.",
        MetricType::Gauge,
        [](const TargetStatus& t) { return t.runtime.database_up.value_or(false) ? 1.0 : 0.0; });
    add_per_target(out, in, "pgbackup_database_size_bytes",
                   "Database size at the newest good backup.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const CatalogEntry* b = t.newest_good();
                     return b ? double(b->manifest->database.size_bytes) : 0.0;
                   });
  }
};

}  // namespace

std::unique_ptr<Collector> make_database_collector() {
  return std::make_unique<DatabaseCollector>();
}

}  // namespace pgbackup
