// pgbackup_repository_*: the backup directory's filesystem (statvfs, read with the status).
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class RepositoryCollector : public Collector {
 public:
  std::string name() const override { return "repository"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_target(out, in, "pgbackup_repository_avail_bytes",
                   "Bytes available to the agent on the backup directory's filesystem.",
                   MetricType::Gauge,
                   [](const TargetStatus& t) { return double(t.filesystem.avail_bytes); });
    add_per_target(out, in, "pgbackup_repository_size_bytes",
                   "Size of the backup directory's filesystem.", MetricType::Gauge,
                   [](const TargetStatus& t) { return double(t.filesystem.size_bytes); });
  }
};

}  // namespace

std::unique_ptr<Collector> make_repository_collector() {
  return std::make_unique<RepositoryCollector>();
}

}  // namespace pgbackup
