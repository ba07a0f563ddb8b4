#include "agent/rules/cluster_plan.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "agent/core/text.h"

namespace pgbackup {
namespace {

bool contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::string flag(bool on, const char* name) { return (on ? "" : "NO") + std::string(name); }

// The settings pg_dump writes element by element (variable_is_guc_list_quote in PostgreSQL 15).
bool is_list_setting(std::string_view name) {
  static constexpr std::array<std::string_view, 6> kLists = {
      "local_preload_libraries",  "search_path",      "session_preload_libraries",
      "shared_preload_libraries", "temp_tablespaces", "unix_socket_directories"};
  return std::find(kLists.begin(), kLists.end(), name) != kLists.end();
}

// The elements of a list setting's stored value ("\"$user\", public"), de-quoted.
std::vector<std::string> split_setting_list(const std::string& value) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const auto skip_spaces = [&] {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
  };
  skip_spaces();
  while (i < value.size()) {
    std::string element;
    if (value[i] == '"') {
      for (++i; i < value.size(); ++i) {
        if (value[i] == '"') {
          if (i + 1 < value.size() && value[i + 1] == '"') {
            element += '"';
            ++i;
          } else {
            ++i;
            break;
          }
        } else {
          element += value[i];
        }
      }
    } else {
      while (i < value.size() && value[i] != ',') element += value[i++];
      while (!element.empty() && (element.back() == ' ' || element.back() == '\t')) {
        element.pop_back();
      }
    }
    out.push_back(element);
    skip_spaces();
    if (i < value.size() && value[i] == ',') ++i;
    skip_spaces();
  }
  return out;
}

std::string create_role_statement(const RoleInfo& r, RoleCreation mode) {
  const bool login = r.login && mode == RoleCreation::as_backed_up;
  std::string sql = "CREATE ROLE " + sql_identifier(r.name) + " WITH " +
                    flag(r.superuser, "SUPERUSER") + " " + flag(r.inherit, "INHERIT") + " " +
                    flag(r.createrole, "CREATEROLE") + " " + flag(r.createdb, "CREATEDB") + " " +
                    flag(login, "LOGIN") + " " + flag(r.replication, "REPLICATION") + " " +
                    flag(r.bypassrls, "BYPASSRLS") + " CONNECTION LIMIT " +
                    std::to_string(r.connection_limit);
  if (!r.valid_until.empty()) sql += " VALID UNTIL " + sql_literal(r.valid_until);
  if (mode == RoleCreation::as_backed_up && r.password)
    sql += " PASSWORD " + sql_literal(*r.password);
  return sql;
}

// How an existing role differs from the backup's (passwords are not compared: a server's
// verifiers are not read).
std::vector<std::string> role_differences(const RoleInfo& want, const RoleInfo& have) {
  std::vector<std::string> out;
  const auto attribute = [&](bool w, bool h, const char* name) {
    if (w != h) {
      out.push_back("role " + want.name + ": " + flag(w, name) + " in the backup, " +
                    flag(h, name) + " here");
    }
  };
  attribute(want.superuser, have.superuser, "SUPERUSER");
  attribute(want.inherit, have.inherit, "INHERIT");
  attribute(want.createrole, have.createrole, "CREATEROLE");
  attribute(want.createdb, have.createdb, "CREATEDB");
  attribute(want.login, have.login, "LOGIN");
  attribute(want.replication, have.replication, "REPLICATION");
  attribute(want.bypassrls, have.bypassrls, "BYPASSRLS");
  if (want.connection_limit != have.connection_limit) {
    out.push_back("role " + want.name + ": CONNECTION LIMIT " +
                  std::to_string(want.connection_limit) + " in the backup, " +
                  std::to_string(have.connection_limit) + " here");
  }
  if (want.valid_until != have.valid_until) {
    out.push_back("role " + want.name + ": VALID UNTIL " +
                  (want.valid_until.empty() ? "infinity" : want.valid_until) + " in the backup, " +
                  (have.valid_until.empty() ? "infinity" : have.valid_until) + " here");
  }
  if (want.settings != have.settings) {
    out.push_back("role " + want.name + ": settings [" + join(want.settings, ", ") +
                  "] in the backup, [" + join(have.settings, ", ") + "] here");
  }
  return out;
}

// A privilege letter of a database aclitem, as GRANT names it.
const char* database_privilege(char letter) {
  switch (letter) {
    case 'C':
      return "CREATE";
    case 'T':
      return "TEMPORARY";
    case 'c':
      return "CONNECT";
    default:
      return nullptr;
  }
}

struct AclItem {
  std::string grantee;                                   // empty: PUBLIC
  std::vector<std::pair<std::string, bool>> privileges;  // name, with grant option
};

// "grantee=privileges/grantor"; the grantee double-quoted when it needs to be.
std::optional<AclItem> parse_aclitem(const std::string& text) {
  AclItem item;
  std::size_t i = 0;
  if (i < text.size() && text[i] == '"') {
    for (++i; i < text.size(); ++i) {
      if (text[i] == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          item.grantee += '"';
          ++i;
        } else {
          ++i;
          break;
        }
      } else {
        item.grantee += text[i];
      }
    }
  } else {
    while (i < text.size() && text[i] != '=') item.grantee += text[i++];
  }
  if (i >= text.size() || text[i] != '=') return std::nullopt;
  for (++i; i < text.size() && text[i] != '/'; ++i) {
    const char* name = database_privilege(text[i]);
    if (!name) return std::nullopt;
    const bool grant_option = i + 1 < text.size() && text[i + 1] == '*';
    if (grant_option) ++i;
    item.privileges.emplace_back(name, grant_option);
  }
  return item;
}

}  // namespace

