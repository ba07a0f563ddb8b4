#include "agent/jobs/restore.h"

#include <spdlog/spdlog.h>
#include <pqxx/pqxx>

#include <poll.h>

#include <cstdio>
#include <iostream>
#include <istream>
#include <memory>

#include "agent/catalog/audit_log.h"
#include "agent/catalog/backup_dir.h"
#include "agent/catalog/directory_lock.h"
#include "agent/catalog/globals_file.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/subprocess.h"
#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/engines/pg_dump/dump_crypto.h"
#include "agent/engines/pg_dump/dump_verify.h"
#include "agent/engines/pg_dump/pg_restore.h"
#include "agent/engines/pg_dump/toc.h"
#include "agent/jobs/backup.h"
#include "agent/jobs/offsite.h"
#include "agent/postgres/cluster_globals.h"
#include "agent/postgres/postgres.h"
#include "agent/rules/cluster_plan.h"

namespace pgbackup {
namespace {

constexpr const char* kTimescale = "timescaledb";

std::string qualified(const TableRows& t) { return t.schema + "." + t.name; }

// The manifest's tables that --table names ("name" or "schema.name"); all of them when none is
// named. An unknown or ambiguous name is a usage error, raised before anything happens.
std::vector<TableRows> select_tables(const std::vector<TableRows>& in_backup,
                                     const std::vector<std::string>& wanted) {
  if (wanted.empty()) return in_backup;
  std::vector<TableRows> out;
  for (const std::string& name : wanted) {
    std::vector<const TableRows*> matches;
    for (const TableRows& t : in_backup) {
      if (name == qualified(t) || name == t.name) matches.push_back(&t);
    }
    if (matches.size() == 1) {
      out.push_back(*matches.front());
      continue;
    }
    std::vector<std::string> known;
    for (const TableRows& t : in_backup) known.push_back(qualified(t));
    throw ConfigError(
        matches.empty() ? "--table " + name +
                              ": the backup has no such table (it has: " + join(known, ", ") + ")"
                        : "--table " + name + " is in several schemas; name it as schema." + name);
  }
  return out;
}

// Refuses (before anything changes) a TimescaleDB restore the target cannot take: the
// extension installed at another version, or that version not available on the server.
// `conn` is to the database itself, or, when the restore creates it, to another of the server.
void check_timescaledb(pqxx::connection& conn, bool database_exists, const std::string& wanted,
                       const std::string& where) {
  pqxx::read_transaction tx(conn);
  const pqxx::result installed =
      database_exists
          ? tx.exec("SELECT extversion FROM pg_extension WHERE extname = " + tx.quote(kTimescale))
          : pqxx::result();
  if (!installed.empty()) {
    const std::string have = installed[0][0].as<std::string>();
    if (have != wanted) {
      throw OperationError("the backup was taken with timescaledb " + wanted + " but " + where +
                           " has timescaledb " + have +
                           "; nothing was changed (hint: restoring needs the same version: "
                           "install timescaledb " +
                           wanted + " on this server, or restore a backup taken with " + have +
                           ")");
    }
  } else {
    const pqxx::result available = tx.exec(
        "SELECT 1 FROM pg_available_extension_versions WHERE name = " + tx.quote(kTimescale) +
        " AND version = " + tx.quote(wanted));
    if (available.empty()) {
      throw OperationError("the backup needs timescaledb " + wanted + ", which the server of " +
                           where + " does not have; nothing was changed (hint: install " +
                           "timescaledb " + wanted + " there first)");
    }
  }
  // Installed is not loaded: without the library preloaded, TimescaleDB refuses to work (and
  // timescaledb_pre_restore() would fail after the application was stopped). Its settings exist
  // only once it is loaded; shared_preload_libraries itself is for superusers to read.
  if (tx.exec("SELECT 1 FROM pg_settings WHERE name = 'timescaledb.max_background_workers'")
          .empty()) {
    throw OperationError("the server of " + where + " has timescaledb " + wanted +
                         " installed but does not load it; nothing was changed (hint: add "
                         "shared_preload_libraries = 'timescaledb' to its postgresql.conf and "
                         "restart it)");
  }
}

// Removes a file when it goes out of scope.
struct TemporaryFile {
  fs::path path;
  ~TemporaryFile() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

// One production restore, step by step; members carry what the steps share.
class ProductionRestore {
 public:
  ProductionRestore(const Config& config, const TargetConfig& target, const RestoreRequest& request,
                    const JobContext& ctx)
      : config_(config),
        target_(target),
        request_(request),
        ctx_(ctx),
        endpoint_(database_of(target, request)),
        audit_log_(config.audit_log_for(target)) {}

