#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/engines/engine.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

struct VerifyJobResult {
  std::string backup;  // the name of the backup verified ("" when there was none)
  VerifyReport report;
  bool ok() const { return !backup.empty() && report.ok(); }
};

// One verify run of `target` (`verify.schedule`, DESIGN §11): proves its newest good backup
// again through its engine (BackupEngine::verify), under the directory lock so it never runs
// while a backup of the target does. Records the run in state.json ("verify") and the audit log
// either way; a target with no good backup is a failed run. Throws OperationError, recording
// nothing, when it cannot start (another process holds the directory lock).
VerifyJobResult run_verify_job(const Config& config, const TargetConfig& target,
                               const JobContext& ctx);

}  // namespace pgbackup
