#pragma once

#include <iosfwd>

#include "agent/config/config.h"
#include "agent/engines/restorer.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

// Restores production, the seed's procedure automated, for either engine: the engine's
// restorer checks what is restored (engines/restorer.h), the plan is shown, `YES` is read from
// `confirmation` (unless --yes), a safety backup is taken through the engine's backup verb,
// stop_command, the engine puts the data back (pg_dump: pg_restore and row counts against the
// manifest; pgBackRest: `pgbackrest restore --delta` to the recovery target), start_command,
// the engine's checks of the started server. Every step goes to the audit log; a failure says
// where things stand and how to get back. Returns the exit code; refusals before anything
// changed throw OperationError / ConfigError as usual. ctx.cancel (SIGINT/SIGTERM) stops the
// running step's child and ends in the failure path.
int restore_production(const Config& config, const TargetConfig& target,
                       const RestoreRequest& request, std::istream& confirmation,
                       const JobContext& ctx);

}  // namespace pgbackup
