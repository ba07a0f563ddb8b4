#pragma once

#include <string>
#include <vector>

#include "agent/postgres/cluster_globals.h"

namespace pgbackup {

// How a restore treats the roles a backup needs and the server lacks.
enum class RoleCreation {
  as_backed_up,  // create them as they were: attributes, passwords, settings, memberships
  nologin,       // the same, but NOLOGIN and without passwords (restore tests)
  none,          // create none (--no-roles); a missing one is then a refusal
};

// What a restore does to a server before pg_restore, decided from the backup's companion file
// and what the server has (a pure decision; postgres/cluster_globals.h reads both).
struct ClusterPlan {
  std::vector<std::string> create_roles;    // missing roles that will be created
  std::vector<std::string> missing_roles;   // missing roles that will NOT be (RoleCreation::none)
  std::vector<std::string> existing_roles;  // needed roles the server has; never altered
  // How existing roles differ from the backup's ("role app: LOGIN in the backup, NOLOGIN here").
  std::vector<std::string> differences;
  std::vector<std::string> grant_memberships;  // "readonly TO app"
  std::vector<std::string> missing_tablespaces;
  bool create_database = false;
  // SQL, in order. Role statements may hold password verifiers: never print or log them.
  std::vector<std::string> role_statements;
  std::vector<std::string> create_database_statements;  // outside a transaction, on another db
  std::vector<std::string> database_statements;         // after pg_restore: settings, privileges
  // Why the connecting role cannot carry the plan out; empty when it can.
  std::string refusal;
};

// `dbname`: the database the restore writes into (the backup's, or --dbname).
ClusterPlan plan_cluster(const ClusterGlobals& backup, const ClusterState& server,
                         RoleCreation roles, const std::string& dbname);

// SQL quoting (standard_conforming_strings on, as on every supported server).
std::string sql_identifier(const std::string& name);
std::string sql_literal(const std::string& text);
// ALTER ROLE/DATABASE ... SET for one "name=value" of pg_db_role_setting; `subject` is e.g.
// `ROLE "app"` or `ROLE "app" IN DATABASE "db"`. List settings (search_path, ...) are split
// into their elements, as pg_dump does.
std::string alter_set_statement(const std::string& subject, const std::string& setting);
// GRANT/REVOKE statements that give database `db` (owned by `owner`) the privileges of `acl`
// (aclitem texts: "grantee=privileges/grantor", grantee empty for PUBLIC).
std::vector<std::string> database_privilege_statements(const std::string& db,
                                                       const std::string& owner,
                                                       const std::vector<std::string>& acl);

}  // namespace pgbackup
