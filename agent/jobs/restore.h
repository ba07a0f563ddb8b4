#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/jobs/backup.h"

namespace pgbackup {

// What `pgbackup-agent restore` was asked to do (DESIGN §2, §6).
struct RestoreRequest {
  std::optional<std::string> file;  // FILE; empty with --latest
  std::vector<std::string> tables;  // --table: a partial restore of these ("name", "schema.name")
  std::string dbname;               // --dbname: another database on the same server
  int jobs = 2;                     // pg_restore --jobs
  bool assume_yes = false;          // --yes: no question asked
  bool safety_backup = true;        // false with --no-safety-backup
  // Create the roles the backup needs (its companion file) that the server lacks; false with
  // --no-roles, when a missing one is a refusal.
  bool create_roles = true;
};

// The backup a restore reads: the entry of `target`'s repository named by FILE, or the newest
// good one. Kept apart from the restore itself so other sources (S3) can plug in here.
CatalogEntry resolve_backup(const TargetConfig& target, const RestoreRequest& request);

// Restores production from a backup, the seed's procedure automated: verify the backup, show
// the plan, read `YES` from `confirmation` (unless --yes), safety backup, stop_command,
// timescaledb_pre_restore(), pg_restore --clean --if-exists, timescaledb_post_restore(), row
// counts against the manifest, start_command. Every step goes to the audit log. Returns the exit
// code; refusals before anything changed throw OperationError / ConfigError as usual.
// ctx.cancel (SIGINT/SIGTERM) stops the running step's child and ends in the failure path.
int restore_production(const Config& config, const TargetConfig& target,
                       const RestoreRequest& request, std::istream& confirmation,
                       const JobContext& ctx);

}  // namespace pgbackup
