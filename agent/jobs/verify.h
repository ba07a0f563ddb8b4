#pragma once

#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/engines/engine.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

struct VerifyJobResult {
  std::string backup;  // the name of the backup verified
  std::filesystem::path path;
  VerifyReport report;
};

// The verify job (`verify`, and the daemon's `verify.schedule`): proves one backup of `target`
// again through its engine -- `file` as the command line names it (a path, or a name as `list`
// shows it), else the newest good one -- under the directory lock, so never while a backup of
// the target runs, and records the attempt in state.json ("verify", with
// the files found invalid) and the audit log. Throws OperationError when there is no such
// backup or another process holds the directory lock (nothing recorded), or the engine cannot
// run its checks (recorded as a failure).
// `deep`: an encrypted backup is also decrypted as a stream and its plaintext checked
// (verify --deep).
VerifyJobResult run_verify_job(const Config& config, const TargetConfig& target,
                               const std::optional<std::string>& file, const JobContext& ctx,
                               bool deep = false);

}  // namespace pgbackup
