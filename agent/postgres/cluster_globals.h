#pragma once

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include <optional>
#include <string>
#include <vector>

namespace pgbackup {

// What one database needs from its cluster and a pg_dump of it does not carry: the roles and
// the database itself. Taken with each backup (the companion file, catalog/globals_file.h), it
// is what lets `restore` rebuild them on a new server.

// A role as CREATE ROLE would make it again.
struct RoleInfo {
  std::string name;
  bool superuser = false;
  bool inherit = true;
  bool createrole = false;
  bool createdb = false;
  bool login = false;
  bool replication = false;
  bool bypassrls = false;
  int connection_limit = -1;  // -1: no limit
  std::string valid_until;    // ISO 8601 UTC; empty: forever
  // The password verifier (SCRAM-SHA-256 or MD5) when the reading role may see it (superuser);
  // nullopt when it could not be read or the role has none (has_password tells which).
  // Secret: never printed, logged or put in a manifest.
  std::optional<std::string> password;
  bool has_password = false;  // only known when password could be read
  // ALTER ROLE ... SET, as pg_db_role_setting stores them ("name=value"): for every database,
  // and IN DATABASE this one.
  std::vector<std::string> settings;
  std::vector<std::string> database_settings;

  bool operator==(const RoleInfo&) const = default;
};

// GRANT role TO member [WITH ADMIN OPTION].
struct RoleMembership {
  std::string role;
  std::string member;
  bool admin_option = false;

  bool operator==(const RoleMembership&) const = default;
};

// The database as CREATE DATABASE / ALTER DATABASE would make it again.
struct DatabaseGlobals {
  std::string name;
  std::string owner;
  std::string encoding;         // "UTF8"
  std::string collate;          // LC_COLLATE
  std::string ctype;            // LC_CTYPE
  std::string locale_provider;  // "libc" or "icu"
  std::string icu_locale;       // with the icu provider
  int connection_limit = -1;
  std::vector<std::string> settings;  // ALTER DATABASE ... SET ("name=value")
  // Its access privileges as aclitem texts ("=Tc/owner", "app=c/owner"); nullopt: the default.
  std::optional<std::vector<std::string>> acl;
  std::string tablespace;                // its default tablespace
  std::vector<std::string> tablespaces;  // the others its tables or indexes use
};

struct ClusterGlobals {
  DatabaseGlobals database;
  // The roles that own objects in the database, hold privileges or settings in it, or are
  // members of those (recursively); by name. Predefined pg_* roles are never listed.
  std::vector<RoleInfo> roles;
  std::vector<RoleMembership> memberships;  // among `roles`
  bool passwords_included = false;          // the verifiers could be read
  std::vector<std::string> warnings;        // e.g. why the passwords are missing

  const RoleInfo* role(const std::string& name) const;
};

// Reads them for the connected database, in `tx`'s snapshot (catalog queries only). The
// password verifiers are read only when the connecting role may (a superuser); otherwise the
// roles come without them and a warning says so.
ClusterGlobals read_cluster_globals(pqxx::transaction_base& tx);

// What a server already has of `wanted`, for the restore plan (rules/cluster_plan.h).
struct ClusterState {
  std::string current_user;
  bool superuser = false;
  bool createrole = false;
  bool createdb = false;
  std::vector<RoleInfo> roles;              // those of wanted.roles that exist, no passwords
  std::vector<RoleMembership> memberships;  // the memberships among any of wanted.roles
  bool database_exists = false;             // the database the restore writes into
  std::vector<std::string> tablespaces;     // every tablespace the server has

  const RoleInfo* role(const std::string& name) const;
  bool has_membership(const RoleMembership& m) const;
};

// Whether the server has a database named `dbname`, from its catalog: the reliable way to tell a
// missing database from any other failed connection (servers translate their error texts).
bool database_exists(pqxx::transaction_base& tx, const std::string& dbname);

// Reads it from the connected server; `dbname` is the database the restore writes into.
ClusterState read_cluster_state(pqxx::transaction_base& tx, const ClusterGlobals& wanted,
                                const std::string& dbname);

// Runs a restore plan's statements (rules/cluster_plan.h) on `conn`: all in one transaction,
// or, without `in_transaction`, one by one (CREATE DATABASE cannot run inside one). They may
// hold password verifiers, so a failure names the statement's kind ("CREATE ROLE \"app\""),
// never its text. Throws OperationError starting with `what`.
void run_plan_statements(pqxx::connection& conn, const std::vector<std::string>& statements,
                         bool in_transaction, const std::string& what);

}  // namespace pgbackup
