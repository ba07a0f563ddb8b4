#pragma once

// Parts of the status page (status_page.cpp) in files of their own: the newest backup's tables,
// the restore tests, the encryption keys' coverage. Each renders HTML for one target.

#include <nlohmann/json.hpp>

#include <string>

#include "agent/daemon/target_status.h"
#include "agent/rules/key_coverage.h"
#include "agent/web/svg_chart.h"

namespace pgbackup {

// The id attribute of a target's parts: "size-shop".
inline std::string part_id(const char* part, const TargetStatus& t) {
  return std::string(part) + "-" + t.name;
}

// status_tables.cpp
// The newest good backup's tables with their rows and the change since the good backup before
// it; tables gone since then are listed too.
std::string tables_table(const TargetStatus& t);
// The newest good backup's TimescaleDB hypertables and continuous aggregates; "" without them.
std::string hypertables_table(const TargetStatus& t);
// The schema changes of the newest good backup against the good backup before it.
std::string schema_changes_section(const TargetStatus& t);

// status_restore_tests.cpp
// The restore-test history, newest first: when, which backup, the result, the measured RTO
// against its target, and what went wrong.
std::string restore_test_history(const TargetStatus& t);
// Measured recovery times against the RTO target; failed or too slow tests flagged.
Chart restore_chart(const TargetStatus& t);

// status_keys.cpp
// The facts-table row on whether the identity file opens every age-encrypted backup (rules/
// key_coverage.h), checked without decrypting; "" when there is none to check.
std::string encryption_keys_row(const KeyCoverage& c);
// The same for /api/v1/status: {"state", "encrypted_backups", "unopenable", "error"}.
nlohmann::json key_coverage_json(const KeyCoverage& c);

}  // namespace pgbackup
