#include "tests/support/timescaledb_standin.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/pg_cluster.h"
#include "tests/support/process.h"

namespace pgtest {
namespace {

const fs::path kExtensionDir = "/usr/share/postgresql/15/extension";
constexpr const char* kMarker = "timescaledb stand-in call: ";

std::string control_file() {
  return std::string(
             "# pgbackup-agent TEST STAND-IN, not TimescaleDB (tests/support/"
             "timescaledb_standin.cpp)\n"
             "comment = 'pgbackup-agent test stand-in for TimescaleDB: records restore calls'\n"
             "default_version = '") +
         TimescaleStandIn::kOldVersion + "'\nrelocatable = false\nsuperuser = true\n";
}

// The two functions the agent calls around pg_restore, each logging "<marker><call> <db>".
std::string install_script(const std::string& version) {
  std::string sql = "-- pgbackup-agent TEST STAND-IN for TimescaleDB " + version + "\n";
  for (const char* call : {"pre_restore", "post_restore"}) {
    sql += "CREATE FUNCTION timescaledb_" + std::string(call) +
           "() RETURNS boolean LANGUAGE plpgsql AS $$\nBEGIN\n  RAISE LOG '" + kMarker + call +
           " %', current_database();\n  RETURN true;\nEND $$;\n";
  }
  return sql;
}

void write_if_changed(const fs::path& path, const std::string& content) {
  std::error_code ec;
  if (fs::exists(path, ec) && read_text_file(path) == content) return;
  std::ofstream out(path);
  out << content;
  if (!out.flush()) {
    throw std::runtime_error("cannot write " + path.string() +
                             " (the TimescaleDB stand-in needs root to install)");
  }
}

}  // namespace

void TimescaleStandIn::install() {
  write_if_changed(kExtensionDir / "timescaledb.control", control_file());
  for (const char* version : {kOldVersion, kNewVersion}) {
    write_if_changed(kExtensionDir / ("timescaledb--" + std::string(version) + ".sql"),
                     install_script(version));
  }
  write_if_changed(
      kExtensionDir / ("timescaledb--" + std::string(kOldVersion) + "--" + kNewVersion + ".sql"),
      "-- pgbackup-agent TEST STAND-IN for TimescaleDB: nothing changes between versions\n");
}

std::vector<std::string> TimescaleStandIn::calls(const std::string& db) {
  std::istringstream log(read_text_file(PgCluster::shared().dir() / "log"));
  std::vector<std::string> out;
  for (std::string line; std::getline(log, line);) {
    const auto at = line.find(kMarker);
    if (at == std::string::npos) continue;
    std::istringstream fields(line.substr(at + std::string(kMarker).size()));
    std::string call, database;
    fields >> call >> database;
    if (database == db) out.push_back(call);
  }
  return out;
}

}  // namespace pgtest
