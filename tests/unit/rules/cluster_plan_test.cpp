// What a restore does to a server that lacks the roles or the database a backup needs.
#include <catch2/catch.hpp>

#include <algorithm>

#include "agent/rules/cluster_plan.h"

using namespace pgbackup;

namespace {

RoleInfo role(const std::string& name, bool login) {
  RoleInfo r;
  r.name = name;
  r.login = login;
  return r;
}

// Server A of the issue: owner pnodepulse (LOGIN, a password, a setting), a NOLOGIN read-only
// role with a member, database privileges and a setting.
ClusterGlobals pnode_pulse() {
  ClusterGlobals g;
  RoleInfo owner = role("pnodepulse", true);
  owner.password = "SCRAM-SHA-256$4096:c2FsdA==$a:b";
  owner.has_password = true;
  owner.settings = {"search_path=\"$user\", public, app", "statement_timeout=30s"};
  owner.database_settings = {"work_mem=64MB"};
  g.roles = {owner, role("readonly", false), role("grafana", true)};
  g.memberships = {{"readonly", "grafana", false}};
  g.database = {"pnodepulse",
                "pnodepulse",
                "UTF8",
                "C",
                "C",
                "libc",
                "",
                50,
                {"timezone=UTC"},
                {std::vector<std::string>{"=Tc/pnodepulse", "pnodepulse=CTc/pnodepulse",
                                          "readonly=c/pnodepulse"}},
                "pg_default",
                {}};
  g.passwords_included = true;
  return g;
}

ClusterState empty_server(bool superuser = true) {
  ClusterState s;
  s.current_user = "agent";
  s.superuser = superuser;
  s.tablespaces = {"pg_default", "pg_global"};
  return s;
}

bool has(const std::vector<std::string>& v, const std::string& item) {
  return std::find(v.begin(), v.end(), item) != v.end();
}

}  // namespace

TEST_CASE("a new server: every role and the database are created as they were") {
  const ClusterPlan plan =
      plan_cluster(pnode_pulse(), empty_server(), RoleCreation::as_backed_up, "pnodepulse");
  CHECK(plan.refusal.empty());
  CHECK(plan.create_roles == std::vector<std::string>{"pnodepulse", "readonly", "grafana"});
  CHECK(plan.existing_roles.empty());
  CHECK(plan.grant_memberships == std::vector<std::string>{"readonly TO grafana"});
  CHECK(plan.create_database);
  CHECK(plan.role_statements ==
        std::vector<std::string>{
            "CREATE ROLE \"pnodepulse\" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN "
            "NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1 PASSWORD "
            "'SCRAM-SHA-256$4096:c2FsdA==$a:b'",
            "ALTER ROLE \"pnodepulse\" SET \"search_path\" TO '$user', 'public', 'app'",
            "ALTER ROLE \"pnodepulse\" SET \"statement_timeout\" TO '30s'",
            "CREATE ROLE \"readonly\" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN "
            "NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1",
            "CREATE ROLE \"grafana\" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN "
            "NOREPLICATION NOBYPASSRLS CONNECTION LIMIT -1",
            "GRANT \"readonly\" TO \"grafana\""});
  CHECK(plan.create_database_statements ==
        std::vector<std::string>{"CREATE DATABASE \"pnodepulse\" WITH OWNER \"pnodepulse\" "
                                 "TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc "
                                 "LC_COLLATE 'C' LC_CTYPE 'C' CONNECTION LIMIT 50"});
  CHECK(plan.database_statements ==
        std::vector<std::string>{
            "ALTER DATABASE \"pnodepulse\" SET \"timezone\" TO 'UTC'",
            "REVOKE ALL ON DATABASE \"pnodepulse\" FROM PUBLIC",
            "REVOKE ALL ON DATABASE \"pnodepulse\" FROM \"pnodepulse\"",
            "GRANT TEMPORARY ON DATABASE \"pnodepulse\" TO PUBLIC",
            "GRANT CONNECT ON DATABASE \"pnodepulse\" TO PUBLIC",
            "GRANT CREATE ON DATABASE \"pnodepulse\" TO \"pnodepulse\"",
            "GRANT TEMPORARY ON DATABASE \"pnodepulse\" TO \"pnodepulse\"",
            "GRANT CONNECT ON DATABASE \"pnodepulse\" TO \"pnodepulse\"",
            "GRANT CONNECT ON DATABASE \"pnodepulse\" TO \"readonly\"",
            "ALTER ROLE \"pnodepulse\" IN DATABASE \"pnodepulse\" SET \"work_mem\" TO '64MB'"});
}

