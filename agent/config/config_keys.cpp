// The top of the config file, named once: its table drives both parse_config and render_config
// (config-check); the keys of each target are in target_keys.cpp.
#include <yaml-cpp/yaml.h>

#include <set>

#include "agent/config/config.h"
#include "agent/config/key_table.h"
#include "agent/config/reference.h"
#include "agent/config/target_keys.h"
#include "agent/config/yaml_section.h"

namespace pgbackup {
namespace {

using namespace keys;

const KeyTable<WebSettings>& web_keys() {
  static const KeyTable<WebSettings> table = {
      ConfigKey<WebSettings>{"listen_address",
                             [](const Section& s, const char* k, WebSettings& w) {
                               if (s.has(k)) w.listen_addresses = {s.string(k, "")};
                             },
                             [](YAML::Emitter& out, const char* k, const WebSettings& w) {
                               emit(out, k, w.listen_addresses.front());
                             }}
          .kind("`HOST:PORT`")
          .doc("Where HTTP is served; `:10115` is every IPv4 interface. `--web.listen-address` "
               "(repeatable) overrides it."),
      text("config_file", &WebSettings::config_file)
          .doc("A web configuration file in the Prometheus exporter-toolkit format: TLS, client "
               "certificates, basic auth (bcrypt), headers, rate limit; re-read when it changes. "
               "None: plain HTTP without authentication. `--web.config.file` overrides it."),
  };
  return table;
}

// targets: every target, then the checks across targets: unique names and directories, and no
// restore-test database that is another target's production database.
void parse_targets(const Section& top, const char* key, Config& config) {
  const YAML::Node targets = top.get(key);
  if (!targets || !targets.IsSequence() || targets.size() == 0) {
    top.fail(targets ? targets : top.node(),
             "targets must be a non-empty list of databases to back up");
  }
  std::set<std::string> names;
  std::set<std::filesystem::path> dirs;
  std::vector<Section> sections;
  std::size_t i = 0;
  for (const auto& item : targets) {
    const Section s = top.child(item, "targets[" + std::to_string(i++) + "]");
    TargetConfig t;
    parse_keys(s, target_keys(), t);
    check_engine_keys(s, t);
    if (!names.insert(t.name).second) {
      s.fail(s.get("name"), "target name \"" + t.name + "\" is used twice");
    }
    if (!dirs.insert(std::filesystem::weakly_canonical(t.backup.dir)).second) {
      s.fail(s.get("backup"), s.key_path("backup.dir") + " " + t.backup.dir.string() +
                                  " is used by another target; give each target its own directory");
    }
    config.targets.push_back(std::move(t));
    sections.push_back(s);
  }
  // A scratch database must not be any target's production database either: the restore test
  // drops it WITH (FORCE).
  for (std::size_t a = 0; a < config.targets.size(); ++a) {
    const auto& rt = config.targets[a].restore_test;
    if (!rt) continue;
    for (const TargetConfig& other : config.targets) {
      if (same_server(rt->database, other.database) &&
          rt->database.dbname == other.database.dbname) {
        const Section rts = sections[a].section("restore_test");
        rts.fail(rts.get("database"),
                 rts.key_path("database") + " is the production database of target " + other.name +
                     "; the restore test drops and re-creates it, so it must be a scratch "
                     "database no target backs up");
      }
    }
  }
}

const KeyTable<Config>& config_keys() {
  static const KeyTable<Config> table = {
      section("web", &Config::web, web_keys)
          .doc("HTTP: `/metrics`, the status page `/`, `/api/v1/status`, `/-/healthy`, "
               "`/-/ready`."),
      text("audit_log", &Config::audit_log)
          .defaults_to("`<backup.dir>/.pgbackup/audit.jsonl` per target")
          .doc("The audit log: one JSON line per operation (backup, verify, prune, restore, "
               "restore test, upload)."),
      ConfigKey<Config>{"targets", parse_targets,
                        [](YAML::Emitter& out, const char* k, const Config& c) {
                          out << YAML::Key << k << YAML::Value << YAML::BeginSeq;
                          for (const TargetConfig& t : c.targets)
                            render_keys(out, target_keys(), t);
                          out << YAML::EndSeq;
                        }}
          .kind("list of targets")
          .defaults_to("required")
          .doc("The databases to back up, one entry each with the keys of a target below. Names "
               "and backup directories must differ, and no restore-test database may be another "
               "target's production database."),
  };
  return table;
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  Config config;
  config.source = source;
  parse_keys(Section(root, "", config.source), config_keys(), config);
  return config;
}

std::vector<ReferenceSection> config_reference() {
  std::vector<ReferenceSection> reference{{"Top-level keys", {}}, {"Keys of a target", {}}};
  describe_keys(config_keys(), "", reference[0].keys);
  describe_keys(target_keys(), "", reference[1].keys);
  return reference;
}

std::string render_config(const Config& config) {
  YAML::Emitter out;
  out << YAML::Comment("from " + config.source);
  render_keys(out, config_keys(), config);
  return std::string(out.c_str()) + "\n";
}

}  // namespace pgbackup
