// Disaster recovery onto a brand-new server (the seed's scenario 3): a backup taken on server A
// (the shared cluster) restored onto server B (a second cluster with nothing but its
// superuser), the roles and the database created from the backup's companion file.
#include <catch2/catch.hpp>

#include <pqxx/pqxx>

#include <algorithm>

#include "tests/support/s3_server.h"
#include "tests/support/target.h"

using namespace pgtest;

namespace {

constexpr const char* kOwnerPassword = "owner-old-Pa55word";

// The database of `t` on server A as the seed's app has it: owned by ns_owner (a login role
// with a password and a setting), a NOLOGIN read-only role with SELECT, an app role that is a
// member of it, database settings and privileges.
void give_roles(const TestTarget& t) {
  PgCluster& a = PgCluster::shared();
  // Created once per test process: the roles own the databases of the earlier tests.
  if (a.query_value("SELECT count(*) FROM pg_roles WHERE rolname = 'ns_owner'") == "0") {
    a.exec("CREATE ROLE ns_owner LOGIN PASSWORD '" + std::string(kOwnerPassword) +
           "'; CREATE ROLE ns_readonly NOLOGIN; CREATE ROLE ns_app LOGIN;"
           "GRANT ns_readonly TO ns_app; ALTER ROLE ns_owner SET statement_timeout = '30s'");
  }
  a.exec("ALTER DATABASE " + t.db + " OWNER TO ns_owner; ALTER DATABASE " + t.db +
         " SET work_mem = '8MB'; REVOKE CONNECT ON DATABASE " + t.db +
         " FROM PUBLIC; GRANT CONNECT ON DATABASE " + t.db + " TO ns_readonly");
  a.exec(
      "ALTER TABLE nodes OWNER TO ns_owner; ALTER TABLE node_metrics OWNER TO ns_owner;"
      "GRANT SELECT ON nodes, node_metrics TO ns_readonly;",
      t.db);
}

// Server B as a new one: none of the tests' databases or roles.
void reset_server_b() {
  PgCluster& b = PgCluster::second();
  pqxx::connection conn(b.connection_string("postgres"));
  pqxx::nontransaction tx(conn);
  for (const auto& row : tx.exec("SELECT datname FROM pg_database WHERE datname NOT IN "
                                 "('postgres', 'template0', 'template1')")) {
    tx.exec("DROP DATABASE " + tx.quote_name(row[0].as<std::string>()) + " WITH (FORCE)");
  }
  b.exec(
      "DROP ROLE IF EXISTS ns_app; DROP ROLE IF EXISTS ns_owner; DROP ROLE IF EXISTS ns_readonly;"
      "DROP ROLE IF EXISTS ns_agent; DROP ROLE IF EXISTS ns_backup");
}

bool role_exists(PgCluster& pg, const std::string& role) {
  return pg.query_value("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'") == "1";
}

// Whether `role` logs in on `pg` with `password` (scram-sha-256 over TCP).
bool logs_in(const PgCluster& pg, const std::string& role, const std::string& password,
             const std::string& db) {
  try {
    pqxx::connection conn("host=127.0.0.1 port=" + std::to_string(pg.port()) + " user=" + role +
                          " password=" + password + " dbname=" + db);
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT current_user")[0].as<std::string>() == role;
  } catch (const std::exception&) {
    return false;
  }
}

// Everything scenario 3 must bring back on B: owners, grants, memberships, settings, the app
// role's old password, the rows.
void check_restored_on_b(const TestTarget& t, const std::map<std::string, long long>& counts) {
  PgCluster& b = PgCluster::second();
  CHECK(b.table_counts(t.db) == counts);
  CHECK(b.query_value("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" + t.db +
                      "'") == "ns_owner");
  CHECK(b.query_value("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'nodes'",
                      t.db) == "ns_owner");
  CHECK(b.query_value("SELECT has_table_privilege('ns_readonly', 'public.nodes', 'SELECT')",
                      t.db) == "t");
  CHECK(b.query_value("SELECT has_table_privilege('ns_readonly', 'public.nodes', 'INSERT')",
                      t.db) == "f");
  CHECK(b.query_value("SELECT pg_has_role('ns_app', 'ns_readonly', 'MEMBER')") == "t");
  CHECK(b.query_value("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'ns_readonly'") == "f");
  CHECK(b.query_value("SELECT array_to_string(rolconfig, ',') FROM pg_roles "
                      "WHERE rolname = 'ns_owner'") == "statement_timeout=30s");
  CHECK(b.query_value("SELECT array_to_string(s.setconfig, ',') FROM pg_db_role_setting s "
                      "JOIN pg_database d ON d.oid = s.setdatabase "
                      "WHERE s.setrole = 0 AND d.datname = '" +
                      t.db + "'") == "work_mem=8MB");
  CHECK(b.query_value("SELECT has_database_privilege('ns_readonly', '" + t.db + "', 'CONNECT')") ==
        "t");
  CHECK(b.query_value("SELECT has_database_privilege('ns_app', '" + t.db +
                      "', 'CONNECT') AND NOT has_database_privilege('public', '" + t.db +
                      "', 'CONNECT')") == "t");
  CHECK(logs_in(b, "ns_owner", kOwnerPassword, t.db));
  CHECK_FALSE(logs_in(b, "ns_owner", "a-wrong-password", t.db));
}

// Neither the password nor its verifier reaches the output or the audit log.
void check_no_secrets(const TestTarget& t, const AgentRun& run) {
  for (const std::string& text :
       {run.out, run.err, read_text_file(t.dir / ".pgbackup/audit.jsonl")}) {
    CHECK(text.find(kOwnerPassword) == std::string::npos);
    CHECK(text.find("SCRAM-SHA-256$") == std::string::npos);
  }
}

}  // namespace

