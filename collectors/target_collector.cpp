// pgbackup_target_info{engine} and pgbackup_recovery_window_*: what a target is and how far back
// and forward a restore of it can go (DESIGN §9, §11), for every target.
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

double timestamp_or_zero(const std::optional<SysTime>& t) { return t ? to_unix_seconds(*t) : 0.0; }

class TargetCollector : public Collector {
 public:
  std::string name() const override { return "target"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    FamilyBuilder info("pgbackup_target_info", "The target's backup engine (always 1).",
                       MetricType::Gauge);
    for (const TargetStatus& t : in.targets)
      info.add(1, {{"engine", t.engine}, {"target", t.name}});
    out.push_back(info.build());
    add_per_target(
        out, in, "pgbackup_recovery_window_start_timestamp_seconds",
        "The earliest point a restore can reach (0: no good backup).", MetricType::Gauge,
        [](const TargetStatus& t) { return timestamp_or_zero(t.recovery_window.start); });
    add_per_target(out, in, "pgbackup_recovery_window_end_timestamp_seconds",
                   "The latest point a restore can reach: the newest good backup's finish, or "
                   "with a WAL archive its newest segment (0: no good backup).",
                   MetricType::Gauge,
                   [](const TargetStatus& t) { return timestamp_or_zero(t.recovery_window.end); });
  }
};

}  // namespace

std::unique_ptr<Collector> make_target_collector() { return std::make_unique<TargetCollector>(); }

}  // namespace pgbackup
