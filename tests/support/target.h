#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"

namespace pgtest {

// One backup target for a test: a database in the shared cluster loaded with demo data, a
// backup directory and a config file, and a way to run the real agent against them.
struct TestTarget {
  static constexpr const char* kPasswordEnv = "PGTEST_PASSWORD";

  std::string name;
  std::string db;
  fs::path root;
  fs::path dir;
  fs::path config;

  // `scale`: demo rows per node (0: an empty database). `extra_yaml` is appended to the
  // target's mapping (indented by four spaces).
  TestTarget(const std::string& name, int scale, const std::string& extra_yaml = "");

  // Rewrites the config file with the given database/backup settings.
  void write_config(const std::string& database_yaml, const std::string& extra_yaml = "");
  std::string default_database_yaml() const;
  // A database of the shared cluster as a config's database mapping (superuser, the password
  // from kPasswordEnv): the target's own, or a restore test's scratch database.
  static std::string database_yaml(const std::string& dbname,
                                   const PgCluster& server = PgCluster::shared());
  // A restore_test block (extra_yaml) testing the newest backup in `dbname` of the shared
  // cluster, with a 10-minute RTO target.
  static std::string restore_test_yaml(const std::string& dbname);

  // Runs the agent with --config and the password variable set, `stdin_data` on its stdin.
  AgentRun agent(std::vector<std::string> args,
                 std::vector<std::pair<std::string, std::string>> env = {},
                 const std::string& stdin_data = "") const;

  // The good backups' dumps (.dump, or .dump.age when encrypted), oldest first.
  std::vector<fs::path> dumps() const;
  nlohmann::json manifest_of(const fs::path& dump) const;
};

// The audit log's restore steps of `t`, in order, as "step:outcome".
std::vector<std::string> restore_steps(const TestTarget& t);

}  // namespace pgtest
