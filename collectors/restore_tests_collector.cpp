// pgbackup_restore_test_*: the last restore test (state.json, restore-tests.jsonl, manifest
// marks), its targets, and the tests this process ran.
#include "agent/catalog/job_state.h"
#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

class RestoreTestsCollector : public Collector {
 public:
  std::string name() const override { return "restore_tests"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_target(out, in, "pgbackup_restore_test_last_success_timestamp_seconds",
                   "Finish time of the last successful restore test (0: none).", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const auto at = t.last_restore_test_success();
                     return at ? to_unix_seconds(*at) : 0.0;
                   });
    add_per_target(out, in, "pgbackup_restore_test_last_attempt_timestamp_seconds",
                   "Finish time of the last restore test (0: none).", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const JobAttempt* a = last_attempt(t);
                     return a ? to_unix_seconds(a->finished_at) : 0;
                   });
    add_per_target(out, in, "pgbackup_restore_test_last_run_success",
                   "1 if the last restore test passed.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const JobAttempt* a = last_attempt(t);
                     return a && a->success ? 1.0 : 0.0;
                   });
    add_per_target(out, in, "pgbackup_restore_test_last_duration_seconds",
                   "Duration of the last restore test: the measured recovery time.",
                   MetricType::Gauge,
                   [](const TargetStatus& t) { return t.last_restore_test_seconds(); });
    add_per_target(out, in, "pgbackup_restore_test_rto_target_seconds",
                   "The configured recovery time objective (0: no restore tests).",
                   MetricType::Gauge,
                   [](const TargetStatus& t) { return t.restore_test_rto_target_seconds; });
    add_per_target(out, in, "pgbackup_restore_test_schedule_interval_seconds",
                   "Expected interval between restore tests (0: not scheduled).", MetricType::Gauge,
                   [](const TargetStatus& t) { return t.restore_test_schedule_interval_seconds; });
    add_per_target(out, in, "pgbackup_restore_test_last_mismatched_tables",
                   "Tables whose restored row count differed from the manifest.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const RestoreTestReport* r = t.last_restore_test();
                     return r ? static_cast<double>(r->mismatched_tables.size()) : 0.0;
                   });
    add_per_target(out, in, "pgbackup_restore_test_last_failed_checks",
                   "Check queries that failed in the last restore test.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     const RestoreTestReport* r = t.last_restore_test();
                     return r ? static_cast<double>(r->failed_checks.size()) : 0.0;
                   });
    add_per_target(out, in, "pgbackup_restore_tests_total", "Restore tests run by this process.",
                   MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.restore_tests_total; });
    add_per_target(out, in, "pgbackup_restore_test_failures_total",
                   "Failed restore tests run by this process.", MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.restore_test_failures_total; });
  }

 private:
  // state.json holds the last attempt, whoever ran it (the daemon or restore-test by hand).
  static const JobAttempt* last_attempt(const TargetStatus& t) {
    return t.state.restore_test ? &*t.state.restore_test : nullptr;
  }
};

}  // namespace

std::unique_ptr<Collector> make_restore_tests_collector() {
  return std::make_unique<RestoreTestsCollector>();
}

}  // namespace pgbackup