std::string sql_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string sql_literal(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string alter_set_statement(const std::string& subject, const std::string& setting) {
  const std::size_t eq = setting.find('=');
  const std::string name = setting.substr(0, eq);
  const std::string value = eq == std::string::npos ? "" : setting.substr(eq + 1);
  std::string sql = "ALTER " + subject + " SET " + sql_identifier(name) + " TO ";
  if (!is_list_setting(name)) return sql + sql_literal(value);
  std::vector<std::string> elements;
  for (const std::string& e : split_setting_list(value)) elements.push_back(sql_literal(e));
  return sql + (elements.empty() ? "''" : join(elements, ", "));
}

std::vector<std::string> database_privilege_statements(const std::string& db,
                                                       const std::string& owner,
                                                       const std::vector<std::string>& acl) {
  const std::string on = " ON DATABASE " + sql_identifier(db);
  std::vector<std::string> out = {"REVOKE ALL" + on + " FROM PUBLIC",
                                  "REVOKE ALL" + on + " FROM " + sql_identifier(owner)};
  for (const std::string& text : acl) {
    const std::optional<AclItem> item = parse_aclitem(text);
    if (!item) continue;  // not a database privilege: nothing this can grant
    const std::string grantee = item->grantee.empty() ? "PUBLIC" : sql_identifier(item->grantee);
    for (const auto& [privilege, grant_option] : item->privileges) {
      out.push_back("GRANT " + privilege + on + " TO " + grantee +
                    (grant_option ? " WITH GRANT OPTION" : ""));
    }
  }
  return out;
}

ClusterPlan plan_cluster(const ClusterGlobals& backup, const ClusterState& server,
                         RoleCreation roles, const std::string& dbname) {
  ClusterPlan plan;
  std::vector<std::string> needs_superuser;  // roles only a superuser may create
  for (const RoleInfo& want : backup.roles) {
    if (const RoleInfo* have = server.role(want.name)) {
      plan.existing_roles.push_back(want.name);
      for (std::string& d : role_differences(want, *have)) plan.differences.push_back(std::move(d));
      continue;
    }
    if (roles == RoleCreation::none) {
      plan.missing_roles.push_back(want.name);
      continue;
    }
    plan.create_roles.push_back(want.name);
    plan.role_statements.push_back(create_role_statement(want, roles));
    const std::string subject = "ROLE " + sql_identifier(want.name);
    for (const std::string& s : want.settings) {
      plan.role_statements.push_back(alter_set_statement(subject, s));
    }
    for (const std::string& s : want.database_settings) {
      plan.database_statements.push_back(
          alter_set_statement(subject + " IN DATABASE " + sql_identifier(dbname), s));
    }
    if (want.superuser || want.replication || want.bypassrls) needs_superuser.push_back(want.name);
  }
  for (const RoleMembership& m : backup.memberships) {
    if (server.has_membership(m)) continue;
    const bool role_created = contains(plan.create_roles, m.role);
    const bool member_created = contains(plan.create_roles, m.member);
    const bool role_there = role_created || server.role(m.role);
    const bool member_there = member_created || server.role(m.member);
    if (!role_there || !member_there) continue;  // a missing role: refused or reported already
    if (!role_created && !member_created) {
      plan.differences.push_back("role " + m.member + " is a member of " + m.role +
                                 " in the backup, not here");
      continue;
    }
    plan.grant_memberships.push_back(m.role + " TO " + m.member);
    plan.role_statements.push_back("GRANT " + sql_identifier(m.role) + " TO " +
                                   sql_identifier(m.member) +
                                   (m.admin_option ? " WITH ADMIN OPTION" : ""));
  }
  // Without superuser, giving objects to a role needs membership in it.
  if (!server.superuser) {
    for (const std::string& name : plan.create_roles) {
      plan.role_statements.push_back("GRANT " + sql_identifier(name) + " TO " +
                                     sql_identifier(server.current_user));
    }
  }

  const DatabaseGlobals& db = backup.database;
  std::vector<std::string> wanted_tablespaces = db.tablespaces;
  if (!db.tablespace.empty() && db.tablespace != "pg_default") {
    wanted_tablespaces.push_back(db.tablespace);
  }
  for (const std::string& ts : wanted_tablespaces) {
    if (!contains(server.tablespaces, ts) && !contains(plan.missing_tablespaces, ts)) {
      plan.missing_tablespaces.push_back(ts);
    }
  }
  if (!server.database_exists) {
    plan.create_database = true;
    std::string sql = "CREATE DATABASE " + sql_identifier(dbname) + " WITH OWNER " +
                      sql_identifier(db.owner) + " TEMPLATE template0 ENCODING " +
                      sql_literal(db.encoding) + " LOCALE_PROVIDER " + db.locale_provider +
                      " LC_COLLATE " + sql_literal(db.collate) + " LC_CTYPE " +
                      sql_literal(db.ctype);
    if (db.locale_provider == "icu") sql += " ICU_LOCALE " + sql_literal(db.icu_locale);
    sql += " CONNECTION LIMIT " + std::to_string(db.connection_limit);
    if (db.tablespace != "pg_default" && contains(server.tablespaces, db.tablespace)) {
      sql += " TABLESPACE " + sql_identifier(db.tablespace);
    }
    plan.create_database_statements.push_back(sql);
    const std::string subject = "DATABASE " + sql_identifier(dbname);
    std::vector<std::string> database_level;
    for (const std::string& s : db.settings)
      database_level.push_back(alter_set_statement(subject, s));
    if (db.acl) {
      for (std::string& s : database_privilege_statements(dbname, db.owner, *db.acl)) {
        database_level.push_back(std::move(s));
      }
    }
    plan.database_statements.insert(plan.database_statements.begin(), database_level.begin(),
                                    database_level.end());
  }

  // What the connecting role must be allowed, checked before anything is changed.
  std::vector<std::string> lacking;
  if (!server.superuser) {
    if (!plan.create_roles.empty() && !server.createrole) lacking.push_back("CREATEROLE");
    if (plan.create_database && !server.createdb) lacking.push_back("CREATEDB");
  }
  if (!lacking.empty()) {
    std::vector<std::string> what;
    if (!plan.create_roles.empty())
      what.push_back("create the roles " + join(plan.create_roles, ", "));
    if (plan.create_database) what.push_back("create the database " + dbname);
    plan.refusal = "the connecting role " + server.current_user + " may not " +
                   join(what, " and ") + ": it lacks " + join(lacking, " and ") +
                   "; nothing was changed (hint: connect as a superuser, or give it CREATEROLE "
                   "and CREATEDB: ALTER ROLE " +
                   sql_identifier(server.current_user) +
                   " CREATEROLE CREATEDB; or create the roles yourself and restore with "
                   "--no-roles)";
  } else if (!server.superuser && !needs_superuser.empty()) {
    plan.refusal = "the roles " + join(needs_superuser, ", ") +
                   " are SUPERUSER, REPLICATION or BYPASSRLS in the backup, which only a "
                   "superuser may create, and " +
                   server.current_user +
                   " is not one; nothing was changed (hint: connect as a superuser, or create "
                   "those roles yourself and restore again)";
  }
  return plan;
}

}  // namespace pgbackup