  int run(const CatalogEntry& backup, std::istream& confirmation);

 private:
  static DatabaseConfig database_of(const TargetConfig& target, const RestoreRequest& request) {
    DatabaseConfig db = target.database;
    if (!request.dbname.empty()) db.dbname = request.dbname;
    return db;
  }
  const std::string& dbname() const { return endpoint_.config().dbname; }
  bool stopping() const { return ctx_.cancel && ctx_.cancel->load(); }
  // Between steps: a stop request (Ctrl-C, SIGTERM) ends the restore through fail(), which
  // says what state the database is in; the running step's child is stopped via ctx_.cancel.
  void check_stopping() const {
    if (stopping()) throw OperationError("the agent was asked to stop (signal)");
  }
  bool into_own_database() const { return dbname() == target_.database.dbname; }

  void audit(const std::string& step, const std::string& outcome,
             nlohmann::json details = nlohmann::json::object());
  void verify(const CatalogEntry& backup);
  void refuse_partial_hypertables(const CatalogEntry& backup) const;
  void probe_database();
  // A connection to the server's maintenance database ("postgres"), or null when there is none.
  std::unique_ptr<pqxx::connection> connect_maintenance() const;
  void plan_cluster_objects(pqxx::connection& conn);
  void print_cluster_plan() const;
  void create_cluster_objects();
  void apply_database_statements();
  void print_plan(const CatalogEntry& backup);
  bool confirmed(std::istream& in);
  void take_safety_backup();
  void run_command(const std::string& step, const std::vector<std::string>& argv);
  void restore_data(const CatalogEntry& backup);
  fs::path write_partial_list(const CatalogEntry& backup);
  std::string pg_restore_text() const;
  std::string database_state(const std::string& step) const;
  std::string end_timescaledb_restore();
  void compare_counts();
  int fail(const std::string& step, const std::string& error, const CatalogEntry& backup);

