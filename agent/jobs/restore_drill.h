#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/timeutil.h"
#include "agent/engines/catalog_entry.h"
#include "agent/jobs/job_context.h"
#include "agent/jobs/restore_test_report.h"

namespace pgbackup {

nlohmann::json report_to_json(const RestoreTestReport& report);
// Throws std::exception on a malformed line.
RestoreTestReport report_from_json(const nlohmann::json& j);

// <state_dir>/restore-tests.jsonl
std::filesystem::path restore_test_log(const std::filesystem::path& state_dir);
// The newest `limit` reports, newest first. Unreadable lines are skipped (a torn last line
// after a crash must not hide the history).
std::vector<RestoreTestReport> read_restore_test_history(const std::filesystem::path& state_dir,
                                                         std::size_t limit);

// Runs one restore test of `target` (of `file` when given, else a picked backup) through its
// engine's part (engines/restore_test_run.h: pg_dump's scratch database, pgBackRest's scratch
// cluster), then records it: restore-tests.jsonl, the backup's mark (pg_dump's manifest),
// state.json and the audit log. Failures of the test are in the report; throws ConfigError when the
// target has no restore_test section, OperationError when another agent holds the directory or when
// ctx.cancel stopped the test (then nothing but an "interrupted" audit line is recorded).
RestoreTestReport run_restore_test(const Config& config, const TargetConfig& target,
                                   const std::optional<std::filesystem::path>& file,
                                   const JobContext& ctx);

// The readable summary `restore-test` prints (several lines).
std::string summarize(const RestoreTestReport& report);

}  // namespace pgbackup
