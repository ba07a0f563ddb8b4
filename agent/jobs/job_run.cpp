#include "agent/jobs/job_run.h"

#include <spdlog/spdlog.h>

#include "agent/catalog/audit_log.h"

namespace pgbackup {

JobRun::JobRun(const Config& config, const TargetConfig& target, std::string job,
               std::string operation, const JobContext& ctx)
    : target_(target),
      state_dir_(target.state_dir()),
      audit_log_(config.audit_log_for(target)),
      job_(std::move(job)),
      operation_(std::move(operation)),
      ctx_(ctx) {
  attempt_.started_at = ctx.now();
}

JobRun::~JobRun() {
  if (!settled_) fail("the " + (job_.empty() ? operation_ : job_) + " ended without an outcome");
}

void JobRun::succeed(const std::string& file, nlohmann::json details) {
  attempt_.success = true;
  attempt_.file = file;
  settle("success", std::move(details), true);
}

void JobRun::fail(const std::string& error, const std::string& file, nlohmann::json details) {
  attempt_.success = false;
  attempt_.error = error;
  attempt_.file = file;
  details["error"] = error;
  settle("failure", std::move(details), true);
}

void JobRun::interrupted(const std::string& error, nlohmann::json details) {
  details["error"] = error;
  settle("interrupted", std::move(details), false);
}

void JobRun::settle(const std::string& outcome, nlohmann::json details, bool record_state) {
  if (settled_) return;
  settled_ = true;
  attempt_.finished_at = ctx_.now();
  try {
    if (record_state && !job_.empty()) record_attempt(state_dir_, job_, attempt_);
    if (!operation_.empty()) {
      nlohmann::json entry = {
          {"target", target_.name}, {"operation", operation_}, {"outcome", outcome}};
      entry.update(details);
      append_audit(audit_log_, std::move(entry), ctx_.now());
    }
  } catch (const std::exception& e) {
    spdlog::error("cannot record the {} of {} ({}): {}", job_.empty() ? operation_ : job_,
                  target_.name, outcome, e.what());
  }
}

}  // namespace pgbackup
