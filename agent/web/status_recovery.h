#pragma once

// The status page's recovery-point facts of one target (DESIGN §11): its engine, the recovery
// window, the RPO exposure against its target with the WAL archive's state (targets with an
// archive), the newest good backup of each type and the newest verify run. Shown as they are
// in TargetStatus, whatever the engine.

#include <nlohmann/json.hpp>

#include <string>

#include "agent/daemon/target_status.h"

namespace pgbackup {

// Rows (<tr>...) for the target's facts table.
std::string recovery_rows(const TargetStatus& t, SysTime now);

// The same facts for /api/v1/status: "engine", "recovery_window", "backups_by_type", "verify"
// and, with an archive, "archive".
nlohmann::json recovery_json(const TargetStatus& t);

}  // namespace pgbackup
