// pgbackup_offsite_*: off-site copies. Until uploads exist (the S3 issue) every target reports
// "never run": the last attempt from state.json, zero counters, and nothing pending.
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class OffsiteCollector : public Collector {
 public:
  std::string name() const override { return "offsite"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_target(out, in, "pgbackup_offsite_last_success_timestamp_seconds",
                   "Finish time of the last successful off-site upload (0: none).",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     const auto& a = t.state.offsite;
                     return a && a->success ? to_unix_seconds(a->finished_at) : 0;
                   });
    add_per_target(out, in, "pgbackup_offsite_last_run_success",
                   "1 if the last off-site upload succeeded.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     return t.state.offsite && t.state.offsite->success ? 1.0 : 0.0;
                   });
    add_per_target(out, in, "pgbackup_offsite_pending_backups",
                   "Backups that should be off-site and are not.", MetricType::Gauge,
                   [](const TargetStatus&) { return 0.0; });
    add_per_target(out, in, "pgbackup_offsite_uploads_total", "Off-site uploads by this process.",
                   MetricType::Counter, [](const TargetStatus&) { return 0.0; });
    add_per_target(out, in, "pgbackup_offsite_upload_failures_total",
                   "Failed off-site uploads by this process.", MetricType::Counter,
                   [](const TargetStatus&) { return 0.0; });
    add_per_target(out, in, "pgbackup_offsite_uploaded_bytes_total",
                   "Bytes uploaded off-site by this process.", MetricType::Counter,
                   [](const TargetStatus&) { return 0.0; });
  }
};

}  // namespace

std::unique_ptr<Collector> make_offsite_collector() { return std::make_unique<OffsiteCollector>(); }

}  // namespace pgbackup
