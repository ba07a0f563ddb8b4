#include "agent/engines/pg_dump/dump_restore_test.h"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <random>

#include "agent/catalog/backup_dir.h"
#include "agent/catalog/globals_file.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/engines/pg_dump/dump_crypto.h"
#include "agent/engines/pg_dump/dump_verify.h"
#include "agent/engines/pg_dump/pg_restore.h"
#include "agent/jobs/offsite.h"
#include "agent/postgres/cluster_globals.h"
#include "agent/postgres/postgres.h"
#include "agent/postgres/restore_check.h"
#include "agent/postgres/schema_fingerprint.h"
#include "agent/rules/cluster_plan.h"
#include "agent/rules/schema_diff.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {
namespace {

constexpr fs::perms kPrivateFile = fs::perms::owner_read | fs::perms::owner_write;

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
    if (auto failure = run_restore_check(*conn, check)) report.failed_checks.push_back(*failure);
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

std::size_t random_below(std::size_t n) {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine);
}

class DumpRestoreTest final : public RestoreTestRun {
 public:
  DumpRestoreTest(const Config& config, const TargetConfig& target, const JobContext& ctx)
      : config_(config),
        target_(target),
        ctx_(ctx),
        repo_(target.backup.dir, target.backup.file_prefix),
        entries_(repo_.scan()) {}

  // A killed test's database is dropped by the next test's re-creation (WITH (FORCE)).
  std::vector<fs::path> remove_leftovers() override { return {}; }

  const CatalogEntry* choose(const std::optional<fs::path>& file, SysTime now) override {
    // s3://bucket/key: tests the off-site copy itself, fetched and checked against its manifest.
    if (file && is_s3_url(file->string())) {
      fetched_.emplace(fetch_offsite_backup(target_, file->string(), target_.state_dir(), ctx_));
      return &fetched_->entry;
    }
    if (file) return &select_backup(entries_, file, repo_.dir());
    return pick_backup_to_test(entries_, *target_.restore_test, now, random_below);
  }

  std::string nothing_to_test() const override {
    return "there is no good backup younger than " +
           format_duration(target_.restore_test->max_age) +
           " (restore_test.max_age) to test (hint: take one with pgbackup-agent backup)";
  }

  void restore_and_check(const CatalogEntry& backup, RestoreTestReport& report) override {
    pgbackup::restore_and_check(config_, target_, backup, ctx_, report, may_drop_);
  }

  void clean_up(RestoreTestReport& report) noexcept override {
    if (!may_drop_) return;
    const RestoreTestConfig& rt = *target_.restore_test;
    drop_database(rt.database, rt.database.dbname);
    drop_roles(rt.database, report.missing_roles);
  }

  void mark(const CatalogEntry& backup, const RestoreTestReport& report) override {
    mark_manifest(backup, report);
  }

 private:
  const Config& config_;
  const TargetConfig& target_;
  const JobContext& ctx_;
  DumpCatalog repo_;
  std::vector<CatalogEntry> entries_;
  std::optional<FetchedBackup> fetched_;
  bool may_drop_ = false;
};

}  // namespace

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

std::unique_ptr<RestoreTestRun> dump_restore_test(const Config& config, const TargetConfig& target,
                                                  const JobContext& ctx) {
  return std::make_unique<DumpRestoreTest>(config, target, ctx);
}

}  // namespace pgbackup
