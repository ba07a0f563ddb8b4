#include "agent/jobs/restore_drill.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <sstream>

#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/text.h"
#include "agent/engines/engine.h"
#include "agent/engines/restore_test_run.h"
#include "agent/jobs/job_run.h"

namespace pgbackup {
namespace {

double seconds_between(SysTime a, SysTime b) {
  return std::chrono::duration<double>(b - a).count();
}

void record_report(const fs::path& state_dir, RestoreTestRun& engine_run,
                   const CatalogEntry* backup, const RestoreTestReport& report, JobRun& run) {
  append_json_line(restore_test_log(state_dir), report_to_json(report));
  if (backup && backup->good()) engine_run.mark(*backup, report);
  const nlohmann::json details = {{"file", report.backup},
                                  {"duration_seconds", report.duration_seconds},
                                  {"mismatched_tables", report.mismatched_tables.size()},
                                  {"failed_checks", report.failed_checks.size()},
                                  {"schema_differences", report.schema_differences.size()}};
  if (report.success) {
    run.succeed(report.backup, details);
  } else {
    run.fail(first_problem(report), report.backup, details);
  }
}

}  // namespace

nlohmann::json report_to_json(const RestoreTestReport& r) {
  nlohmann::json j = {{"target", r.target},
                      {"backup", r.backup},
                      {"started_at", format_iso8601(r.started_at)},
                      {"finished_at", format_iso8601(r.finished_at)},
                      {"duration_seconds", r.duration_seconds},
                      {"rto_target_seconds", r.rto_target_seconds},
                      {"success", r.success},
                      {"mismatched_tables", r.mismatched_tables},
                      {"failed_checks", r.failed_checks},
                      {"schema_differences", r.schema_differences},
                      {"missing_roles", r.missing_roles},
                      {"error", r.error}};
  // A physical engine's point, RTO split and table counts; absent for pg_dump.
  if (!r.recovery_target.empty()) j["recovery_target"] = r.recovery_target;
  if (r.restore_seconds) j["restore_seconds"] = *r.restore_seconds;
  if (r.replay_seconds) j["replay_seconds"] = *r.replay_seconds;
  if (r.checks_seconds) j["checks_seconds"] = *r.checks_seconds;
  if (!r.table_counts.empty()) j["table_counts"] = r.table_counts;
  if (!r.postmaster_log.empty()) j["postmaster_log"] = r.postmaster_log;
  if (!r.heartbeat.empty()) j["heartbeat"] = r.heartbeat;
  return j;
}

namespace {

std::optional<double> optional_number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return j.at(key).get<double>();
}

}  // namespace

RestoreTestReport report_from_json(const nlohmann::json& j) {
  RestoreTestReport r;
  r.target = j.at("target").get<std::string>();
  r.backup = j.at("backup").get<std::string>();
  const auto started = parse_iso8601(j.at("started_at").get<std::string>());
  const auto finished = parse_iso8601(j.at("finished_at").get<std::string>());
  if (!started || !finished) throw std::runtime_error("bad timestamp in a restore-test report");
  r.started_at = *started;
  r.finished_at = *finished;
  r.duration_seconds = j.at("duration_seconds").get<double>();
  r.rto_target_seconds = j.at("rto_target_seconds").get<double>();
  r.success = j.at("success").get<bool>();
  r.mismatched_tables = j.at("mismatched_tables").get<std::vector<std::string>>();
  r.failed_checks = j.at("failed_checks").get<std::vector<std::string>>();
  r.schema_differences = j.value("schema_differences", std::vector<std::string>{});
  r.missing_roles = j.value("missing_roles", std::vector<std::string>{});
  r.error = j.at("error").get<std::string>();
  r.recovery_target = j.value("recovery_target", std::string());
  r.restore_seconds = optional_number(j, "restore_seconds");
  r.replay_seconds = optional_number(j, "replay_seconds");
  r.checks_seconds = optional_number(j, "checks_seconds");
  r.table_counts = j.value("table_counts", std::map<std::string, std::uint64_t>{});
  r.postmaster_log = j.value("postmaster_log", std::string());
  r.heartbeat = j.value("heartbeat", std::string());
  return r;
}

fs::path restore_test_log(const fs::path& state_dir) { return state_dir / "restore-tests.jsonl"; }

std::vector<RestoreTestReport> read_restore_test_history(const fs::path& state_dir,
                                                         std::size_t limit) {
  std::error_code ec;
  const fs::path log = restore_test_log(state_dir);
  if (!fs::exists(log, ec)) return {};
  std::vector<std::string> lines;
  std::istringstream in(read_file(log));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  std::vector<RestoreTestReport> out;
  for (auto it = lines.rbegin(); it != lines.rend() && out.size() < limit; ++it) {
    try {
      out.push_back(report_from_json(nlohmann::json::parse(*it)));
    } catch (const std::exception&) {
    }
  }
  return out;
}

