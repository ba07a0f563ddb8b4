#include "agent/postgres/cluster_globals.h"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <algorithm>

#include "agent/core/errors.h"

namespace pgbackup {
namespace {

// The roles the current database needs: every role pg_shdepend ties to an object in it (owner,
// privileges, policies), to the database object itself (its privileges), the owners of its
// non-system objects (the bootstrap superuser's ownership is not in pg_shdepend), roles with
// settings IN DATABASE it, and the members of all those, recursively.
constexpr const char* kNeededRoles = R"SQL(
WITH RECURSIVE db AS (
  SELECT oid FROM pg_database WHERE datname = current_database()
), user_namespaces AS (
  SELECT oid FROM pg_namespace
   WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND nspname NOT LIKE 'pg_temp_%' AND nspname NOT LIKE 'pg_toast_temp_%'
), direct(oid) AS (
  SELECT refobjid FROM pg_shdepend
   WHERE dbid = (SELECT oid FROM db) AND refclassid = 'pg_authid'::regclass
  UNION SELECT refobjid FROM pg_shdepend
   WHERE dbid = 0 AND classid = 'pg_database'::regclass AND objid = (SELECT oid FROM db)
     AND refclassid = 'pg_authid'::regclass
  UNION SELECT datdba FROM pg_database WHERE oid = (SELECT oid FROM db)
  UNION SELECT nspowner FROM pg_namespace WHERE oid IN (SELECT oid FROM user_namespaces)
  UNION SELECT relowner FROM pg_class WHERE relnamespace IN (SELECT oid FROM user_namespaces)
  UNION SELECT proowner FROM pg_proc WHERE pronamespace IN (SELECT oid FROM user_namespaces)
  UNION SELECT typowner FROM pg_type WHERE typnamespace IN (SELECT oid FROM user_namespaces)
  UNION SELECT setrole FROM pg_db_role_setting
   WHERE setdatabase = (SELECT oid FROM db) AND setrole <> 0
), needed(oid) AS (
  SELECT oid FROM direct
  UNION SELECT m.member FROM pg_auth_members m JOIN needed n ON m.roleid = n.oid
)
SELECT json_agg(r.rolname ORDER BY r.rolname)::text
  FROM pg_roles r WHERE r.oid IN (SELECT oid FROM needed) AND r.rolname !~ '^pg_'
)SQL";

// The attributes and settings of the roles named in $1 (a JSON array), by name.
constexpr const char* kRoles = R"SQL(
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls, r.rolconnlimit,
       COALESCE(to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), ''),
       COALESCE((SELECT array_to_json(s.setconfig)::text FROM pg_db_role_setting s
                  WHERE s.setrole = r.oid AND s.setdatabase = 0), '[]'),
       COALESCE((SELECT array_to_json(s.setconfig)::text FROM pg_db_role_setting s
                  WHERE s.setrole = r.oid
                    AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $2)), '[]')
  FROM pg_roles r
 WHERE r.rolname IN (SELECT json_array_elements_text($1::json))
 ORDER BY r.rolname
)SQL";

constexpr const char* kMemberships = R"SQL(
SELECT g.rolname, m.rolname, a.admin_option
  FROM pg_auth_members a
  JOIN pg_roles g ON g.oid = a.roleid
  JOIN pg_roles m ON m.oid = a.member
 WHERE g.rolname IN (SELECT json_array_elements_text($1::json))
   AND m.rolname IN (SELECT json_array_elements_text($1::json))
 ORDER BY g.rolname, m.rolname
)SQL";

constexpr const char* kDatabase = R"SQL(
SELECT d.datname, pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate,
       d.datctype, CASE d.datlocprovider WHEN 'i' THEN 'icu' ELSE 'libc' END,
       COALESCE(d.daticulocale, ''), d.datconnlimit,
       COALESCE(array_to_json(d.datacl::text[])::text, 'null'), t.spcname,
       COALESCE((SELECT array_to_json(s.setconfig)::text FROM pg_db_role_setting s
                  WHERE s.setrole = 0 AND s.setdatabase = d.oid), '[]'),
       (SELECT COALESCE(json_agg(DISTINCT ts.spcname), '[]')::text
          FROM pg_class c JOIN pg_tablespace ts ON ts.oid = c.reltablespace
         WHERE c.reltablespace <> 0)
  FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
 WHERE d.datname = current_database()
)SQL";

std::vector<std::string> strings_of(const pqxx::field& f) {
  return nlohmann::json::parse(f.as<std::string>()).get<std::vector<std::string>>();
}

std::vector<RoleInfo> read_roles(pqxx::transaction_base& tx, const std::string& names_json,
                                 const std::string& dbname) {
  std::vector<RoleInfo> roles;
  for (const auto& row : tx.exec_params(kRoles, names_json, dbname)) {
    RoleInfo r;
    r.name = row[0].as<std::string>();
    r.superuser = row[1].as<bool>();
    r.inherit = row[2].as<bool>();
    r.createrole = row[3].as<bool>();
    r.createdb = row[4].as<bool>();
    r.login = row[5].as<bool>();
    r.replication = row[6].as<bool>();
    r.bypassrls = row[7].as<bool>();
    r.connection_limit = row[8].as<int>();
    r.valid_until = row[9].as<std::string>();
    r.settings = strings_of(row[10]);
    r.database_settings = strings_of(row[11]);
    roles.push_back(std::move(r));
  }
  return roles;
}

