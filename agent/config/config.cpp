#include "agent/config/config.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/core/text.h"

namespace pgbackup {

std::filesystem::path Config::audit_log_for(const TargetConfig& target) const {
  if (!audit_log.empty()) return audit_log;
  return target.state_dir() / "audit.jsonl";
}

const TargetConfig& Config::find_target(const std::string& name) const {
  if (name.empty()) {
    if (targets.size() == 1) return targets.front();
    throw ConfigError("several targets are configured; choose one with --target NAME");
  }
  for (const TargetConfig& t : targets) {
    if (t.name == name) return t;
  }
  std::vector<std::string> names;
  for (const TargetConfig& t : targets) names.push_back(t.name);
  throw ConfigError("no target named \"" + name + "\" in " + source +
                    " (targets: " + join(names, ", ") + ")");
}

Config load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError("cannot read config file " + path.string() + ": " + std::strerror(errno) +
                      " (hint: check the path given to --config)");
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string());
}

Config config_from_environment() {
  auto env = [](const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
  };
  TargetConfig t;
  t.database.host = env("POSTGRES_HOST", "localhost");
  const std::string port = env("POSTGRES_PORT", "5432");
  try {
    t.database.port = std::stoi(port);
  } catch (const std::exception&) {
    throw ConfigError("POSTGRES_PORT must be a port number, got \"" + port + "\"");
  }
  t.database.user = env("POSTGRES_USER", "postgres");
  t.database.dbname = env("POSTGRES_DB", t.database.user);
  t.database.password_env = "POSTGRES_PASSWORD";
  // The target label must be [a-z0-9_-]+; database names may hold anything.
  for (char c : t.database.dbname) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t.name += (std::isalnum(static_cast<unsigned char>(l)) || l == '_' || l == '-') ? l : '_';
  }
  t.backup.dir = env("BACKUP_DIR", "/backups/" + t.name);
  t.backup.file_prefix = t.name;
  Config config;
  config.source = "environment";
  config.targets.push_back(std::move(t));
  return config;
}

}  // namespace pgbackup
