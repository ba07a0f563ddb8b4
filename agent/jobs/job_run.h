#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/catalog/job_state.h"
#include "agent/config/config.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

// One run of one job of one target, from start to outcome: the only place that records an
// attempt in state.json and the job's audit line. Built when the job starts; exactly one of
// succeed(), fail(), interrupted() or not_attempted() settles it. A run left unsettled (an
// exception nobody caught as a failure) is recorded as a failure when it is destroyed, so no
// job can end without leaving its trace. Recording is best effort after the fact: a state file
// or audit log that cannot be written (disk full) is logged and never hides the job's outcome.
class JobRun {
 public:
  // `job`: the state.json key ("backup", "restore_test", "offsite"), or "" for a job recorded
  // only in the audit log. `operation`: the audit line's operation ("backup", "safety backup",
  // "restore_test"), or "" for a job with no audit line of its own.
  JobRun(const Config& config, const TargetConfig& target, std::string job, std::string operation,
         const JobContext& ctx);
  ~JobRun();
  JobRun(const JobRun&) = delete;
  JobRun& operator=(const JobRun&) = delete;

  SysTime started_at() const { return attempt_.started_at; }

  // `file`: what the run produced or used (state.json); `details`: the audit line's fields.
  void succeed(const std::string& file, nlohmann::json details = nlohmann::json::object());
  void fail(const std::string& error, const std::string& file = "",
            nlohmann::json details = nlohmann::json::object());
  // Stopped from outside (the agent is stopping): an "interrupted" audit line, no attempt in
  // state.json, so the job stays due.
  void interrupted(const std::string& error, nlohmann::json details = nlohmann::json::object());
  // Nothing to do: nothing is recorded.
  void not_attempted() { settled_ = true; }
  // A verify run's count of invalid files, recorded with its outcome.
  void set_invalid_files(std::uint64_t count) { attempt_.invalid_files = count; }

 private:
  void settle(const std::string& outcome, nlohmann::json details, bool record_state);

  const TargetConfig& target_;
  const std::filesystem::path state_dir_;
  const std::filesystem::path audit_log_;
  const std::string job_;
  const std::string operation_;
  const JobContext& ctx_;
  JobAttempt attempt_;
  bool settled_ = false;
};

}  // namespace pgbackup
