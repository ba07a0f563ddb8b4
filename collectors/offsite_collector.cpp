// pgbackup_offsite_*: off-site copies. The last attempt comes from state.json and the pending
// count from the manifests (both survive restarts); the counters are this process's uploads.
// A target without offsite.s3 reports zeros.
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
                   [](const TargetStatus& t) { return static_cast<double>(t.offsite_pending); });
    add_per_target(out, in, "pgbackup_offsite_uploads_total",
                   "Backups this process tried to copy off-site.", MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.offsite_uploads_total; });
    add_per_target(out, in, "pgbackup_offsite_upload_failures_total",
                   "Backups this process failed to copy off-site.", MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.offsite_upload_failures_total; });
    add_per_target(out, in, "pgbackup_offsite_uploaded_bytes_total",
                   "Bytes this process copied off-site.", MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.offsite_uploaded_bytes_total; });
    FamilyBuilder retries("pgbackup_offsite_retries_total",
                          "S3 requests this process tried again, by why the attempt before failed.",
                          MetricType::Counter);
    for (const TargetStatus& t : in.targets) {
      for (RetryReason reason : kRetryReasons) {
        const auto it = t.runtime.offsite_retries_total.find(reason);
        retries.add(it == t.runtime.offsite_retries_total.end() ? 0 : it->second,
                    {{"reason", retry_reason_name(reason)}, {"target", t.name}});
      }
    }
    out.push_back(retries.build());
  }
};

}  // namespace

std::unique_ptr<Collector> make_offsite_collector() { return std::make_unique<OffsiteCollector>(); }

}  // namespace pgbackup
