// The pg_dump restorer's look at the server (engines/pg_dump/dump_restore.h): whether the
// database answers, the TimescaleDB version it can take, the roles and the database the backup's
// companion file says it needs, and creating them once the application is stopped.
#include <cstdio>

#include "agent/core/errors.h"
#include "agent/core/text.h"
#include "agent/engines/pg_dump/dump_restore.h"

namespace pgbackup {
namespace {

constexpr const char* kTimescale = "timescaledb";

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

}  // namespace

// A hypertable's rows live in its chunks, which TimescaleDB's catalog ties to it (chunk,
// dimension_slice, compression tables, continuous aggregates' invalidation logs): a partial
// restore of the table alone cannot bring those back consistently, so it is refused, with the
// seed's alternative (scenario 2): restore into a scratch database and copy the rows over.
void PgDumpRestorer::refuse_partial_hypertables() const {
  for (const TableRows& t : tables_) {
    if (t.kind != RelationKind::hypertable) continue;
    const DatabaseConfig& db = endpoint_.config();
    const std::string scratch = db.dbname + "_scratch";
    const std::string psql =
        "psql -h " + db.host + " -p " + std::to_string(db.port) + " -U " + db.user + " -d ";
    throw OperationError(
        "--table " + qualified_name(t) + " is a TimescaleDB hypertable (" +
        std::to_string(t.chunks) + " chunks, " + std::to_string(t.compressed_chunks) +
        " compressed): its rows live in chunks that TimescaleDB's catalog ties to it, which a "
        "partial restore cannot bring back consistently; nothing was changed (hint: restore the "
        "whole backup into a scratch database and copy the rows you need: createdb -h " +
        db.host + " -p " + std::to_string(db.port) + " -U " + db.user + " " + scratch +
        " && pgbackup-agent restore --target " + target_.name + " --dbname " + scratch + " " +
        backup_.dump.string() + ", then " + psql + scratch + " -c \"\\copy (SELECT * FROM " +
        qualified_name(t) + " WHERE ...) TO rows.csv\" and " + psql + db.dbname + " -c \"\\copy " +
        qualified_name(t) + " FROM rows.csv\")");
  }
}

std::unique_ptr<pqxx::connection> PgDumpRestorer::connect_maintenance() const {
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
void PgDumpRestorer::probe_database() {
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
  if (database_missing) {
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
void PgDumpRestorer::plan_cluster_objects(pqxx::connection& conn) {
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
    journal_.audit("plan", "refused", {{"error", refusal}});
    throw OperationError(refusal);
  }
}

// The plan's lines about roles, the new database and tablespaces (never a statement: they may
// hold password verifiers).
void PgDumpRestorer::print_cluster_plan() const {
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
void PgDumpRestorer::create_cluster_objects() {
  if (!cluster_ || (cluster_->role_statements.empty() && !cluster_->create_database)) return;
  journal_.check_stopping();
  const auto conn = endpoint_.connect(cluster_->create_database ? "postgres" : "");
  if (!cluster_->role_statements.empty()) {
    run_plan_statements(*conn, cluster_->role_statements, true,
                        "creating the roles " + join(cluster_->create_roles, ", "));
    roles_created_ = !cluster_->create_roles.empty();
    if (roles_created_) {
      std::printf("created roles: %s\n", join(cluster_->create_roles, ", ").c_str());
    }
    journal_.audit(
        "create_roles", "success",
        {{"roles", cluster_->create_roles}, {"memberships", cluster_->grant_memberships}});
  }
  if (cluster_->create_database) {
    run_plan_statements(*conn, cluster_->create_database_statements, false,
                        "creating the database " + dbname());
    database_created_ = true;
    std::printf("created database %s (owner %s)\n", dbname().c_str(),
                globals_->database.owner.c_str());
    journal_.audit("create_database", "success", {{"owner", globals_->database.owner}});
  }
}

// After pg_restore: the database's own settings and privileges, and the created roles'
// settings in it.
void PgDumpRestorer::apply_database_statements() {
  if (!cluster_ || cluster_->database_statements.empty()) return;
  const auto conn = endpoint_.connect();
  run_plan_statements(*conn, cluster_->database_statements, true,
                      "applying the database's settings and privileges");
  journal_.audit("database_settings", "success",
                 {{"statements", cluster_->database_statements.size()}});
}

}  // namespace pgbackup