RestoreTestReport run_restore_test(const Config& config, const TargetConfig& target,
                                   const std::optional<fs::path>& file, const JobContext& ctx) {
  if (!target.restore_test) {
    throw ConfigError("target " + target.name +
                      " has no restore_test section (hint: add restore_test: {database: {host: "
                      "..., port: ..., user: ..., dbname: <a scratch database>, password_env: "
                      "...}} to it; see docs/restore-tests.md)");
  }
  const RestoreTestConfig& rt = *target.restore_test;
  const std::unique_ptr<BackupEngine> engine = make_engine(target);
  engine->prepare();
  const DirectoryLock lock(target.state_dir());
  const std::unique_ptr<RestoreTestRun> test = engine->restore_test(config, ctx);
  for (const fs::path& p : test->remove_leftovers()) {
    spdlog::warn("removed {}, left by a restore test that was killed", p.string());
  }

  RestoreTestReport report;
  report.target = target.name;
  report.rto_target_seconds = static_cast<double>(rt.rto_target.count());
  JobRun run(config, target, "restore_test", "restore_test", ctx);
  report.started_at = run.started_at();
  const CatalogEntry* backup = nullptr;
  try {
    backup = test->choose(file, report.started_at);
  } catch (...) {
    run.not_attempted();  // the file asked for is not there: a usage error, not a test result
    throw;
  }
  try {
    if (!backup) throw OperationError(test->nothing_to_test());
    report.backup = backup->name();
    test->restore_and_check(*backup, report);
  } catch (const std::exception& e) {
    report.error = e.what();
  }
  test->clean_up(report);
  report.finished_at = ctx.now();
  report.duration_seconds = seconds_between(report.started_at, report.finished_at);
  report.success = report.error.empty() && report.mismatched_tables.empty() &&
                   report.failed_checks.empty() && report.schema_differences.empty();
  if (!report.success && ctx.cancel && ctx.cancel->load()) {
    // Stopped from outside (the daemon is shutting down), not a verdict on the backup: record
    // no failed test and mark no manifest, so the test stays due and the backup stays good.
    // (A test that passed before the stop is recorded as usual.)
    run.interrupted(first_problem(report), {{"file", report.backup}});
    throw OperationError("the restore test of " + target.name +
                         " was interrupted (the agent is stopping); it was not recorded");
  }
  record_report(target.state_dir(), *test, backup, report, run);
  return report;
}

std::string summarize(const RestoreTestReport& r) {
  std::ostringstream out;
  char duration[64];
  std::snprintf(duration, sizeof duration, "%.1fs (RTO target %.0fs%s)", r.duration_seconds,
                r.rto_target_seconds,
                r.duration_seconds > r.rto_target_seconds ? ", EXCEEDED" : ", met");
  out << "restore test of " << r.target << ": " << (r.success ? "PASSED" : "FAILED") << "\n"
      << "  backup:   " << (r.backup.empty() ? "-" : r.backup) << "\n"
      << "  duration: " << duration << "\n";
  if (!r.recovery_target.empty()) out << "  target:   " << r.recovery_target << "\n";
  if (r.restore_seconds && r.replay_seconds && r.checks_seconds) {
    char split[128];
    std::snprintf(split, sizeof split, "restore %.1fs, replay %.1fs, checks %.1fs",
                  *r.restore_seconds, *r.replay_seconds, *r.checks_seconds);
    out << "  rto:      " << split << "\n";
  }
  if (!r.table_counts.empty()) {
    out << "  tables:   " << r.table_counts.size() << " read in full\n";
  }
  if (!r.heartbeat.empty()) out << "  heartbeat: " << r.heartbeat << " (newest restored)\n";
  if (!r.postmaster_log.empty()) out << "  log:      " << r.postmaster_log << "\n";
  if (!r.error.empty()) out << "  error:    " << r.error << "\n";
  for (const std::string& m : r.mismatched_tables) out << "  mismatch: " << m << "\n";
  for (const std::string& d : r.schema_differences) out << "  schema:   " << d << "\n";
  for (const std::string& c : r.failed_checks) out << "  check failed: " << c << "\n";
  if (!r.missing_roles.empty()) {
    out << "  roles:    " << join(r.missing_roles, ", ")
        << " missing on the test server; created for the test and dropped after it\n";
  }
  return out.str();
}

}  // namespace pgbackup
