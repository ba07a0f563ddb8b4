#pragma once

#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/engines/engine.h"
#include "agent/engines/pg_dump/dump_retention.h"
#include "agent/rules/retention.h"

namespace pgbackup {

class S3Client;
struct JobContext;

// Retention (DESIGN §5): of the target's backups through its engine, and of the off-site
// bucket (pg_dump backups, engines/pg_dump/dump_retention.h).

// Why retention must wait now, from state.json and the newest good of `backups` (the target's
// catalogue), or "": see retention_blocked_reason in rules/retention.h. Off-site retention
// obeys it too.
std::string retention_blocked_reason(const TargetConfig& target,
                                     const std::vector<CatalogEntry>& backups);

struct PruneResult {
  std::vector<std::filesystem::path> deleted;  // dumps (their manifests went first)
  // Per deleted backup, the backups that went with it (a set's diff and incr), by name.
  std::vector<std::vector<std::string>> deleted_with;
  std::vector<std::filesystem::path> kept;
  std::string skipped_reason;  // non-empty when retention did not run
  bool refused = false;        // ... because the clock guard refused (logged and audited)
};

// Retention of the target's own backups, over its engine's catalogue, by a caller that holds
// the directory lock: the engine offers the candidates with their tiers, rules/retention
// chooses, the engine deletes them. Refuses (skipped_reason) when retention_blocked_reason or
// the clock guard says so; deletions and a refusal by the clock guard go to the audit log.
PruneResult prune_local(const Config& config, const TargetConfig& target, BackupEngine& engine,
                        SysTime now, RetentionRun run, bool dry_run);

struct OffsitePruneResult {
  std::vector<std::string> deleted;  // dump keys (their manifests went first)
  std::vector<std::string> kept;
  std::string skipped_reason;  // why the clock guard refused (logged and audited), or empty
};

// Off-site retention over the client's bucket (paginated listing of offsite.s3.prefix), never
// the newest min_keep complete copies. A backup's tier comes from its local manifest, else from
// its manifest in the bucket. Deletions are logged and go to the audit log `audit`.
OffsitePruneResult prune_offsite(S3Client& client, const TargetConfig& target,
                                 const std::filesystem::path& audit, SysTime now, RetentionRun run,
                                 bool dry_run);

struct PruneReport {
  PruneResult local;
  std::optional<OffsitePruneResult> offsite;  // with offsite.s3, when local retention ran
  std::exception_ptr offsite_error;           // why off-site retention failed, if it did
};

// The prune job (`prune`): local retention under the directory lock, then, when it was not
// refused and the target has offsite.s3, off-site retention. With dry_run nothing is deleted.
// Throws when local retention fails; an off-site failure is reported in offsite_error, so the
// local result is still shown.
PruneReport run_prune_job(const Config& config, const TargetConfig& target, const JobContext& ctx,
                          bool dry_run);

}  // namespace pgbackup
