#include "agent/jobs/restore_drill.h"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <random>
#include <sstream>

#include "agent/catalog/backup_dir.h"
#include "agent/catalog/directory_lock.h"
#include "agent/catalog/globals_file.h"
#include "agent/catalog/job_state.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/engines/pg_dump/dump_crypto.h"
#include "agent/engines/pg_dump/dump_verify.h"
#include "agent/engines/pg_dump/pg_restore.h"
#include "agent/jobs/job_run.h"
#include "agent/jobs/offsite.h"
#include "agent/postgres/cluster_globals.h"
#include "agent/postgres/postgres.h"
#include "agent/postgres/schema_fingerprint.h"
#include "agent/rules/cluster_plan.h"
#include "agent/rules/schema_diff.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {
namespace {

constexpr fs::perms kPrivateFile = fs::perms::owner_read | fs::perms::owner_write;

double seconds_between(SysTime a, SysTime b) {
  return std::chrono::duration<double>(b - a).count();
}

// The one-line reason a report failed: its error, else its first mismatch or failed check.
std::string first_problem(const RestoreTestReport& r) {
  if (!r.error.empty()) return r.error;
  if (!r.mismatched_tables.empty()) {
    return std::to_string(r.mismatched_tables.size()) +
           " table(s) differ from the manifest, e.g. " + r.mismatched_tables.front();
  }
  if (!r.schema_differences.empty()) {
    return "the restored schema differs from the backup's: " + r.schema_differences.front();
  }
  if (!r.failed_checks.empty()) return "check failed: " + r.failed_checks.front();
  return "";
}

// Drops and re-creates the scratch database, connected to the `postgres` database of its
// server. WITH (FORCE) ends sessions a previous, killed test may have left behind.
void recreate_database(const DatabaseEndpoint& endpoint, const std::string& dbname) {
  const auto conn = endpoint.connect("postgres");
  try {
    pqxx::nontransaction tx(*conn);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(dbname) + " WITH (FORCE)");
    tx.exec("CREATE DATABASE " + tx.quote_name(dbname));
  } catch (const pqxx::failure& e) {
    throw OperationError(endpoint.explain_error("cannot re-create the restore-test database " +
                                                dbname + ": " + e.what()) +
                         " (hint: restore_test.database.user needs CREATEDB, and the database "
                         "must be one the agent may drop)");
  }
}

// The cluster's unique id (pg_control_system().system_identifier), or nothing when the server
// cannot be reached or will not say.
std::optional<std::string> cluster_identifier(const DatabaseConfig& database) {
  try {
    const auto conn = DatabaseEndpoint(database).connect();
    pqxx::nontransaction tx(*conn);
    return tx.exec1("SELECT system_identifier::text FROM pg_control_system()")[0].as<std::string>();
  } catch (const std::exception& e) {
    spdlog::debug("cannot read the system identifier of {}: {}", database.host, e.what());
    return std::nullopt;
  }
}

// The last line of defence before DROP DATABASE ... WITH (FORCE): the config check compares
// host names, but two names (a DNS alias, 127.1, a second address) can reach one cluster. When
// a configured production database has the scratch database's name, ask both servers which
// cluster they are; the same cluster means the test would drop production, so refuse.
void refuse_production_database(const Config& config, const RestoreTestConfig& rt) {
  std::optional<std::string> scratch_cluster;
  for (const TargetConfig& t : config.targets) {
    if (t.database.dbname != rt.database.dbname) continue;
    const std::optional<std::string> production_cluster = cluster_identifier(t.database);
    if (!production_cluster) continue;  // production unreachable: it cannot be dropped now
    if (!scratch_cluster) scratch_cluster = cluster_identifier(rt.database);
    if (scratch_cluster == production_cluster) {
      throw OperationError("refusing to run: the restore-test database " + rt.database.dbname +
                           " on " + rt.database.host + ":" + std::to_string(rt.database.port) +
                           " is the production database of target " + t.name +
                           " (same cluster, system "
                           "identifier " +
                           *production_cluster +
                           "), and the test drops it (hint: point "
                           "restore_test.database at a scratch database no target backs up)");
    }
  }
}

void drop_database(const DatabaseConfig& database, const std::string& dbname) {
  try {
    const auto conn = DatabaseEndpoint(database).connect("postgres");
    pqxx::nontransaction tx(*conn);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(dbname) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    // The result stands; the next test drops it first anyway.
    spdlog::warn("cannot drop the restore-test database {}: {}", dbname, e.what());
  }
}

