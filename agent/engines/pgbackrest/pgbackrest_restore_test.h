#pragma once

// The pgBackRest engine's part of a restore test (engines/restore_test_run.h, DESIGN §11):
// restore a set into a scratch cluster (scratch_cluster.h) to `latest` or a random time of the
// recovery window, start it, wait for its promotion and prove it: the source's system
// identifier, a new timeline, recovery stopped at the target, every table read in full, the
// configured checks. The RTO is split into restore, replay and checks.

#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/pgbackrest/cli.h"
#include "agent/engines/pgbackrest/info.h"
#include "agent/engines/restore_test_run.h"
#include "agent/jobs/job_context.h"

namespace pgbackup::pgbackrest {

// What the engine knows when a test starts.
struct RestoreTestInputs {
  PgBackRestSettings settings;
  std::vector<CatalogEntry> catalog;
  RecoveryWindow window;
  InfoStanza info;
};

// The name prefix of `target`'s scratch directories ("pgbackup-NAME-").
std::string scratch_prefix(const std::string& target);

std::unique_ptr<RestoreTestRun> pgbackrest_restore_test(const Config& config,
                                                        const TargetConfig& target,
                                                        RestoreTestInputs inputs,
                                                        const JobContext& ctx);

}  // namespace pgbackup::pgbackrest
