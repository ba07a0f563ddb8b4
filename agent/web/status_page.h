#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "agent/daemon/target_status.h"

namespace pgbackup {

// The `/` page: a self-contained HTML overview per target (newest backups, ages, sizes over
// time as an inline SVG chart with the baseline, anomalies and shrunk tables highlighted, free
// space, next run, the restore-test history with measured RTO against its target).
std::string render_status_page(const std::vector<TargetStatus>& targets, SysTime now);

// `/api/v1/status`: the same facts as JSON.
nlohmann::json status_json(const std::vector<TargetStatus>& targets, SysTime now);

}  // namespace pgbackup