// The roles the backup needs and the test server lacks, created as restore_test.roles says, so
// the test restores with owners and grants as a real restore would. Returns the plan (its
// database_statements run after pg_restore); nullopt when the test restores without owners
// (roles: none, or a backup without a companion file). The created roles are in the report,
// a finding, and are dropped after the test (drop_roles).
std::optional<ClusterPlan> create_test_roles(const DatabaseEndpoint& endpoint,
                                             const CatalogEntry& backup,
                                             const RestoreTestConfig& rt,
                                             const TextCipher& open_globals,
                                             RestoreTestReport& report) {
  if (!backup.manifest->globals || rt.roles == "none") return std::nullopt;
  const ClusterGlobals globals =
      read_globals_file(globals_path(backup), *backup.manifest->globals, open_globals);
  const auto conn = endpoint.connect();
  pqxx::read_transaction tx(*conn);
  const ClusterState state = read_cluster_state(tx, globals, rt.database.dbname);
  tx.commit();
  const RoleCreation mode =
      rt.roles == "as_backed_up" ? RoleCreation::as_backed_up : RoleCreation::nologin;
  ClusterPlan plan = plan_cluster(globals, state, mode, rt.database.dbname);
  if (!plan.refusal.empty()) {
    throw OperationError("the test server cannot take the backup's roles: " + plan.refusal +
                         " (or set restore_test.roles: none to restore without owners)");
  }
  run_plan_statements(
      *conn, plan.role_statements, true,
      "creating the roles " + join(plan.create_roles, ", ") + " on the test server");
  report.missing_roles = plan.create_roles;
  return plan;
}

// Drops the roles a test created, once its database is gone (they owned objects only there).
void drop_roles(const DatabaseConfig& database, const std::vector<std::string>& roles) {
  if (roles.empty()) return;
  try {
    const auto conn = DatabaseEndpoint(database).connect("postgres");
    pqxx::nontransaction tx(*conn);
    for (const std::string& role : roles) tx.exec("DROP ROLE IF EXISTS " + tx.quote_name(role));
  } catch (const std::exception& e) {
    spdlog::warn("cannot drop the roles {} the restore test created: {}", join(roles, ", "),
                 e.what());
  }
}

// Runs one check query read-only; returns why it failed, or nothing when it returned true.
std::optional<std::string> run_check(pqxx::connection& conn, const RestoreTestConfig::Check& c) {
  try {
    pqxx::read_transaction tx(conn);
    const pqxx::result r = tx.exec(c.sql);
    if (r.size() != 1 || r.columns() != 1) {
      return c.name + ": returned " + std::to_string(r.size()) + " row(s) of " +
             std::to_string(r.columns()) + " column(s), not a single true";
    }
    if (r[0][0].is_null()) return c.name + ": returned NULL";
    const std::string value = r[0][0].c_str();
    if (value == "t") return std::nullopt;
    if (value == "f") return c.name + ": returned false";
    return c.name + ": returned " + value +
           ", not a boolean (hint: write the check as a "
           "condition, e.g. SELECT count(*) > 0 FROM nodes)";
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
    return c.name + ": " + what;
  }
}

// Verify, re-create, restore, count, check: the part of the test that the RTO measures.
// Fills the report's findings; throws OperationError when a step cannot be done at all.
// `may_drop` becomes true once the scratch database is known not to be a production one.
void restore_and_check(const Config& config, const TargetConfig& target, const CatalogEntry& backup,
                       const JobContext& ctx, RestoreTestReport& report, bool& may_drop) {
  const RestoreTestConfig& rt = *target.restore_test;
  const VerifyReport verified = verify_backup(backup, ctx.progress);
  if (!verified.ok()) {
    throw OperationError("the backup failed verification: " + verified.first_problem());
  }
  const Manifest& manifest = *backup.manifest;
  const DatabaseEndpoint endpoint(rt.database);
  refuse_production_database(config, rt);
  // An encrypted dump is decrypted (into a file pg_restore -j can seek) before anything changes.
  const TextCipher open_globals = globals_opener(target, manifest);
  std::optional<DecryptedDump> decrypted;
  const fs::path dump = readable_dump(target, backup, decrypted, ctx.cancel);
  may_drop = true;
  recreate_database(endpoint, rt.database.dbname);
  const std::optional<ClusterPlan> roles =
      create_test_roles(endpoint, backup, rt, open_globals, report);
  RestoreOptions options;
  options.jobs = rt.jobs;
  options.no_owner = !roles;
  options.no_tablespaces = !roles || !roles->missing_tablespaces.empty();
  options.timescaledb_version = timescaledb_version(manifest);
  options.timeout = target.backup.timeout;
  options.cancel = ctx.cancel;
  options.progress = ctx.progress;
  run_pg_restore(endpoint, rt.database.dbname, dump, options);

  const auto conn = endpoint.connect();
  if (roles) {
    run_plan_statements(*conn, roles->database_statements, true,
                        "applying the roles' settings in the test database");
  }
  if (manifest.row_counts_exact) {
    std::vector<TableRows> expected = manifest.tables;
    expected.insert(expected.end(), manifest.continuous_aggregates.begin(),
                    manifest.continuous_aggregates.end());
    for (const TableMismatch& m : compare_row_counts(*conn, expected)) {
      report.mismatched_tables.push_back(describe(m));
    }
  }
  // The shape too: a restore that silently lost an index or a constraint is not a good one.
  if (manifest.schema) {
    pqxx::read_transaction tx(*conn);
    for (const SchemaChange& c : diff_schemas(*manifest.schema, read_schema_fingerprint(tx))) {
      report.schema_differences.push_back(describe_restore_difference(c));
    }
  }
  for (const RestoreTestConfig::Check& check : rt.checks) {
    if (auto failure = run_check(*conn, check)) report.failed_checks.push_back(*failure);
  }
}

