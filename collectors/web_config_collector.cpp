// pgbackup_web_config_last_reload_successful: whether a changed --web.config.file was taken.
#include "collectors/collector.h"

namespace pgbackup {
namespace {

class WebConfigCollector : public Collector {
 public:
  std::string name() const override { return "web_config"; }

  void collect(const ScrapeInput& input,
               std::vector<prometheus::MetricFamily>& out) const override {
    if (!input.web_config_reload_ok) return;
    FamilyBuilder ok("pgbackup_web_config_last_reload_successful",
                     "1 when the web config file in use is the newest on disk, 0 when a changed "
                     "one was refused (the log says why) and the previous one still serves.",
                     prometheus::MetricType::Gauge);
    ok.add(*input.web_config_reload_ok ? 1 : 0);
    out.push_back(ok.build());
  }
};

}  // namespace

std::unique_ptr<Collector> make_web_config_collector() {
  return std::make_unique<WebConfigCollector>();
}

}  // namespace pgbackup