TEST_CASE(
    "a local backup restores onto a new server: it creates the roles and the database, with "
    "owners, grants and settings",
    "[new_server]") {
  TestTarget t("newsrv", 10);
  give_roles(t);
  reset_server_b();
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const auto counts = PgCluster::shared().table_counts(t.db);

  // Server A is lost; the agent's config now points at B.
  t.write_config(TestTarget::database_yaml(t.db, PgCluster::second()));
  const AgentRun run = t.agent({"restore", "--latest", "--yes"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("does not exist: it is CREATED") &&
                          Catch::Contains("create roles   ns_app, ns_owner, ns_readonly") &&
                          Catch::Contains("memberships    GRANT ns_readonly TO ns_app") &&
                          Catch::Contains("existing roles postgres (left as they are)") &&
                          Catch::Contains("safety backup  NO: the database does not exist yet"));
  check_restored_on_b(t, counts);
  check_no_secrets(t, run);
  const std::vector<std::string> steps = restore_steps(t);
  CHECK(std::find(steps.begin(), steps.end(), "create_roles:success") != steps.end());
  CHECK(std::find(steps.begin(), steps.end(), "create_database:success") != steps.end());
  CHECK(t.dumps().size() == 1);  // no safety backup of a database that did not exist
}

TEST_CASE("a new server with nothing but the bucket gets the roles and the database from s3://",
          "[new_server]") {
  S3Server s3;
  TestTarget t("newsrv-s3", 10);
  give_roles(t);
  reset_server_b();
  const std::string offsite = s3.offsite_yaml("newserver/", "        tiers: [monthly]\n");
  t.write_config(t.default_database_yaml(), offsite);
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  REQUIRE(t.agent({"upload"}, s3.key_env()).exit_code == 0);
  const fs::path dump = t.dumps().back();
  const auto counts = PgCluster::shared().table_counts(t.db);

  // Server A is gone with its backup directory: nothing but the bucket and server B.
  fs::remove_all(t.dir);
  t.write_config(TestTarget::database_yaml(t.db, PgCluster::second()), offsite);
  const std::string url = "s3://pgtest-bucket/newserver/" + dump.filename().string();
  const AgentRun run = t.agent({"restore", url, "--yes"}, s3.key_env());
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("create roles   ns_app, ns_owner, ns_readonly"));
  check_restored_on_b(t, counts);
  check_no_secrets(t, run);
}

