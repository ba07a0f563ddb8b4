#include <spdlog/spdlog.h>

#include "agent/daemon/threads.h"
#include "agent/jobs/job_context.h"
#include "agent/jobs/offsite.h"
#include "agent/schedule/schedule.h"

namespace pgbackup {
namespace {

// Without a new backup, the uploader still looks for pending copies (a backup taken by hand)
// and applies off-site retention this often.
constexpr auto kOffsiteInterval = std::chrono::hours(1);

void count_uploads(DaemonState& state, const std::string& name, double uploads, double failures,
                   double bytes) {
  state.update_runtime(name, [&](TargetRuntime& r) {
    r.offsite_uploads_total += uploads;
    r.offsite_upload_failures_total += failures;
    r.offsite_uploaded_bytes_total += bytes;
  });
}

}  // namespace

void run_uploader(DaemonState& state, const std::string& name) {
  const Clock& clock = state.clock();
  int failures = 0;
  SysTime next_pass = clock.now();  // at start-up: catch up on what is pending
  while (!state.stopping()) {
    const std::optional<TargetConfig> t = state.target(name);
    if (!t) return;  // removed by a reload
    if (!t->offsite_s3 || clock.now() < next_pass) {
      // A new backup is copied at once, even during a failure backoff: each is worth a try.
      const bool requested =
          state.wait_for_upload_request(name, t->offsite_s3 ? next_pass : SysTime::max());
      if (requested && t->offsite_s3) next_pass = clock.now();
      continue;
    }
    const JobContext ctx{clock, &state.stop_flag()};
    UploadObserver observer;
    observer.uploaded = [&](std::uint64_t bytes) {
      count_uploads(state, name, 1, 0, static_cast<double>(bytes));
    };
    observer.failed = [&] { count_uploads(state, name, 1, 1, 0); };
    observer.retried = [&](RetryReason reason) {
      state.update_runtime(name, [&](TargetRuntime& r) { r.offsite_retries_total[reason] += 1; });
    };
    try {
      const UploadReport r = run_offsite_job(*state.config(), *t, ctx, std::nullopt, observer);
      failures = 0;
      next_pass = clock.now() + kOffsiteInterval;
      if (!r.prune.skipped_reason.empty()) {  // only the clock guard skips it here
        state.update_runtime(name, [](TargetRuntime& rt) { rt.retention_refusals_total += 1; });
      }
      if (!r.uploaded.empty() || !r.prune.deleted.empty()) {
        spdlog::info("off-site copy of {}: {} uploaded, {} deleted by retention", name,
                     r.uploaded.size(), r.prune.deleted.size());
      }
    } catch (const std::exception& e) {
      ++failures;
      const auto delay = retry_delay(failures, kOffsiteInterval * 2);
      next_pass = clock.now() + delay;
      if (!state.stopping()) spdlog::error("{} (retry in {}s)", e.what(), delay.count());
    }
    state.refresh();
  }
}

}  // namespace pgbackup