TEST_CASE("an existing role is never altered; how it differs is reported") {
  ClusterState server = empty_server();
  RoleInfo grafana = role("grafana", false);
  grafana.connection_limit = 5;
  server.roles = {grafana};
  server.database_exists = true;
  const ClusterPlan plan =
      plan_cluster(pnode_pulse(), server, RoleCreation::as_backed_up, "pnodepulse");
  CHECK(plan.existing_roles == std::vector<std::string>{"grafana"});
  CHECK(plan.create_roles == std::vector<std::string>{"pnodepulse", "readonly"});
  CHECK(plan.differences ==
        std::vector<std::string>{"role grafana: LOGIN in the backup, NOLOGIN here",
                                 "role grafana: CONNECTION LIMIT -1 in the backup, 5 here"});
  for (const std::string& sql : plan.role_statements) {
    CHECK(sql.find("ALTER ROLE \"grafana\"") == std::string::npos);
    CHECK(sql.find("CREATE ROLE \"grafana\"") == std::string::npos);
  }
  // A membership with a new role is granted; the database exists and is not touched.
  CHECK(has(plan.role_statements, "GRANT \"readonly\" TO \"grafana\""));
  CHECK_FALSE(plan.create_database);
  CHECK(plan.create_database_statements.empty());
  CHECK(plan.database_statements ==
        std::vector<std::string>{
            "ALTER ROLE \"pnodepulse\" IN DATABASE \"pnodepulse\" SET \"work_mem\" TO '64MB'"});
}

TEST_CASE("a membership between two existing roles is reported, not granted") {
  ClusterState server = empty_server();
  server.roles = {role("readonly", false), role("grafana", true)};
  const ClusterPlan plan =
      plan_cluster(pnode_pulse(), server, RoleCreation::as_backed_up, "pnodepulse");
  CHECK(plan.grant_memberships.empty());
  CHECK(has(plan.differences, "role grafana is a member of readonly in the backup, not here"));
}

TEST_CASE("restore tests create missing roles NOLOGIN and without passwords") {
  const ClusterPlan plan =
      plan_cluster(pnode_pulse(), empty_server(), RoleCreation::nologin, "scratch");
  REQUIRE(plan.role_statements.size() >= 1);
  for (const std::string& sql : plan.role_statements) {
    CHECK(sql.find("PASSWORD") == std::string::npos);
    CHECK(sql.find(" LOGIN") == std::string::npos);
  }
  CHECK(has(plan.database_statements,
            "ALTER ROLE \"pnodepulse\" IN DATABASE \"scratch\" SET \"work_mem\" TO '64MB'"));
}

TEST_CASE("with --no-roles no role is created and the missing ones are listed") {
  const ClusterPlan plan =
      plan_cluster(pnode_pulse(), empty_server(), RoleCreation::none, "pnodepulse");
  CHECK(plan.create_roles.empty());
  CHECK(plan.missing_roles == std::vector<std::string>{"pnodepulse", "readonly", "grafana"});
  CHECK(plan.role_statements.empty());
  CHECK(plan.create_database);  // the database is still created
}

