// The pg_dump engine's part of a production restore (engines/pg_dump/dump_restore.h): the
// backup, the plan's lines about it, pg_restore and the row counts, and what a failure left.
#include "agent/engines/pg_dump/dump_restore.h"

#include <cstdio>

#include "agent/catalog/globals_file.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/engines/pg_dump/dump_verify.h"
#include "agent/engines/pg_dump/pg_restore.h"
#include "agent/engines/pg_dump/toc.h"

namespace pgbackup {
namespace {

// The manifest's tables that --table names ("name" or "schema.name"); all of them when none is
// named. An unknown or ambiguous name is a usage error, raised before anything happens.
std::vector<TableRows> select_tables(const std::vector<TableRows>& in_backup,
                                     const std::vector<std::string>& wanted) {
  if (wanted.empty()) return in_backup;
  std::vector<TableRows> out;
  for (const std::string& name : wanted) {
    std::vector<const TableRows*> matches;
    for (const TableRows& t : in_backup) {
      if (name == qualified_name(t) || name == t.name) matches.push_back(&t);
    }
    if (matches.size() == 1) {
      out.push_back(*matches.front());
      continue;
    }
    std::vector<std::string> known;
    for (const TableRows& t : in_backup) known.push_back(qualified_name(t));
    throw ConfigError(
        matches.empty() ? "--table " + name +
                              ": the backup has no such table (it has: " + join(known, ", ") + ")"
                        : "--table " + name + " is in several schemas; name it as schema." + name);
  }
  return out;
}

// Removes a file when it goes out of scope.
struct TemporaryFile {
  fs::path path;
  ~TemporaryFile() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

DatabaseConfig database_of(const TargetConfig& target, const RestoreRequest& request) {
  DatabaseConfig db = target.database;
  if (!request.dbname.empty()) db.dbname = request.dbname;
  return db;
}

}  // namespace

std::string qualified_name(const TableRows& t) { return t.schema + "." + t.name; }

CatalogEntry resolve_backup(const TargetConfig& target, const RestoreRequest& request) {
  const DumpCatalog repo(target.backup.dir, target.backup.file_prefix);
  const std::vector<CatalogEntry> entries = repo.scan();
  const std::optional<fs::path> file =
      request.file ? std::optional<fs::path>(*request.file) : std::nullopt;
  return select_backup(entries, file, target.backup.dir);
}

PgDumpRestorer::PgDumpRestorer(const TargetConfig& target, const RestoreRequest& request,
                               RestoreJournal& journal)
    : target_(target),
      request_(request),
      journal_(journal),
      endpoint_(database_of(target, request)) {
  if (request.recovery_target.kind != RecoveryTarget::Kind::latest || request.pg_path) {
    throw ConfigError("--time, --lsn and --pg-path are for pgbackrest targets; target " +
                      target.name + " uses pg_dump: restore FILE or --latest");
  }
  journal_.database = endpoint_.describe();
}

void PgDumpRestorer::check() {
  if (request_.file && is_s3_url(*request_.file)) {
    fetched_.emplace(
        fetch_offsite_backup(target_, *request_.file, target_.state_dir(), journal_.ctx()));
  }
  backup_ = fetched_ ? fetched_->entry : resolve_backup(target_, request_);
  verify();
  probe_database();
}

void PgDumpRestorer::verify() {
  const VerifyReport report = verify_backup(backup_, journal_.ctx().progress);
  if (!report.ok()) {
    journal_.audit("verify", "failure",
                   {{"file", backup_.dump.filename().string()}, {"error", report.first_problem()}});
    throw OperationError(backup_.dump.string() + " cannot be restored: " + report.first_problem() +
                         "; nothing was changed (hint: pgbackup-agent list shows the good "
                         "backups; restore another one)");
  }
  tables_ = select_tables(backup_.manifest->tables, request_.tables);
  timescaledb_ = timescaledb_version(*backup_.manifest);
  // An encrypted backup's identity is checked before anything is changed; the dump itself is
  // decrypted after the safety backup (see run), whose housekeeping clears .partial files.
  if (backup_.manifest->encryption) identity_for(target_, *backup_.manifest);
  if (backup_.manifest->globals) {
    globals_ = read_globals_file(globals_path(backup_), *backup_.manifest->globals,
                                 globals_opener(target_, *backup_.manifest));
  }
  if (partial()) {
    try {
      refuse_partial_hypertables();
    } catch (const OperationError& e) {
      journal_.audit("verify", "refused",
                     {{"file", backup_.dump.filename().string()}, {"error", e.what()}});
      throw;
    }
  } else {
    aggregates_ = backup_.manifest->continuous_aggregates;
  }
  journal_.audit("verify", "success", {{"file", backup_.dump.filename().string()}});
}

namespace {

// The tables restored, a hypertable with its chunks.
std::vector<std::string> table_names(const std::vector<TableRows>& tables) {
  std::vector<std::string> names;
  for (const TableRows& t : tables) {
    names.push_back(t.kind != RelationKind::hypertable
                        ? qualified_name(t)
                        : qualified_name(t) + " (hypertable, " + std::to_string(t.chunks) +
                              " chunks, " + std::to_string(t.compressed_chunks) + " compressed)");
  }
  return names;
}

}  // namespace

std::string PgDumpRestorer::safety_backup_place() const {
  return "into " + target_.backup.dir.string();
}

void PgDumpRestorer::print_plan_source() const {
  const Manifest& m = *backup_.manifest;
  const std::vector<std::string> names = table_names(tables_);
  std::printf("  database       %s (%s)\n", endpoint_.describe().c_str(),
              creates_database() ? "does not exist: it is CREATED" : "its contents are REPLACED");
  print_cluster_plan();
  std::printf("  backup         %s\n", backup_.dump.c_str());
  std::printf("                 taken %s (%s ago), tier %s, %s, verified\n",
              format_iso8601(m.started_at).c_str(),
              format_age(m.started_at, journal_.ctx().now()).c_str(), tier_name(m.tier),
              format_bytes(m.size_bytes).c_str());
  std::printf("  tables         %s%s\n",
              request_.tables.empty() ? ("all " + std::to_string(names.size()) + ": ").c_str()
                                      : "only (partial restore): ",
              join(names, ", ").c_str());
}

void PgDumpRestorer::print_plan_method() const {
  if (!timescaledb_.empty()) {
    std::printf(
        "  timescaledb    %s: timescaledb_pre_restore() before, "
        "timescaledb_post_restore() after\n",
        timescaledb_.c_str());
  }
  if (!aggregates_.empty()) {
    std::vector<std::string> aggregates;
    for (const TableRows& t : aggregates_) aggregates.push_back(qualified_name(t));
    std::printf("  continuous aggregates  %s (row counts checked after the restore)\n",
                join(aggregates, ", ").c_str());
  }
  std::printf("  restore        %s\n", pg_restore_text().c_str());
}

nlohmann::json PgDumpRestorer::plan_details() const {
  return {{"file", backup_.dump.filename().string()},
          {"tables", table_names(tables_)},
          {"partial", partial()},
          {"timescaledb", timescaledb_},
          {"create_database", creates_database()},
          {"create_roles", cluster_ ? cluster_->create_roles : std::vector<std::string>{}},
          {"existing_roles", cluster_ ? cluster_->existing_roles : std::vector<std::string>{}},
          {"role_differences", cluster_ ? cluster_->differences : std::vector<std::string>{}}};
}

nlohmann::json PgDumpRestorer::identity() const {
  return {{"file", backup_.dump.filename().string()}};
}

// The dump itself is decrypted after the safety backup, whose housekeeping clears .partial files.
void PgDumpRestorer::ready() {
  dump_file_ = readable_dump(target_, backup_, decrypted_, journal_.ctx().cancel);
}

void PgDumpRestorer::put_back() {
  journal_.begin("create_roles");
  create_cluster_objects();
  journal_.begin("pg_restore");
  restore_data();
  journal_.begin("database_settings");
  apply_database_statements();
  journal_.begin("row_counts");
  journal_.check_stopping();
  compare_counts();
}
void PgDumpRestorer::restore_data() {
  journal_.check_stopping();
  auto conn = endpoint_.connect();
  database_touched_ = true;
  if (!timescaledb_.empty()) {
    timescaledb_pre_restore(*conn, timescaledb_);
    timescaledb_restoring_ = true;
    journal_.audit("timescaledb_pre_restore", "success", {{"version", timescaledb_}});
  }
  RestoreOptions options;
  options.jobs = request_.jobs;
  options.clean = true;
  options.timescaledb = !timescaledb_.empty();
  options.no_tablespaces = cluster_ && !cluster_->missing_tablespaces.empty();
  options.timeout = target_.backup.timeout;
  options.cancel = journal_.ctx().cancel;
  options.progress = journal_.ctx().progress;
  TemporaryFile list;
  if (partial()) {
    list.path = write_partial_list();
    options.use_list = list.path;
    options.single_transaction = true;
  }
  std::printf("%s into %s...\n", pg_restore_text().c_str(), endpoint_.describe().c_str());
  std::fflush(stdout);
  run_pg_restore(endpoint_, dbname(), dump_file_, options);
  journal_.audit("pg_restore", "success",
                 {{"file", backup_.dump.filename().string()}, {"partial", partial()}});
  if (!timescaledb_.empty()) {
    timescaledb_post_restore(*conn);
    timescaledb_restoring_ = false;
    journal_.audit("timescaledb_post_restore", "success");
  }
}

// pg_restore --table alone would re-create a table without its primary key, indexes or
// sequences, so a partial restore lists exactly the entries it needs: each table with its data,
// constraints, defaults, triggers, indexes and owned sequences.
fs::path PgDumpRestorer::write_partial_list() {
  const std::string dump = dump_file_.string();
  const std::string entries = select_toc_entries(read_toc_text(dump), tables_,
                                                 objects_of_tables(read_schema_sql(dump), tables_));
  const fs::path path = target_.state_dir() / "restore.list";
  write_file_atomic(path, entries, fs::perms::owner_read | fs::perms::owner_write);
  return path;
}

std::string PgDumpRestorer::pg_restore_text() const {
  return partial() ? "pg_restore --clean --if-exists --single-transaction (the tables with their "
                     "indexes, constraints and sequences; all or nothing)"
         : !timescaledb_.empty()
             ? "pg_restore --clean --if-exists: the schema and TimescaleDB's catalog with "
               "--jobs=1, "
               "then the data with --jobs=" +
                   std::to_string(request_.jobs)
             : "pg_restore --clean --if-exists --jobs=" + std::to_string(request_.jobs);
}

void PgDumpRestorer::compare_counts() {
  const auto conn = endpoint_.connect();
  std::vector<TableRows> expected = tables_;
  expected.insert(expected.end(), aggregates_.begin(), aggregates_.end());
  const std::vector<TableMismatch> mismatches = compare_row_counts(*conn, expected);
  if (!mismatches.empty()) {
    std::vector<std::string> lines;
    for (const TableMismatch& m : mismatches) lines.push_back(describe(m));
    throw OperationError("row counts differ from the backup's manifest in " +
                         std::to_string(mismatches.size()) + " table(s): " + join(lines, "; "));
  }
  std::int64_t rows = 0;
  for (const TableRows& t : tables_) rows += t.rows;
  std::printf("row counts: %zu tables, %lld rows, as in the manifest\n", tables_.size(),
              static_cast<long long>(rows));
  journal_.audit("row_counts", "success", {{"tables", tables_.size()}, {"rows", rows}});
}

// A failure after timescaledb_pre_restore() must not leave TimescaleDB in restoring mode (its
// background jobs off): call timescaledb_post_restore() anyway, best effort, on a new
// connection. Returns what happened, for the failure text; empty when pre-restore never ran.
std::string PgDumpRestorer::end_timescaledb_restore() {
  if (!timescaledb_restoring_) return "";
  timescaledb_restoring_ = false;
  try {
    const auto conn = endpoint_.connect();
    timescaledb_post_restore(*conn);
    journal_.audit("timescaledb_post_restore", "success", {{"after_failure", true}});
    return "timescaledb_pre_restore() had run; timescaledb_post_restore() was called after the "
           "failure";
  } catch (const std::exception& e) {
    journal_.audit("timescaledb_post_restore", "failure",
                   {{"after_failure", true}, {"error", e.what()}});
    return "timescaledb_pre_restore() had run and timescaledb_post_restore() FAILED after the "
           "failure (" +
           std::string(e.what()) +
           "): TimescaleDB is still in restoring mode; run "
           "SELECT timescaledb_post_restore(); in " +
           dbname() + " once the cause is fixed";
  }
}

// What a failure at `step` left of the database.
std::string PgDumpRestorer::database_state(const std::string& step) const {
  const std::string db = "the database " + endpoint_.describe();
  std::string roles;
  if (roles_created_) {
    roles = "\n  the roles " + join(cluster_->create_roles, ", ") + " were created and stay";
  }
  if (database_created_ && !database_touched_) {
    return db + " was created, empty" + roles;
  }
  if (!database_touched_) return db + " was not changed (the restore did not start)" + roles;
  if (database_created_) {
    return db +
           " was created by this restore and may be PARTIALLY RESTORED: do not start the "
           "application on it (to start over: DROP DATABASE " +
           sql_identifier(dbname()) + ", then restore again)" + roles;
  }
  std::string state;
  if (partial() && step == "pg_restore") {
    // The rollback undoes pg_restore's work, not TimescaleDB's pre-restore (a database setting
    // outside the transaction): "as it was before" only holds once post-restore ran again.
    state = "the partial restore ran in one transaction, which was rolled back: " + db +
            (timescaledb_after_failure_.empty() ? " is as it was before"
                                                : " has its data as it was before");
  } else {
    state = db + " may be PARTIALLY RESTORED: do not start the application on it as it is";
  }
  if (!timescaledb_after_failure_.empty()) state += "\n  " + timescaledb_after_failure_;
  return state + roles;
}

std::string PgDumpRestorer::state_after_failure(const std::string& step) {
  timescaledb_after_failure_ = end_timescaledb_restore();
  return database_state(step);
}

std::string PgDumpRestorer::command_args() const {
  return " --target " + target_.name + (into_own_database() ? "" : " --dbname " + dbname());
}

std::string PgDumpRestorer::go_back_command(const std::filesystem::path& safety) const {
  return "pgbackup-agent restore" + command_args() + " " + safety.string();
}

std::string PgDumpRestorer::retry_command() const {
  // A backup fetched from s3:// was a temporary copy, already removed: name the URL.
  const std::string source =
      request_.file && is_s3_url(*request_.file) ? *request_.file : backup_.dump.string();
  std::string table_args;
  for (const std::string& table : request_.tables) table_args += " --table " + table;
  return "pgbackup-agent restore" + command_args() + table_args + " " + source;
}

std::string PgDumpRestorer::done_text() const {
  return "restored " + backup_.dump.filename().string() + " into " + endpoint_.describe();
}

std::string PgDumpRestorer::start_failure_text(const std::string& error) const {
  return "the database was restored and its row counts match the backup, but " + error +
         "\n  start the application yourself\n";
}
}  // namespace pgbackup