TEST_CASE("a role that exists on the new server is left as it is and its differences reported",
          "[new_server]") {
  TestTarget t("newsrv-existing", 5);
  give_roles(t);
  reset_server_b();
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  PgCluster& b = PgCluster::second();
  b.exec("CREATE ROLE ns_owner LOGIN CREATEDB PASSWORD 'the-new-servers-pw'");

  t.write_config(TestTarget::database_yaml(t.db, b));
  const AgentRun run = t.agent({"restore", "--latest", "--yes"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out,
             Catch::Contains("create roles   ns_app, ns_readonly") &&
                 Catch::Contains("existing roles ns_owner, postgres (left as they are)") &&
                 Catch::Contains("role ns_owner: NOCREATEDB in the backup, CREATEDB here"));
  // Never altered: its attributes and password are B's, its setting is not added.
  CHECK(b.query_value("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'ns_owner'") == "t");
  CHECK(b.query_value("SELECT rolconfig IS NULL FROM pg_roles WHERE rolname = 'ns_owner'") == "t");
  CHECK(logs_in(b, "ns_owner", "the-new-servers-pw", t.db));
  CHECK_FALSE(logs_in(b, "ns_owner", kOwnerPassword, t.db));
  // The rest as backed up.
  CHECK(b.query_value("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'nodes'",
                      t.db) == "ns_owner");
  CHECK(b.query_value("SELECT pg_has_role('ns_app', 'ns_readonly', 'MEMBER')") == "t");
}

TEST_CASE(
    "a connecting role that may not create the roles is refused before anything changes, with "
    "the privileges it needs",
    "[new_server]") {
  TestTarget t("newsrv-norole", 5);
  give_roles(t);
  reset_server_b();
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  PgCluster& b = PgCluster::second();
  // CREATEDB but not CREATEROLE.
  b.exec("CREATE ROLE ns_agent LOGIN CREATEDB PASSWORD '" + std::string(PgCluster::kPassword) +
         "'");
  t.write_config("{host: 127.0.0.1, port: " + std::to_string(b.port()) +
                 ", user: ns_agent, dbname: " + t.db +
                 ", password_env: " + TestTarget::kPasswordEnv + "}");
  const AgentRun run = t.agent({"restore", "--latest", "--yes"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("the connecting role ns_agent may not create the roles "
                                      "ns_app, ns_owner, ns_readonly") &&
                          Catch::Contains("it lacks CREATEROLE") &&
                          Catch::Contains("nothing was changed") &&
                          Catch::Contains("ALTER ROLE \"ns_agent\" CREATEROLE CREATEDB"));
  CHECK_FALSE(role_exists(b, "ns_owner"));
  CHECK(b.query_value("SELECT count(*) FROM pg_database WHERE datname = '" + t.db + "'") == "0");
  const std::vector<std::string> steps = restore_steps(t);
  CHECK(std::find(steps.begin(), steps.end(), "plan:refused") != steps.end());

  // --no-roles: the missing roles are named, and still nothing changes.
  const AgentRun no_roles = t.agent({"restore", "--latest", "--yes", "--no-roles"});
  CHECK(no_roles.exit_code == 1);
  CHECK_THAT(no_roles.err, Catch::Contains("the roles ns_app, ns_owner, ns_readonly own objects "
                                           "or hold privileges in the backup and do not exist"));
  CHECK(b.query_value("SELECT count(*) FROM pg_database WHERE datname = '" + t.db + "'") == "0");
}

TEST_CASE(
    "a restore test on a server without the roles creates them NOLOGIN, restores with owners "
    "and grants, reports them and drops them after",
    "[new_server]") {
  TestTarget t("newsrv-rt", 5);
  give_roles(t);
  reset_server_b();
  PgCluster& b = PgCluster::second();
  // The checks pass only when owners and grants were restored.
  t.write_config(
      t.default_database_yaml(),
      "    restore_test:\n      database: " + TestTarget::database_yaml(t.db + "_rt", b) +
          "\n      checks:\n"
          "        - {name: owner, sql: \"SELECT pg_get_userbyid(relowner) = 'ns_owner' FROM "
          "pg_class WHERE relname = 'nodes'\"}\n"
          "        - {name: grant, sql: \"SELECT has_table_privilege('ns_readonly', "
          "'public.nodes', 'SELECT')\"}\n"
          "        - {name: nologin, sql: \"SELECT NOT rolcanlogin FROM pg_roles WHERE rolname "
          "= 'ns_owner'\"}\n");
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  const AgentRun run = t.agent({"restore-test"});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("PASSED") &&
                          Catch::Contains("roles:    ns_app, ns_owner, ns_readonly missing on the "
                                          "test server; created for the test and dropped after"));
  CHECK_FALSE(role_exists(b, "ns_owner"));
  CHECK_FALSE(role_exists(b, "ns_readonly"));
  CHECK_THAT(read_text_file(t.dir / ".pgbackup/restore-tests.jsonl"),
             Catch::Contains("\"missing_roles\":[\"ns_app\",\"ns_owner\",\"ns_readonly\"]"));
}

TEST_CASE(
    "a backup taken by a role that may not read passwords warns, and the new server gets the "
    "roles without them",
    "[new_server]") {
  TestTarget t("newsrv-nopw", 5);
  give_roles(t);
  reset_server_b();
  PgCluster& a = PgCluster::shared();
  // A backup role that reads every table but is no superuser: pg_authid is out of its reach.
  a.exec("DROP ROLE IF EXISTS ns_backup; CREATE ROLE ns_backup LOGIN PASSWORD '" +
         std::string(PgCluster::kPassword) +
         "'; GRANT pg_read_all_data TO ns_backup; GRANT CONNECT ON DATABASE " + t.db +
         " TO ns_backup");
  t.write_config("{host: 127.0.0.1, port: " + std::to_string(a.port()) +
                 ", user: ns_backup, dbname: " + t.db +
                 ", password_env: " + TestTarget::kPasswordEnv + "}");
  const AgentRun backup = t.agent({"backup"});
  INFO(backup.out << backup.err);
  REQUIRE(backup.exit_code == 0);
  CHECK_THAT(backup.err, Catch::Contains("passwords are not included: only a superuser"));
  const auto manifest = t.manifest_of(t.dumps().back());
  CHECK(manifest["globals"]["passwords_included"] == false);
  CHECK_THAT(manifest["globals"]["warnings"].dump(), Catch::Contains("ALTER ROLE"));

  PgCluster& b = PgCluster::second();
  t.write_config(TestTarget::database_yaml(t.db, b));
  const AgentRun run = t.agent({"restore", "--latest", "--yes"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains("NO passwords, the backup could not read them"));
  CHECK(role_exists(b, "ns_owner"));
  CHECK(b.query_value("SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'ns_owner'") ==
        "t");
  CHECK_FALSE(logs_in(b, "ns_owner", kOwnerPassword, t.db));
  CHECK(b.table_counts(t.db) == a.table_counts(t.db));
  a.exec("REVOKE CONNECT ON DATABASE " + t.db + " FROM ns_backup; DROP ROLE ns_backup");
}

TEST_CASE(
    "onto a new server, a partial restore and a backup without a companion file are refused "
    "before anything changes",
    "[new_server]") {
  TestTarget t("newsrv-refused", 10);
  give_roles(t);
  reset_server_b();
  REQUIRE(t.agent({"backup"}).exit_code == 0);
  t.write_config(TestTarget::database_yaml(t.db, PgCluster::second()));
  PgCluster& b = PgCluster::second();
  const auto database_on_b = [&] {
    return b.query_value("SELECT count(*) FROM pg_database WHERE datname = '" + t.db + "'");
  };

  const AgentRun partial = t.agent({"restore", "--latest", "--yes", "--table", "public.nodes"});
  INFO(partial.out << partial.err);
  CHECK(partial.exit_code != 0);
  CHECK_THAT(partial.err, Catch::Contains("a partial restore needs the database") &&
                              Catch::Contains("nothing was changed"));

  // A backup from before companion files: its manifest names none.
  const fs::path dump = t.dumps().back();
  nlohmann::json manifest = t.manifest_of(dump);
  manifest.erase("globals");
  write_text(dump.string() + ".json", manifest.dump(2));
  fs::remove(dump.string() + ".globals");
  const AgentRun old = t.agent({"restore", "--latest", "--yes"});
  INFO(old.out << old.err);
  CHECK(old.exit_code != 0);
  CHECK_THAT(old.err, Catch::Contains("has no companion file to create it from") &&
                          Catch::Contains("createdb -O OWNER " + t.db));

  CHECK(database_on_b() == "0");
  CHECK_FALSE(role_exists(b, "ns_owner"));
}
