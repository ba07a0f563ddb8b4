#include "tests/support/target.h"

#include <algorithm>
#include <sstream>

namespace pgtest {

TestTarget::TestTarget(const std::string& target_name, int scale, const std::string& extra_yaml)
    : name(target_name), db("db_" + target_name) {
  std::replace(db.begin(), db.end(), '-', '_');
  root = make_temp_dir(name);
  dir = root / "backups";
  config = root / "pgbackup.yml";
  PgCluster& pg = PgCluster::shared();
  pg.create_database(db);
  if (scale > 0) pg.load_demo_data(db, scale);
  write_config(default_database_yaml(), extra_yaml);
}

std::string TestTarget::default_database_yaml() const { return database_yaml(db); }

std::string TestTarget::database_yaml(const std::string& dbname, const PgCluster& pg) {
  return "{host: 127.0.0.1, port: " + std::to_string(pg.port()) +
         ", user: postgres, dbname: " + dbname + ", password_env: " + kPasswordEnv +
         ", connect_timeout: 5s}";
}

std::string TestTarget::restore_test_yaml(const std::string& dbname) {
  return "    restore_test:\n      pick: latest\n      rto_target: 10m\n      database: " +
         database_yaml(dbname) + "\n";
}

void TestTarget::write_config(const std::string& database_yaml, const std::string& extra_yaml) {
  write_text(config, "targets:\n  - name: " + name + "\n    database: " + database_yaml +
                         "\n    backup: {dir: " + dir.string() + "}\n" + extra_yaml);
}

AgentRun TestTarget::agent(std::vector<std::string> args,
                           std::vector<std::pair<std::string, std::string>> env,
                           const std::string& stdin_data) const {
  args.insert(args.begin(), {"--config", config.string()});
  env.insert(env.begin(), {kPasswordEnv, PgCluster::kPassword});
  return run_agent(args, env, stdin_data);
}

std::vector<fs::path> TestTarget::dumps() const {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const bool dump = e.path().extension() == ".dump" ||
                      (e.path().extension() == ".age" && e.path().stem().extension() == ".dump");
    if (dump && fs::exists(e.path().string() + ".json")) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> restore_steps(const TestTarget& t) {
  std::istringstream in(read_text_file(t.dir / ".pgbackup/audit.jsonl"));
  std::vector<std::string> steps;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("operation", "") == "restore") {
      steps.push_back(j["step"].get<std::string>() + ":" + j["outcome"].get<std::string>());
    }
  }
  return steps;
}

nlohmann::json TestTarget::manifest_of(const fs::path& dump) const {
  return nlohmann::json::parse(read_text_file(dump.string() + ".json"));
}

}  // namespace pgtest
