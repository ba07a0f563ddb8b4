#include <spdlog/spdlog.h>

#include "agent/daemon/threads.h"
#include "agent/jobs/backup.h"
#include "agent/jobs/job_context.h"
#include "agent/jobs/restore_drill.h"
#include "agent/jobs/verify.h"
#include "agent/schedule/scheduler.h"

namespace pgbackup {
namespace {

// The scheduler loop's view of one target in the running daemon.
class DaemonTargetJobs final : public TargetJobs {
 public:
  DaemonTargetJobs(DaemonState& state, std::string name)
      : state_(state), name_(std::move(name)), ctx_{state.clock(), &state.stop_flag()} {}

  std::optional<TargetConfig> target() override { return state_.target(name_); }

  std::optional<SysTime> last_good_backup(BackupType slot, SysTime not_after) override {
    return state_.cached_time(name_, [&](const TargetStatus& s) -> std::optional<SysTime> {
      const std::vector<const CatalogEntry*> good = s.good();
      for (auto it = good.rbegin(); it != good.rend(); ++it) {
        if ((*it)->started_at <= not_after && serves((*it)->type, slot)) return (*it)->started_at;
      }
      return std::nullopt;
    });
  }

  std::optional<SysTime> last_restore_test() override {
    return state_.cached_time(name_, [](const TargetStatus& s) {
      return s.state.restore_test ? std::optional<SysTime>(s.state.restore_test->started_at)
                                  : std::nullopt;
    });
  }

  std::optional<SysTime> last_verify() override {
    return state_.cached_time(name_, [](const TargetStatus& s) {
      return s.state.verify ? std::optional<SysTime>(s.state.verify->started_at) : std::nullopt;
    });
  }

  bool backup(const TargetConfig& t, BackupType type) override {
    state_.update_runtime(name_, [](TargetRuntime& r) {
      r.backup_in_progress = true;
      r.backups_total += 1;
    });
    const char* type_name = backup_type_name(type);
    spdlog::info("{} backup of {} starting", type_name, name_);
    bool ok = false;
    double deleted = 0;
    double refused = 0;
    try {
      BackupOptions options;
      options.type = type;
      const BackupResult r = take_backup(*state_.config(), t, ctx_, options);
      spdlog::info("{} backup of {} done: {} ({} bytes, tier {})", type_name, name_,
                   r.manifest.file, r.manifest.size_bytes, tier_name(r.manifest.tier));
      if (r.manifest.size_anomaly)
        spdlog::warn("{}: size anomaly: {}", name_, r.manifest.size_anomaly_reason);
      state_.request_upload(name_);
      deleted = static_cast<double>(r.prune.deleted.size());
      refused = r.prune.refused ? 1 : 0;
      ok = true;
    } catch (const std::exception& e) {
      if (state_.stopping()) {
        spdlog::info("{} backup of {} stopped for shutdown; its partial file was removed",
                     type_name, name_);
      } else {
        spdlog::error("{} backup of {} failed: {}", type_name, name_, e.what());
      }
    }
    state_.update_runtime(name_, [&](TargetRuntime& r) {
      r.backup_in_progress = false;
      r.retention_deleted_total += deleted;
      r.retention_refusals_total += refused;
      if (!ok) r.backup_failures_total += 1;
    });
    // The scrape must show the result now, and the next plan must see it.
    state_.refresh();
    return ok;
  }

  bool restore_test(const TargetConfig& t) override {
    state_.update_runtime(name_, [](TargetRuntime& r) {
      r.restore_test_in_progress = true;
      r.restore_tests_total += 1;
    });
    spdlog::info("restore test of {} starting", name_);
    bool ran = false;
    bool passed = false;
    try {
      const RestoreTestReport r = run_restore_test(*state_.config(), t, std::nullopt, ctx_);
      ran = true;
      passed = r.success;
      if (passed) {
        spdlog::info("restore test of {} passed: {} in {:.1f}s (RTO target {:.0f}s)", name_,
                     r.backup, r.duration_seconds, r.rto_target_seconds);
      } else {
        spdlog::error("restore test of {} failed: {}", name_, summarize(r));
      }
    } catch (const std::exception& e) {
      // Not even recorded (another agent holds the directory, or a stop): state.json keeps the
      // old attempt, so it is still due; the loop backs off as for backups.
      spdlog::error("restore test of {} could not run: {}", name_, e.what());
    }
    state_.update_runtime(name_, [&](TargetRuntime& r) {
      r.restore_test_in_progress = false;
      if (!passed) r.restore_test_failures_total += 1;
    });
    state_.refresh();
    return ran;
  }

  bool verify(const TargetConfig& t) override {
    spdlog::info("verify of {} starting", name_);
    bool ran = false;
    try {
      const VerifyJobResult r = run_verify_job(*state_.config(), t, std::nullopt, ctx_);
      ran = true;
      if (r.report.ok()) {
        spdlog::info("verify of {} passed: {}", name_, r.backup);
      } else {
        spdlog::error("verify of {} failed: {}: {}", name_, r.backup, r.report.first_problem());
      }
    } catch (const std::exception& e) {
      // Not recorded (a backup or another job holds the directory): still due, backing off.
      spdlog::error("verify of {} could not run: {}", name_, e.what());
    }
    state_.refresh();
    return ran;
  }

  void publish(const TargetPlan& plan) override {
    state_.update_runtime(name_, [&](TargetRuntime& r) {
      r.next_backup = plan.backup_due;
      r.next_restore_test = plan.restore_test_due;
    });
  }

  bool wait_until(SysTime deadline) override { return state_.sleep_until(deadline); }
  bool stopping() override { return state_.stopping(); }

 private:
  DaemonState& state_;
  const std::string name_;
  const JobContext ctx_;
};

}  // namespace

void run_worker(DaemonState& state, const std::string& target) {
  DaemonTargetJobs jobs(state, target);
  run_target_loop(jobs, state.clock());
}

}  // namespace pgbackup
