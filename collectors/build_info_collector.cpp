// pgbackup_build_info{version,revision} 1.
#include "collectors/collector.h"
#include "version.h"

namespace pgbackup {
namespace {

class BuildInfoCollector : public Collector {
 public:
  std::string name() const override { return "build_info"; }

  void collect(const ScrapeInput&, std::vector<prometheus::MetricFamily>& out) const override {
    FamilyBuilder info("pgbackup_build_info", "Version and git revision of the running agent.",
                       prometheus::MetricType::Gauge);
    info.add(1, {{"version", kVersion}, {"revision", kRevision}});
    out.push_back(info.build());
  }
};

}  // namespace

std::unique_ptr<Collector> make_build_info_collector() {
  return std::make_unique<BuildInfoCollector>();
}

}  // namespace pgbackup