std::vector<RoleMembership> read_memberships(pqxx::transaction_base& tx,
                                             const std::string& names_json) {
  std::vector<RoleMembership> out;
  for (const auto& row : tx.exec_params(kMemberships, names_json)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>()});
  }
  return out;
}

std::string names_json(const std::vector<RoleInfo>& roles) {
  nlohmann::json names = nlohmann::json::array();
  for (const RoleInfo& r : roles) names.push_back(r.name);
  return names.dump();
}

bool current_user_is_superuser(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0].as<bool>();
}

}  // namespace

const RoleInfo* ClusterGlobals::role(const std::string& name) const {
  const auto it =
      std::find_if(roles.begin(), roles.end(), [&](const RoleInfo& r) { return r.name == name; });
  return it == roles.end() ? nullptr : &*it;
}

const RoleInfo* ClusterState::role(const std::string& name) const {
  const auto it =
      std::find_if(roles.begin(), roles.end(), [&](const RoleInfo& r) { return r.name == name; });
  return it == roles.end() ? nullptr : &*it;
}

bool ClusterState::has_membership(const RoleMembership& m) const {
  return std::any_of(memberships.begin(), memberships.end(), [&](const RoleMembership& have) {
    return have.role == m.role && have.member == m.member;
  });
}

ClusterGlobals read_cluster_globals(pqxx::transaction_base& tx) {
  ClusterGlobals g;
  const pqxx::row d = tx.exec1(kDatabase);
  DatabaseGlobals& db = g.database;
  db.name = d[0].as<std::string>();
  db.owner = d[1].as<std::string>();
  db.encoding = d[2].as<std::string>();
  db.collate = d[3].as<std::string>();
  db.ctype = d[4].as<std::string>();
  db.locale_provider = d[5].as<std::string>();
  db.icu_locale = d[6].as<std::string>();
  db.connection_limit = d[7].as<int>();
  if (const auto acl = nlohmann::json::parse(d[8].as<std::string>()); !acl.is_null()) {
    db.acl = acl.get<std::vector<std::string>>();
  }
  db.tablespace = d[9].as<std::string>();
  db.settings = strings_of(d[10]);
  db.tablespaces = strings_of(d[11]);

  const pqxx::row needed = tx.exec1(kNeededRoles);
  const std::string names = needed[0].is_null() ? "[]" : needed[0].as<std::string>();
  g.roles = read_roles(tx, names, db.name);
  g.memberships = read_memberships(tx, names);

  // pg_authid (the verifiers) is for superusers only.
  if (current_user_is_superuser(tx)) {
    for (const auto& row :
         tx.exec_params("SELECT rolname, rolpassword FROM pg_authid "
                        "WHERE rolname IN (SELECT json_array_elements_text($1::json))",
                        names)) {
      for (RoleInfo& r : g.roles) {
        if (r.name != row[0].as<std::string>()) continue;
        r.has_password = !row[1].is_null();
        if (r.has_password) r.password = row[1].as<std::string>();
      }
    }
    g.passwords_included = true;
  } else {
    g.warnings.push_back(
        "the roles' passwords are not included: only a superuser may read them (pg_authid); "
        "after a restore onto a new server set them with ALTER ROLE ... PASSWORD");
  }
  return g;
}

bool database_exists(pqxx::transaction_base& tx, const std::string& dbname) {
  return !tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", dbname).empty();
}

ClusterState read_cluster_state(pqxx::transaction_base& tx, const ClusterGlobals& wanted,
                                const std::string& dbname) {
  ClusterState s;
  const pqxx::row me = tx.exec1(
      "SELECT current_user, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
      "WHERE rolname = current_user");
  s.current_user = me[0].as<std::string>();
  s.superuser = me[1].as<bool>();
  s.createrole = me[2].as<bool>();
  s.createdb = me[3].as<bool>();
  const std::string names = names_json(wanted.roles);
  s.roles = read_roles(tx, names, dbname);
  s.memberships = read_memberships(tx, names);
  s.database_exists = database_exists(tx, dbname);
  for (const auto& row : tx.exec("SELECT spcname FROM pg_tablespace ORDER BY spcname")) {
    s.tablespaces.push_back(row[0].as<std::string>());
  }
  return s;
}

namespace {

// The statement up to its first literal: `CREATE ROLE "app" WITH ... PASSWORD '...'` becomes
// `CREATE ROLE "app" WITH ...` cut before the first quote, which is where a secret could start.
std::string statement_kind(const std::string& sql) {
  std::string kind = sql.substr(0, sql.find('\''));
  if (kind.size() > 80) kind = kind.substr(0, 80) + "...";
  while (!kind.empty() && kind.back() == ' ') kind.pop_back();
  return kind;
}

}  // namespace

void run_plan_statements(pqxx::connection& conn, const std::vector<std::string>& statements,
                         bool in_transaction, const std::string& what) {
  if (statements.empty()) return;
  const std::string* current = nullptr;
  try {
    if (in_transaction) {
      pqxx::work tx(conn);
      for (const std::string& sql : statements) {
        current = &sql;
        tx.exec0(sql);
      }
      current = nullptr;
      tx.commit();
    } else {
      pqxx::nontransaction tx(conn);
      for (const std::string& sql : statements) {
        current = &sql;
        tx.exec0(sql);
      }
    }
  } catch (const pqxx::failure& e) {
    std::string error = e.what();
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    throw OperationError(what + ": " + error +
                         (current ? " (in " + statement_kind(*current) + ")" : ""));
  }
}

}  // namespace pgbackup