  const Config& config_;
  const TargetConfig& target_;
  const RestoreRequest& request_;
  const JobContext ctx_;
  const DatabaseEndpoint endpoint_;
  const fs::path audit_log_;
  std::vector<TableRows> tables_;           // what is restored (all, or the --table ones)
  fs::path dump_file_;                      // what pg_restore reads: the dump or its decrypted copy
  std::optional<DecryptedDump> decrypted_;  // an encrypted dump's plaintext, removed with it
  std::vector<TableRows> aggregates_;       // continuous aggregates checked after a full restore
  std::string timescaledb_;                 // the version the backup needs, or empty
  std::string unreachable_;                 // why the database cannot be reached, or empty
  std::string no_safety_reason_;            // why no safety backup is taken, or empty
  std::optional<fs::path> safety_backup_;
  // The backup's companion file, when it has one, and what the restore creates from it.
  std::optional<ClusterGlobals> globals_;
  std::optional<ClusterPlan> cluster_;
  bool roles_created_ = false;             // the plan's roles exist now (they stay after a failure)
  bool database_created_ = false;          // this restore created the database
  bool stopped_ = false;                   // stop_command ran: the application is down
  bool database_touched_ = false;          // pg_restore (or TimescaleDB's pre-restore) started
  bool timescaledb_restoring_ = false;     // pre_restore ran, post_restore has not (yet)
  std::string timescaledb_after_failure_;  // what end_timescaledb_restore() did, for fail()
  bool partial() const { return !request_.tables.empty(); }
  bool creates_database() const { return cluster_ && cluster_->create_database; }
};

void ProductionRestore::audit(const std::string& step, const std::string& outcome,
                              nlohmann::json details) {
  details["target"] = target_.name;
  details["operation"] = "restore";
  details["step"] = step;
  details["outcome"] = outcome;
  details["database"] = endpoint_.describe();
  // Best effort: an audit log that cannot be written (disk full) must not turn a good restore
  // into a failure, nor hide the failure text that says what state the database is in.
  try {
    append_audit(audit_log_, std::move(details), ctx_.now());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: the audit log entry for step %s (%s) was not recorded: %s\n",
                 step.c_str(), outcome.c_str(), e.what());
  }
}

void ProductionRestore::verify(const CatalogEntry& backup) {
  const VerifyReport report = verify_backup(backup, ctx_.progress);
  if (!report.ok()) {
    audit("verify", "failure",
          {{"file", backup.dump.filename().string()}, {"error", report.first_problem()}});
    throw OperationError(backup.dump.string() + " cannot be restored: " + report.first_problem() +
                         "; nothing was changed (hint: pgbackup-agent list shows the good "
                         "backups; restore another one)");
  }
  tables_ = select_tables(backup.manifest->tables, request_.tables);
  timescaledb_ = timescaledb_version(*backup.manifest);
  // An encrypted backup's identity is checked before anything is changed; the dump itself is
  // decrypted after the safety backup (see run), whose housekeeping clears .partial files.
  if (backup.manifest->encryption) identity_for(target_, *backup.manifest);
  if (backup.manifest->globals) {
    globals_ = read_globals_file(globals_path(backup), *backup.manifest->globals,
                                 globals_opener(target_, *backup.manifest));
  }
  if (partial()) {
    try {
      refuse_partial_hypertables(backup);
    } catch (const OperationError& e) {
      audit("verify", "refused", {{"file", backup.dump.filename().string()}, {"error", e.what()}});
      throw;
    }
  } else {
    aggregates_ = backup.manifest->continuous_aggregates;
  }
  audit("verify", "success", {{"file", backup.dump.filename().string()}});
}

// A hypertable's rows live in its chunks, which TimescaleDB's catalog ties to it (chunk,
// dimension_slice, compression tables, continuous aggregates' invalidation logs): a partial
// restore of the table alone cannot bring those back consistently, so it is refused, with the
// seed's alternative (scenario 2): restore into a scratch database and copy the rows over.
void ProductionRestore::refuse_partial_hypertables(const CatalogEntry& backup) const {
  for (const TableRows& t : tables_) {
    if (t.kind != RelationKind::hypertable) continue;
    const DatabaseConfig& db = endpoint_.config();
    const std::string scratch = db.dbname + "_scratch";
    const std::string psql =
        "psql -h " + db.host + " -p " + std::to_string(db.port) + " -U " + db.user + " -d ";
    throw OperationError(
        "--table " + qualified(t) + " is a TimescaleDB hypertable (" + std::to_string(t.chunks) +
        " chunks, " + std::to_string(t.compressed_chunks) +
        " compressed): its rows live in chunks that TimescaleDB's catalog ties to it, which a "
        "partial restore cannot bring back consistently; nothing was changed (hint: restore the "
        "whole backup into a scratch database and copy the rows you need: createdb -h " +
        db.host + " -p " + std::to_string(db.port) + " -U " + db.user + " " + scratch +
        " && pgbackup-agent restore --target " + target_.name + " --dbname " + scratch + " " +
        backup.dump.string() + ", then " + psql + scratch + " -c \"\\copy (SELECT * FROM " +
        qualified(t) + " WHERE ...) TO rows.csv\" and " + psql + db.dbname + " -c \"\\copy " +
        qualified(t) + " FROM rows.csv\")");
  }
}

std::unique_ptr<pqxx::connection> ProductionRestore::connect_maintenance() const {
  if (dbname() == "postgres") return nullptr;
  try {
    return endpoint_.connect("postgres");
  } catch (const OperationError&) {
    return nullptr;
  }
}

// Whether the database answers decides the safety backup. A database that does not exist is
// created from the backup's companion file (a new server); without one, or for a partial
// restore, it stops the restore here, as does a TimescaleDB version the server cannot take or
// a role the server lacks and may not create.
void ProductionRestore::probe_database() {
  std::unique_ptr<pqxx::connection> conn;
  bool database_missing = false;
  try {
    conn = endpoint_.connect();
  } catch (const OperationError& e) {
    const std::string error = e.what();
    // Whether the database is missing is asked of the maintenance database's catalog, not read
    // from the error (servers translate their messages). A new server: the plan is read there.
    conn = connect_maintenance();
    if (conn) {
      pqxx::read_transaction tx(*conn);
      database_missing = !database_exists(tx, dbname());
      tx.commit();
    }
    if (!database_missing) conn.reset();
    if (database_missing && (!globals_ || partial())) {
      throw OperationError(
          error + "; nothing was changed" +
          (partial() ? " (a partial restore needs the database; restore the whole backup to "
                       "create it)"
                     : " (this backup has no companion file to create it from: it is older than "
                       "them; create it yourself: createdb -O OWNER " +
                           dbname() + ")"));
    }
    // A role that does not exist (libpq's words; the server is up but will not let us in).
    if (!database_missing && error.find("does not exist") != std::string::npos) {
      throw OperationError(error + "; nothing was changed");
    }
    if (!database_missing) unreachable_ = error;
  }
  if (conn && globals_) plan_cluster_objects(*conn);
  if (!timescaledb_.empty()) {
    if (!conn) {
      throw OperationError("cannot check the TimescaleDB version of " + endpoint_.describe() +
                           ": " + unreachable_ + "; nothing was changed");
    }
    check_timescaledb(*conn, !database_missing, timescaledb_, endpoint_.describe());
  }
  if (!request_.safety_backup) {
    no_safety_reason_ = "--no-safety-backup";
  } else if (database_missing) {
    no_safety_reason_ = "the database does not exist yet";
  } else if (!unreachable_.empty()) {
    no_safety_reason_ = "the database is unreachable: " + unreachable_;
  } else if (!into_own_database()) {
    // A backup of another database must not join the target's backups: `restore --latest`
    // would then put it into production.
    no_safety_reason_ = "--dbname " + dbname() + " is not the target's database (" +
                        target_.database.dbname + "); dump it yourself first if it holds data";
  }
}

// What the server lacks of the roles and the database the backup needs, and whether the
// connecting role may create them: refused here, before anything is changed.
void ProductionRestore::plan_cluster_objects(pqxx::connection& conn) {
  pqxx::read_transaction tx(conn);
  const ClusterState state = read_cluster_state(tx, *globals_, dbname());
  tx.commit();
  cluster_ = plan_cluster(*globals_, state,
                          request_.create_roles ? RoleCreation::as_backed_up : RoleCreation::none,
                          dbname());
  std::string refusal = cluster_->refusal;
  if (refusal.empty() && !cluster_->missing_roles.empty()) {
    refusal = "the roles " + join(cluster_->missing_roles, ", ") +
              " own objects or hold privileges in the backup and do not exist on " +
              endpoint_.describe() +
              ", and --no-roles creates none; nothing was changed (hint: create them "
              "yourself, CREATE ROLE name, or restore without --no-roles)";
  }
  if (!refusal.empty()) {
    audit("plan", "refused", {{"error", refusal}});
    throw OperationError(refusal);
  }
}

void ProductionRestore::print_plan(const CatalogEntry& backup) {
  const Manifest& m = *backup.manifest;
  std::vector<std::string> names;
  for (const TableRows& t : tables_) {
    names.push_back(t.kind != RelationKind::hypertable
                        ? qualified(t)
                        : qualified(t) + " (hypertable, " + std::to_string(t.chunks) + " chunks, " +
                              std::to_string(t.compressed_chunks) + " compressed)");
  }
  const auto command_text = [](const std::vector<std::string>& argv) {
    return argv.empty() ? std::string("none configured (restore.stop_command/start_command)")
                        : join(argv, " ");
  };
  std::printf("Restore plan for target %s\n", target_.name.c_str());
  std::printf("  database       %s (%s)\n", endpoint_.describe().c_str(),
              creates_database() ? "does not exist: it is CREATED" : "its contents are REPLACED");
  print_cluster_plan();
  std::printf("  backup         %s\n", backup.dump.c_str());
  std::printf("                 taken %s (%s ago), tier %s, %s, verified\n",
              format_iso8601(m.started_at).c_str(), format_age(m.started_at, ctx_.now()).c_str(),
              tier_name(m.tier), format_bytes(m.size_bytes).c_str());
  std::printf("  tables         %s%s\n",
              request_.tables.empty() ? ("all " + std::to_string(names.size()) + ": ").c_str()
                                      : "only (partial restore): ",
              join(names, ", ").c_str());
  std::printf("  safety backup  %s\n", no_safety_reason_.empty()
                                           ? ("yes, into " + target_.backup.dir.string()).c_str()
                                           : ("NO: " + no_safety_reason_).c_str());
  std::printf("  stop command   %s\n", command_text(target_.restore.stop_command).c_str());
  if (!timescaledb_.empty()) {
    std::printf(
        "  timescaledb    %s: timescaledb_pre_restore() before, "
        "timescaledb_post_restore() after\n",
        timescaledb_.c_str());
  }
  if (!aggregates_.empty()) {
    std::vector<std::string> aggregates;
    for (const TableRows& t : aggregates_) aggregates.push_back(qualified(t));
    std::printf("  continuous aggregates  %s (row counts checked after the restore)\n",
                join(aggregates, ", ").c_str());
  }
  std::printf("  restore        %s\n", pg_restore_text().c_str());
  std::printf("  start command  %s (only when the restore and its row counts succeed)\n",
              command_text(target_.restore.start_command).c_str());
  std::fflush(stdout);
  audit("plan", "shown",
        {{"file", backup.dump.filename().string()},
         {"tables", names},
         {"partial", !request_.tables.empty()},
         {"safety_backup", no_safety_reason_.empty()},
         {"timescaledb", timescaledb_},
         {"create_database", creates_database()},
         {"create_roles", cluster_ ? cluster_->create_roles : std::vector<std::string>{}},
         {"existing_roles", cluster_ ? cluster_->existing_roles : std::vector<std::string>{}},
         {"role_differences", cluster_ ? cluster_->differences : std::vector<std::string>{}}});
}

// The plan's lines about roles, the new database and tablespaces (never a statement: they may
// hold password verifiers).
void ProductionRestore::print_cluster_plan() const {
  if (!cluster_) {
    std::printf("  roles          not checked (%s)\n",
                globals_ ? "the server is unreachable" : "the backup has no companion file");
    return;
  }
  const ClusterPlan& p = *cluster_;
  if (p.create_database) {
    const DatabaseGlobals& db = globals_->database;
    std::printf("                 as backed up: owner %s, encoding %s, collation %s, ctype %s%s\n",
                db.owner.c_str(), db.encoding.c_str(), db.collate.c_str(), db.ctype.c_str(),
                db.settings.empty() ? "" : (", settings " + join(db.settings, ", ")).c_str());
  }
  if (!p.create_roles.empty()) {
    std::printf("  create roles   %s (as backed up: attributes, %s, settings, memberships)\n",
                join(p.create_roles, ", ").c_str(),
                globals_->passwords_included
                    ? "passwords"
                    : "NO passwords, the backup could not read them: set them with ALTER ROLE "
                      "... PASSWORD");
  }
  if (!p.grant_memberships.empty()) {
    std::printf("  memberships    GRANT %s\n", join(p.grant_memberships, ", GRANT ").c_str());
  }
  if (!p.existing_roles.empty()) {
    std::printf("  existing roles %s (left as they are)\n", join(p.existing_roles, ", ").c_str());
  }
  for (const std::string& d : p.differences) std::printf("    differs:     %s\n", d.c_str());
  if (!p.missing_tablespaces.empty()) {
    std::printf(
        "  tablespaces    %s missing here: their objects go to the default one "
        "(--no-tablespaces)\n",
        join(p.missing_tablespaces, ", ").c_str());
  }
}

// After stop_command: the missing roles (in one transaction), then the database.
void ProductionRestore::create_cluster_objects() {
  if (!cluster_ || (cluster_->role_statements.empty() && !cluster_->create_database)) return;
  check_stopping();
  const auto conn = endpoint_.connect(cluster_->create_database ? "postgres" : "");
  if (!cluster_->role_statements.empty()) {
    run_plan_statements(*conn, cluster_->role_statements, true,
                        "creating the roles " + join(cluster_->create_roles, ", "));
    roles_created_ = !cluster_->create_roles.empty();
    if (roles_created_) {
      std::printf("created roles: %s\n", join(cluster_->create_roles, ", ").c_str());
    }
    audit("create_roles", "success",
          {{"roles", cluster_->create_roles}, {"memberships", cluster_->grant_memberships}});
  }
  if (cluster_->create_database) {
    run_plan_statements(*conn, cluster_->create_database_statements, false,
                        "creating the database " + dbname());
    database_created_ = true;
    std::printf("created database %s (owner %s)\n", dbname().c_str(),
                globals_->database.owner.c_str());
    audit("create_database", "success", {{"owner", globals_->database.owner}});
  }
}

// After pg_restore: the database's own settings and privileges, and the created roles'
// settings in it.
void ProductionRestore::apply_database_statements() {
  if (!cluster_ || cluster_->database_statements.empty()) return;
  const auto conn = endpoint_.connect();
  run_plan_statements(*conn, cluster_->database_statements, true,
                      "applying the database's settings and privileges");
  audit("database_settings", "success", {{"statements", cluster_->database_statements.size()}});
}

bool ProductionRestore::confirmed(std::istream& in) {
  if (request_.assume_yes) {
    audit("confirmation", "given", {{"by", "--yes"}});
    return true;
  }
  std::printf("Type YES to restore: ");
  std::fflush(stdout);
  // The agent blocks SIGINT for its signal thread, so a Ctrl-C at the prompt would not interrupt
  // the read: wait for the terminal with poll() and give up when the agent is asked to stop.
  if (&in == &std::cin && ctx_.cancel) {
    pollfd fd{0, POLLIN, 0};
    while (!stopping() && ::poll(&fd, 1, 100) == 0) {
    }
  }
  std::string answer;
  const bool read = !stopping() && static_cast<bool>(std::getline(in, answer));
  const bool yes = read && answer == "YES" && !stopping();
  std::printf("\n");
  audit("confirmation", yes ? "given" : "refused", {{"answer", read ? answer : "<end of input>"}});
  return yes;
}

void ProductionRestore::take_safety_backup() {
  if (!no_safety_reason_.empty()) {
    spdlog::warn("no safety backup: {}", no_safety_reason_);
    audit("safety_backup", "skipped", {{"reason", no_safety_reason_}});
    return;
  }
  BackupOptions options;
  options.lock_held = true;
  options.apply_retention = false;
  options.purpose = "safety backup";
  std::printf("taking the safety backup of %s...\n", endpoint_.describe().c_str());
  std::fflush(stdout);
  try {
    const BackupResult r = take_backup(config_, target_, ctx_, options);
    safety_backup_ = r.file;
  } catch (const OperationError& e) {
    audit("safety_backup", "failure", {{"error", e.what()}});
    throw OperationError(std::string("the safety backup failed: ") + e.what() +
                         "; nothing was changed (hint: fix that and restore again, or restore "
                         "with --no-safety-backup if the current data does not matter)");
  }
  std::printf("safety backup: %s\n", safety_backup_->c_str());
  audit("safety_backup", "success", {{"file", safety_backup_->filename().string()}});
}

void ProductionRestore::run_command(const std::string& step, const std::vector<std::string>& argv) {
  if (argv.empty()) {
    audit(step, "skipped", {{"reason", "not configured"}});
    return;
  }
  check_stopping();
  ProcessSpec spec;
  spec.argv = argv;
  spec.timeout = std::chrono::minutes(10);
  spec.cancel = ctx_.cancel;
  const ProcessResult r = run_process(spec);
  if (!r.ok()) {
    throw OperationError(step + " failed: " + describe_failure(spec, r));
  }
  std::printf("%s: ok (%s)\n", step.c_str(), join(argv, " ").c_str());
  audit(step, "success", {{"command", argv}});
}

void ProductionRestore::restore_data(const CatalogEntry& backup) {
  check_stopping();
  auto conn = endpoint_.connect();
  database_touched_ = true;
  if (!timescaledb_.empty()) {
    timescaledb_pre_restore(*conn, timescaledb_);
    timescaledb_restoring_ = true;
    audit("timescaledb_pre_restore", "success", {{"version", timescaledb_}});
  }
  RestoreOptions options;
  options.jobs = request_.jobs;
  options.clean = true;
  options.timescaledb = !timescaledb_.empty();
  options.no_tablespaces = cluster_ && !cluster_->missing_tablespaces.empty();
  options.timeout = target_.backup.timeout;
  options.cancel = ctx_.cancel;
  options.progress = ctx_.progress;
  TemporaryFile list;
  if (partial()) {
    list.path = write_partial_list(backup);
    options.use_list = list.path;
    options.single_transaction = true;
  }
  std::printf("%s into %s...\n", pg_restore_text().c_str(), endpoint_.describe().c_str());
  std::fflush(stdout);
  run_pg_restore(endpoint_, dbname(), dump_file_, options);
  audit("pg_restore", "success",
        {{"file", backup.dump.filename().string()}, {"partial", partial()}});
  if (!timescaledb_.empty()) {
    timescaledb_post_restore(*conn);
    timescaledb_restoring_ = false;
    audit("timescaledb_post_restore", "success");
  }
}

// pg_restore --table alone would re-create a table without its primary key, indexes or
// sequences, so a partial restore lists exactly the entries it needs: each table with its data,
// constraints, defaults, triggers, indexes and owned sequences.
fs::path ProductionRestore::write_partial_list(const CatalogEntry&) {
  const std::string dump = dump_file_.string();
  const std::string entries = select_toc_entries(read_toc_text(dump), tables_,
                                                 objects_of_tables(read_schema_sql(dump), tables_));
  const fs::path path = target_.state_dir() / "restore.list";
  write_file_atomic(path, entries, fs::perms::owner_read | fs::perms::owner_write);
  return path;
}

std::string ProductionRestore::pg_restore_text() const {
  return partial() ? "pg_restore --clean --if-exists --single-transaction (the tables with their "
                     "indexes, constraints and sequences; all or nothing)"
         : !timescaledb_.empty()
             ? "pg_restore --clean --if-exists: the schema and TimescaleDB's catalog with "
               "--jobs=1, "
               "then the data with --jobs=" +
                   std::to_string(request_.jobs)
             : "pg_restore --clean --if-exists --jobs=" + std::to_string(request_.jobs);
}

void ProductionRestore::compare_counts() {
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
  audit("row_counts", "success", {{"tables", tables_.size()}, {"rows", rows}});
}

// A failure after timescaledb_pre_restore() must not leave TimescaleDB in restoring mode (its
// background jobs off): call timescaledb_post_restore() anyway, best effort, on a new
// connection. Returns what happened, for the failure text; empty when pre-restore never ran.
std::string ProductionRestore::end_timescaledb_restore() {
  if (!timescaledb_restoring_) return "";
  timescaledb_restoring_ = false;
  try {
    const auto conn = endpoint_.connect();
    timescaledb_post_restore(*conn);
    audit("timescaledb_post_restore", "success", {{"after_failure", true}});
    return "timescaledb_pre_restore() had run; timescaledb_post_restore() was called after the "
           "failure";
  } catch (const std::exception& e) {
    audit("timescaledb_post_restore", "failure", {{"after_failure", true}, {"error", e.what()}});
    return "timescaledb_pre_restore() had run and timescaledb_post_restore() FAILED after the "
           "failure (" +
           std::string(e.what()) +
           "): TimescaleDB is still in restoring mode; run "
           "SELECT timescaledb_post_restore(); in " +
           dbname() + " once the cause is fixed";
  }
}

// What a failure at `step` left of the database.
std::string ProductionRestore::database_state(const std::string& step) const {
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

// After stop_command ran, a failure leaves the application down and the database possibly
// half restored: say so, where the safety backup is and how to go back.
int ProductionRestore::fail(const std::string& step, const std::string& error,
                            const CatalogEntry& backup) {
  timescaledb_after_failure_ = end_timescaledb_restore();
  const std::string target_arg = " --target " + target_.name;
  const std::string db_arg = into_own_database() ? "" : " --dbname " + dbname();
  std::string text = "restore FAILED at " + step + ": " + error + "\n";
  text += "  " + database_state(step) + "\n";
  text += "  start_command was NOT run";
  if (stopped_ || step == "stop_command") {
    text += "; the application is (partly) stopped";
    if (!database_touched_ && !target_.restore.start_command.empty()) {
      text += ", start it again with: " + join(target_.restore.start_command, " ");
    }
  }
  text += "\n";
  if (safety_backup_) {
    text += "  the safety backup of the data before the restore is " + safety_backup_->string() +
            "\n  to go back to it: pgbackup-agent restore" + target_arg + db_arg + " " +
            safety_backup_->string() + "\n";
  } else {
    text += "  there is no safety backup (" + no_safety_reason_ + ")\n";
  }
  // A backup fetched from s3:// was a temporary copy, already removed: name the URL.
  const std::string retry_source =
      request_.file && is_s3_url(*request_.file) ? *request_.file : backup.dump.string();
  std::string table_args;
  for (const std::string& table : request_.tables) table_args += " --table " + table;
  text += "  to retry this restore once the cause is fixed: pgbackup-agent restore" + target_arg +
          db_arg + table_args + " " + retry_source + "\n";
  // The text first: it is what the operator needs now; the audit entries follow.
  std::fprintf(stderr, "%s", text.c_str());
  audit(step, "failure", {{"error", error}});
  audit("restore", "failure",
        {{"file", backup.dump.filename().string()},
         {"failed_step", step},
         {"error", error},
         {"safety_backup", safety_backup_ ? safety_backup_->filename().string() : ""}});
  return 1;
}

int ProductionRestore::run(const CatalogEntry& backup, std::istream& confirmation) {
  verify(backup);
  probe_database();
  print_plan(backup);
  if (!confirmed(confirmation)) {
    std::fprintf(stderr, "restore cancelled, nothing was changed (type YES to restore)\n");
    audit("restore", "cancelled", {{"file", backup.dump.filename().string()}});
    return 1;
  }
  take_safety_backup();
  dump_file_ = readable_dump(target_, backup, decrypted_, ctx_.cancel);
  std::string step = "stop_command";
  try {
    run_command(step, target_.restore.stop_command);
    stopped_ = !target_.restore.stop_command.empty();
    step = "create_roles";
    create_cluster_objects();
    step = "pg_restore";
    restore_data(backup);
    step = "database_settings";
    apply_database_statements();
    step = "row_counts";
    check_stopping();
    compare_counts();
  } catch (const std::exception& e) {
    return fail(step, e.what(), backup);
  }
  try {
    run_command("start_command", target_.restore.start_command);
  } catch (const OperationError& e) {
    audit("start_command", "failure", {{"error", e.what()}});
    audit("restore", "failure",
          {{"file", backup.dump.filename().string()},
           {"failed_step", "start_command"},
           {"error", e.what()}});
    std::fprintf(stderr,
                 "the database was restored and its row counts match the backup, but %s\n"
                 "  start the application yourself\n",
                 e.what());
    return 1;
  }
  std::printf("restored %s into %s\n", backup.dump.filename().c_str(),
              endpoint_.describe().c_str());
  audit("restore", "success",
        {{"file", backup.dump.filename().string()},
         {"safety_backup", safety_backup_ ? safety_backup_->filename().string() : ""}});
  return 0;
}

}  // namespace

CatalogEntry resolve_backup(const TargetConfig& target, const RestoreRequest& request) {
  const DumpCatalog repo(target.backup.dir, target.backup.file_prefix);
  const std::vector<CatalogEntry> entries = repo.scan();
  const std::optional<fs::path> file =
      request.file ? std::optional<fs::path>(*request.file) : std::nullopt;
  return select_backup(entries, file, target.backup.dir);
}

int restore_production(const Config& config, const TargetConfig& target,
                       const RestoreRequest& request, std::istream& confirmation,
                       const JobContext& ctx) {
  prepare_backup_dir(target.backup.dir);
  // Held from the plan to the end: no scheduled backup, prune or restore test runs meanwhile
  // (the safety backup is taken under it).
  const DirectoryLock lock(target.state_dir());
  // s3://bucket/key: a new server with nothing but the bucket (the seed's scenario 3). The copy
  // is checked against its manifest on arrival and removed when the restore is over.
  std::optional<FetchedBackup> fetched;
  if (request.file && is_s3_url(*request.file)) {
    fetched.emplace(fetch_offsite_backup(target, *request.file, target.state_dir(), ctx));
  }
  const CatalogEntry backup = fetched ? fetched->entry : resolve_backup(target, request);
  ProductionRestore restore(config, target, request, ctx);
  return restore.run(backup, confirmation);
}

}  // namespace pgbackup