TEST_CASE("the connecting role's privileges decide, before anything changes") {
  struct Case {
    const char* situation;
    bool superuser, createrole, createdb, database_exists;
    const char* refusal_part;  // "" when allowed
  };
  const Case cases[] = {
      {"superuser", true, false, false, false, ""},
      {"CREATEROLE and CREATEDB", false, true, true, false, ""},
      {"no CREATEROLE", false, false, true, false, "it lacks CREATEROLE;"},
      {"no CREATEDB, database missing", false, true, false, false, "it lacks CREATEDB;"},
      {"no CREATEDB, database there", false, true, false, true, ""},
      {"neither", false, false, false, false, "it lacks CREATEROLE and CREATEDB;"},
  };
  for (const Case& c : cases) {
    INFO(c.situation);
    ClusterState server = empty_server(c.superuser);
    server.createrole = c.createrole;
    server.createdb = c.createdb;
    server.database_exists = c.database_exists;
    const ClusterPlan plan =
        plan_cluster(pnode_pulse(), server, RoleCreation::as_backed_up, "pnodepulse");
    if (std::string(c.refusal_part).empty()) {
      CHECK(plan.refusal.empty());
    } else {
      CHECK_THAT(plan.refusal, Catch::Contains(c.refusal_part));
      CHECK_THAT(plan.refusal, Catch::Contains("nothing was changed"));
      CHECK_THAT(plan.refusal, Catch::Contains("ALTER ROLE \"agent\" CREATEROLE CREATEDB"));
    }
  }
}

TEST_CASE("without superuser, new roles are granted to the agent's role and superusers refused") {
  ClusterState server = empty_server(false);
  server.createrole = server.createdb = true;
  ClusterPlan plan = plan_cluster(pnode_pulse(), server, RoleCreation::as_backed_up, "pnodepulse");
  CHECK(has(plan.role_statements, "GRANT \"pnodepulse\" TO \"agent\""));
  ClusterGlobals g = pnode_pulse();
  g.roles[1].superuser = true;
  plan = plan_cluster(g, server, RoleCreation::as_backed_up, "pnodepulse");
  CHECK_THAT(plan.refusal, Catch::StartsWith("the roles readonly are SUPERUSER"));
}

TEST_CASE("a tablespace the server lacks is reported and not named in CREATE DATABASE") {
  ClusterGlobals g = pnode_pulse();
  g.database.tablespace = "fast";
  g.database.tablespaces = {"archive"};
  const ClusterPlan plan = plan_cluster(g, empty_server(), RoleCreation::as_backed_up, "db");
  CHECK(plan.missing_tablespaces == std::vector<std::string>{"archive", "fast"});
  CHECK(plan.create_database_statements.front().find("TABLESPACE") == std::string::npos);
}

TEST_CASE("settings and privileges are quoted as SQL") {
  struct Case {
    const char* setting;
    const char* sql;
  };
  const Case cases[] = {
      {"statement_timeout=30s", "ALTER ROLE r SET \"statement_timeout\" TO '30s'"},
      {"application_name=it's", "ALTER ROLE r SET \"application_name\" TO 'it''s'"},
      {"search_path=public", "ALTER ROLE r SET \"search_path\" TO 'public'"},
      {"search_path=\"My Schema\", public",
       "ALTER ROLE r SET \"search_path\" TO 'My Schema', 'public'"},
      {"search_path=\"a\"\"b\"", "ALTER ROLE r SET \"search_path\" TO 'a\"b'"},
      {"search_path=", "ALTER ROLE r SET \"search_path\" TO ''"},
      {"temp_tablespaces=a,b", "ALTER ROLE r SET \"temp_tablespaces\" TO 'a', 'b'"},
  };
  for (const Case& c : cases) {
    INFO(c.setting);
    CHECK(alter_set_statement("ROLE r", c.setting) == c.sql);
  }
  CHECK(sql_identifier("we\"ird") == "\"we\"\"ird\"");
  CHECK(database_privilege_statements("d", "o", {"\"odd \"\"name\"=c*/o", "junk"}) ==
        std::vector<std::string>{"REVOKE ALL ON DATABASE \"d\" FROM PUBLIC",
                                 "REVOKE ALL ON DATABASE \"d\" FROM \"o\"",
                                 "GRANT CONNECT ON DATABASE \"d\" TO \"odd \"\"name\" WITH GRANT "
                                 "OPTION"});
}