// Marks the tested backup's manifest (DESIGN §7); the caller holds the directory lock.
void mark_manifest(const CatalogEntry& backup, const RestoreTestReport& report) {
  const fs::path path = manifest_path(backup);
  Manifest m = manifest_from_json(
      nlohmann::json::parse(PosixStorage(path.parent_path()).read(path.filename().string())));
  m.restore_test =
      RestoreTestMark{format_iso8601(report.finished_at), report.success, first_problem(report)};
  write_file_atomic(manifest_path(backup), manifest_to_json(m).dump(2) + "\n", kPrivateFile);
}

void record_report(const fs::path& state_dir, const CatalogEntry* backup,
                   const RestoreTestReport& report, JobRun& run) {
  append_json_line(restore_test_log(state_dir), report_to_json(report));
  if (backup && backup->good()) mark_manifest(*backup, report);
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

std::size_t random_below(std::size_t n) {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine);
}

}  // namespace

nlohmann::json report_to_json(const RestoreTestReport& r) {
  return {{"target", r.target},
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
}

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

const CatalogEntry* pick_backup_to_test(
    const std::vector<CatalogEntry>& entries, const RestoreTestConfig& config, SysTime now,
    const std::function<std::size_t(std::size_t)>& random_index) {
  std::vector<const CatalogEntry*> candidates;
  for (const CatalogEntry& b : entries) {
    if (b.good() && now - b.manifest->finished_at <= config.max_age) candidates.push_back(&b);
  }
  if (candidates.empty()) return nullptr;
  if (config.pick == "latest") return candidates.back();
  return candidates[random_index(candidates.size())];
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
  const DumpCatalog repo(target.backup.dir, target.backup.file_prefix);
  prepare_backup_dir(target.backup.dir);
  const DirectoryLock lock(target.state_dir());
  const std::vector<CatalogEntry> entries = repo.scan();

  RestoreTestReport report;
  report.target = target.name;
  report.rto_target_seconds = static_cast<double>(rt.rto_target.count());
  JobRun run(config, target, "restore_test", "restore_test", ctx);
  report.started_at = run.started_at();
  // s3://bucket/key: tests the off-site copy itself, fetched and checked against its manifest.
  std::optional<FetchedBackup> fetched;
  const CatalogEntry* backup = nullptr;
  try {
    if (file && is_s3_url(file->string())) {
      fetched.emplace(fetch_offsite_backup(target, file->string(), target.state_dir(), ctx));
    }
    backup = fetched ? &fetched->entry
             : file  ? &select_backup(entries, file, repo.dir())
                     : pick_backup_to_test(entries, rt, report.started_at, random_below);
  } catch (...) {
    run.not_attempted();  // the file asked for is not there: a usage error, not a test result
    throw;
  }
  bool may_drop = false;
  try {
    if (!backup) {
      throw OperationError("there is no good backup younger than " + format_duration(rt.max_age) +
                           " (restore_test.max_age) to test (hint: take one with "
                           "pgbackup-agent backup)");
    }
    report.backup = backup->dump.filename().string();
    restore_and_check(config, target, *backup, ctx, report, may_drop);
  } catch (const std::exception& e) {
    report.error = e.what();
  }
  report.finished_at = ctx.now();
  report.duration_seconds = seconds_between(report.started_at, report.finished_at);
  report.success = report.error.empty() && report.mismatched_tables.empty() &&
                   report.failed_checks.empty() && report.schema_differences.empty();
  if (may_drop) {
    drop_database(rt.database, rt.database.dbname);
    drop_roles(rt.database, report.missing_roles);
  }
  if (!report.success && ctx.cancel && ctx.cancel->load()) {
    // Stopped from outside (the daemon is shutting down), not a verdict on the backup: record
    // no failed test and mark no manifest, so the test stays due and the backup stays good.
    // (A test that passed before the stop is recorded as usual.)
    run.interrupted(first_problem(report), {{"file", report.backup}});
    throw OperationError("the restore test of " + target.name +
                         " was interrupted (the agent is stopping); it was not recorded");
  }
  record_report(target.state_dir(), backup, report, run);
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
