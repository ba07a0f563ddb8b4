#include "agent/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <type_traits>

#include "agent/core/units.h"
#include "agent/schedule/cron.h"

namespace pgbackup {
namespace {

// Walks one YAML mapping, remembering where it is ("targets[0].backup") so every error can
// name the key and the line.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& source)
      : node_(node), path_(std::move(path)), source_(source) {
    if (node_ && !node_.IsMap()) fail(node_, path_ + " must be a mapping");
  }

  // Rejects keys outside `allowed`.
  void allow_only(std::initializer_list<std::string_view> allowed) const {
    if (!node_) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string known;
      for (std::string_view k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      fail(kv.first, "unknown key \"" + key_path(key) + "\" (known keys here: " + known + ")");
    }
  }

  bool has(const char* key) const { return static_cast<bool>(get(key)); }
  YAML::Node get(const char* key) const {
    if (!node_ || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return node_[key];
  }
  Section section(const char* key) const { return Section(get(key), key_path(key), source_); }
  Section child(const YAML::Node& node, std::string path) const {
    return Section(node, std::move(path), source_);
  }
  std::string key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  std::string string(const char* key, std::string fallback) const {
    const YAML::Node v = get(key);
    if (!v) return fallback;
    if (!v.IsScalar()) fail(v, key_path(key) + " must be a string");
    return v.Scalar();
  }

  std::string required_string(const char* key) const {
    const YAML::Node v = get(key);
    if (!v || !v.IsScalar() || v.Scalar().empty()) {
      fail(v ? v : node_, key_path(key) + " is required");
    }
    return v.Scalar();
  }

  long integer(const char* key, long fallback, long min, long max) const {
    return number<long>(key, fallback, min, max);
  }

  // A number in [min, max]; with an integral Number only whole numbers are accepted.
  template <typename Number>
  Number number(const char* key, Number fallback, std::type_identity_t<Number> min,
                std::type_identity_t<Number> max) const {
    constexpr bool whole = std::is_integral_v<Number>;
    const YAML::Node v = get(key);
    if (!v) return fallback;
    Number value{};
    try {
      std::size_t used = 0;
      if constexpr (whole) {
        value = std::stol(v.Scalar(), &used);
      } else {
        value = std::stod(v.Scalar(), &used);
      }
      if (used != v.Scalar().size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      fail(v, key_path(key) + (whole ? " must be a whole number" : " must be a number") +
                  ", got \"" + v.Scalar() + "\"");
    }
    if (value < min || value > max) {
      fail(v, key_path(key) + " must be between " + format_number(min) + " and " +
                  format_number(max) + ", got " + v.Scalar());
    }
    return value;
  }

  std::chrono::seconds duration(const char* key, std::chrono::seconds fallback) const {
    const YAML::Node v = get(key);
    if (!v) return fallback;
    try {
      return parse_duration(v.Scalar());
    } catch (const std::invalid_argument& e) {
      fail(v, key_path(key) + ": " + e.what());
    }
  }

  std::uint64_t size(const char* key, std::uint64_t fallback) const {
    const YAML::Node v = get(key);
    if (!v) return fallback;
    try {
      return parse_size(v.Scalar());
    } catch (const std::invalid_argument& e) {
      fail(v, key_path(key) + ": " + e.what());
    }
  }

  std::string schedule(const char* key, std::string fallback) const {
    std::string value = string(key, fallback);
    try {
      CronSchedule::parse(value);
    } catch (const std::invalid_argument& e) {
      fail(get(key), key_path(key) + ": " + e.what());
    }
    return value;
  }

  std::string choice(const char* key, std::string fallback,
                     std::initializer_list<std::string_view> options) const {
    std::string value = string(key, fallback);
    if (std::find(options.begin(), options.end(), value) != options.end()) return value;
    std::string list;
    for (std::string_view o : options) list += (list.empty() ? "" : ", ") + std::string(o);
    fail(get(key), key_path(key) + " must be one of " + list + ", got \"" + value + "\"");
  }

  std::vector<std::string> string_list(const char* key) const {
    const YAML::Node v = get(key);
    std::vector<std::string> out;
    if (!v) return out;
    if (!v.IsSequence()) fail(v, key_path(key) + " must be a list of strings");
    for (const auto& item : v) {
      if (!item.IsScalar()) fail(item, key_path(key) + " must be a list of strings");
      out.push_back(item.Scalar());
    }
    return out;
  }

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const {
    std::string where = source_;
    const YAML::Mark mark = at ? at.Mark() : (node_ ? node_.Mark() : YAML::Mark::null_mark());
    if (!mark.is_null()) where += ":" + std::to_string(mark.line + 1);
    throw ConfigError(where + ": " + message);
  }

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }

 private:
  template <typename Number>
  static std::string format_number(Number v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  YAML::Node node_;
  std::string path_;
  const std::string& source_;
};

// The server a database setting reaches, for telling a scratch database from production:
// libpq treats an empty host, a socket directory (a path) and the loopback names alike as
// "this machine", so they all compare as one host. Two settings that differ only there (e.g.
// localhost vs 127.0.0.1 with the same port) may well be the same cluster.
std::string normalized_host(const std::string& host) {
  if (host.empty() || host.front() == '/' || host.front() == '@') return "local";
  std::string h = host;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  if (h == "localhost" || h == "localhost." || h == "::1" || h == "[::1]" ||
      h.rfind("127.", 0) == 0 || h == "0:0:0:0:0:0:0:1") {
    return "local";
  }
  return h;
}

bool same_server(const DatabaseConfig& a, const DatabaseConfig& b) {
  return a.port == b.port && normalized_host(a.host) == normalized_host(b.host);
}

DatabaseConfig parse_database(const Section& s) {
  if (s.has("password")) {
    s.fail(s.get("password"), s.key_path("password") +
                                  ": literal passwords are not allowed in the config; put the "
                                  "password in an environment variable and name it with "
                                  "password_env (or use passfile)");
  }
  s.allow_only({"host", "port", "user", "dbname", "password_env", "passfile", "connect_timeout"});
  DatabaseConfig db;
  db.host = s.string("host", db.host);
  db.port = static_cast<int>(s.integer("port", db.port, 1, 65535));
  db.user = s.required_string("user");
  db.dbname = s.required_string("dbname");
  db.password_env = s.string("password_env", "");
  db.passfile = s.string("passfile", "");
  db.connect_timeout = s.duration("connect_timeout", db.connect_timeout);
  if (!db.password_env.empty() && !db.passfile.empty()) {
    s.fail(s.get("passfile"), s.path() + ": set password_env or passfile, not both");
  }
  return db;
}

std::chrono::seconds positive(const Section& s, const char* key, std::chrono::seconds fallback) {
  const auto d = s.duration(key, fallback);
  if (d.count() <= 0) s.fail(s.get(key), s.key_path(key) + " must be longer than 0s");
  return d;
}

TargetConfig parse_target(const Section& s) {
  s.allow_only(
      {"name", "database", "backup", "anomaly", "retention", "offsite", "restore_test", "restore"});
  TargetConfig t;
  t.name = s.required_string("name");
  if (!std::regex_match(t.name, std::regex("[a-z0-9_-]+"))) {
    s.fail(s.get("name"),
           s.key_path("name") + " \"" + t.name +
               "\" may only contain a-z, 0-9, _ and - (it becomes the target label)");
  }
  if (!s.has("database")) s.fail(s.node(), s.key_path("database") + " is required");
  t.database = parse_database(s.section("database"));

  const Section b = s.section("backup");
  if (!s.has("backup")) s.fail(s.node(), s.key_path("backup") + " is required");
  b.allow_only({"dir", "file_prefix", "schedule", "compression", "timeout", "row_counts"});
  t.backup.dir = b.required_string("dir");
  t.backup.file_prefix = b.string("file_prefix", t.name);
  if (!std::regex_match(t.backup.file_prefix, std::regex("[A-Za-z0-9_.-]+"))) {
    b.fail(b.get("file_prefix"),
           b.key_path("file_prefix") + " may only contain A-Z, a-z, 0-9, _, . and -");
  }
  t.backup.schedule = b.schedule("schedule", t.backup.schedule);
  t.backup.compression = static_cast<int>(b.integer("compression", t.backup.compression, 0, 9));
  t.backup.timeout = positive(b, "timeout", t.backup.timeout);
  t.backup.row_counts = b.choice("row_counts", "exact", {"exact", "off"}) == "exact";

  const Section a = s.section("anomaly");
  a.allow_only({"window", "min_ratio", "max_ratio", "min_size", "table_drop_ratio"});
  t.anomaly.window = static_cast<int>(a.integer("window", t.anomaly.window, 1, 1000));
  t.anomaly.min_ratio = a.number("min_ratio", t.anomaly.min_ratio, 0, 1);
  t.anomaly.max_ratio = a.number("max_ratio", t.anomaly.max_ratio, 1, 1e9);
  t.anomaly.min_size = a.size("min_size", t.anomaly.min_size);
  t.anomaly.table_drop_ratio = a.number("table_drop_ratio", t.anomaly.table_drop_ratio, 0, 1);

  const Section r = s.section("retention");
  r.allow_only({"daily", "weekly", "monthly", "min_keep"});
  t.retention.daily = positive(r, "daily", t.retention.daily);
  t.retention.weekly = positive(r, "weekly", t.retention.weekly);
  t.retention.monthly = positive(r, "monthly", t.retention.monthly);
  t.retention.min_keep = static_cast<int>(r.integer("min_keep", t.retention.min_keep, 1, 100000));

  if (s.has("restore_test")) {
    const Section rt = s.section("restore_test");
    rt.allow_only({"schedule", "pick", "max_age", "database", "jobs", "rto_target", "checks"});
    RestoreTestConfig c;
    c.schedule = rt.schedule("schedule", c.schedule);
    c.pick = rt.choice("pick", c.pick, {"random", "latest"});
    c.max_age = positive(rt, "max_age", c.max_age);
    if (!rt.has("database")) rt.fail(rt.node(), rt.key_path("database") + " is required");
    c.database = parse_database(rt.section("database"));
    c.jobs = static_cast<int>(rt.integer("jobs", c.jobs, 1, 64));
    c.rto_target = positive(rt, "rto_target", c.rto_target);
    if (const YAML::Node checks = rt.get("checks")) {
      if (!checks.IsSequence()) rt.fail(checks, rt.key_path("checks") + " must be a list");
      std::size_t i = 0;
      for (const auto& item : checks) {
        const Section ch = rt.child(item, rt.key_path("checks") + "[" + std::to_string(i++) + "]");
        ch.allow_only({"name", "sql"});
        c.checks.push_back({ch.required_string("name"), ch.required_string("sql")});
      }
    }
    const DatabaseConfig& prod = t.database;
    if (same_server(c.database, prod) && c.database.dbname == prod.dbname) {
      rt.fail(rt.get("database"),
              rt.key_path("database") +
                  " is the production database; the restore test drops and re-creates it, so it "
                  "must differ in host, port or dbname (localhost, 127.0.0.1, ::1 and socket "
                  "directories count as one host)");
    }
    t.restore_test = c;
  }

  const Section rs = s.section("restore");
  rs.allow_only({"stop_command", "start_command"});
  t.restore.stop_command = rs.string_list("stop_command");
  t.restore.start_command = rs.string_list("start_command");

  if (s.has("offsite")) {
    const Section o = s.section("offsite");
    o.allow_only({"s3"});
    const Section s3 = o.section("s3");
    s3.allow_only({"endpoint", "region", "bucket", "prefix", "access_key_id_env",
                   "secret_access_key_env", "tiers", "storage_class", "server_side_encryption",
                   "kms_key_id", "path_style", "multipart_threshold", "part_size",
                   "list_page_size"});
    S3Config c;
    c.endpoint = s3.required_string("endpoint");
    c.region = s3.string("region", c.region);
    c.bucket = s3.required_string("bucket");
    c.prefix = s3.string("prefix", "");
    c.access_key_id_env = s3.string("access_key_id_env", c.access_key_id_env);
    c.secret_access_key_env = s3.string("secret_access_key_env", c.secret_access_key_env);
    if (s3.has("tiers")) c.tiers = s3.string_list("tiers");
    for (const std::string& tier : c.tiers) {
      if (tier != "daily" && tier != "weekly" && tier != "monthly") {
        s3.fail(s3.get("tiers"), s3.key_path("tiers") + ": unknown tier \"" + tier +
                                     "\" (daily, weekly or monthly)");
      }
    }
    const Section sc = s3.section("storage_class");
    sc.allow_only({"daily", "weekly", "monthly"});
    for (const char* tier : {"daily", "weekly", "monthly"}) {
      c.storage_class[tier] = sc.string(tier, "STANDARD");
    }
    c.server_side_encryption = s3.choice("server_side_encryption", "", {"", "AES256", "aws:kms"});
    c.kms_key_id = s3.string("kms_key_id", "");
    c.path_style = s3.choice("path_style", "false", {"true", "false"}) == "true";
    c.multipart_threshold = s3.size("multipart_threshold", c.multipart_threshold);
    c.part_size = s3.size("part_size", c.part_size);
    if (c.part_size < (5ull << 20) || c.part_size > (5ull << 30)) {
      s3.fail(s3.get("part_size"),
              s3.key_path("part_size") + " must be between 5MiB and 5GiB (S3's part limits)");
    }
    c.list_page_size = static_cast<int>(s3.integer("list_page_size", c.list_page_size, 1, 1000));
    t.offsite_s3 = c;
  }
  return t;
}

}  // namespace

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
  std::string names;
  for (const TargetConfig& t : targets) names += (names.empty() ? "" : ", ") + t.name;
  throw ConfigError("no target named \"" + name + "\" in " + source + " (targets: " + names + ")");
}

Config parse_config(const std::string& yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  Config config;
  config.source = source;
  const Section top(root, "", config.source);
  top.allow_only({"web", "audit_log", "targets"});

  const Section web = top.section("web");
  web.allow_only({"listen_address", "config_file"});
  if (web.has("listen_address")) config.web.listen_addresses = {web.string("listen_address", "")};
  config.web.config_file = web.string("config_file", "");
  config.audit_log = top.string("audit_log", "");

  const YAML::Node targets = root["targets"];
  if (!targets || !targets.IsSequence() || targets.size() == 0) {
    top.fail(targets ? targets : root, "targets must be a non-empty list of databases to back up");
  }
  std::set<std::string> names;
  std::set<std::filesystem::path> dirs;
  std::vector<Section> sections;
  std::size_t i = 0;
  for (const auto& item : targets) {
    const Section s(item, "targets[" + std::to_string(i++) + "]", config.source);
    TargetConfig t = parse_target(s);
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
  return config;
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

std::string render_config(const Config& config) {
  YAML::Emitter out;
  auto env_state = [](const std::string& var) {
    if (var.empty()) return std::string();
    return std::string(std::getenv(var.c_str()) ? "set (value hidden)" : "NOT SET");
  };
  auto database = [&](const DatabaseConfig& db) {
    out << YAML::BeginMap;
    out << YAML::Key << "host" << YAML::Value << db.host;
    out << YAML::Key << "port" << YAML::Value << db.port;
    out << YAML::Key << "user" << YAML::Value << db.user;
    out << YAML::Key << "dbname" << YAML::Value << db.dbname;
    if (!db.password_env.empty()) {
      out << YAML::Key << "password_env" << YAML::Value << db.password_env
          << YAML::Comment(env_state(db.password_env));
    }
    if (!db.passfile.empty()) out << YAML::Key << "passfile" << YAML::Value << db.passfile;
    out << YAML::Key << "connect_timeout" << YAML::Value << format_duration(db.connect_timeout);
    out << YAML::EndMap;
  };
  out << YAML::Comment("from " + config.source);
  out << YAML::BeginMap;
  out << YAML::Key << "web" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen_address" << YAML::Value << config.web.listen_addresses.front();
  out << YAML::Key << "config_file" << YAML::Value << config.web.config_file;
  out << YAML::EndMap;
  out << YAML::Key << "audit_log" << YAML::Value << config.audit_log;
  out << YAML::Key << "targets" << YAML::Value << YAML::BeginSeq;
  for (const TargetConfig& t : config.targets) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << t.name;
    out << YAML::Key << "database" << YAML::Value;
    database(t.database);
    out << YAML::Key << "backup" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "dir" << YAML::Value << t.backup.dir.string();
    out << YAML::Key << "file_prefix" << YAML::Value << t.backup.file_prefix;
    out << YAML::Key << "schedule" << YAML::Value << YAML::DoubleQuoted << t.backup.schedule;
    out << YAML::Key << "compression" << YAML::Value << t.backup.compression;
    out << YAML::Key << "timeout" << YAML::Value << format_duration(t.backup.timeout);
    out << YAML::Key << "row_counts" << YAML::Value << (t.backup.row_counts ? "exact" : "off");
    out << YAML::EndMap;
    out << YAML::Key << "anomaly" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "window" << YAML::Value << t.anomaly.window;
    out << YAML::Key << "min_ratio" << YAML::Value << t.anomaly.min_ratio;
    out << YAML::Key << "max_ratio" << YAML::Value << t.anomaly.max_ratio;
    out << YAML::Key << "min_size" << YAML::Value << t.anomaly.min_size;
    out << YAML::Key << "table_drop_ratio" << YAML::Value << t.anomaly.table_drop_ratio;
    out << YAML::EndMap;
    out << YAML::Key << "retention" << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "daily" << YAML::Value << format_duration(t.retention.daily);
    out << YAML::Key << "weekly" << YAML::Value << format_duration(t.retention.weekly);
    out << YAML::Key << "monthly" << YAML::Value << format_duration(t.retention.monthly);
    out << YAML::Key << "min_keep" << YAML::Value << t.retention.min_keep;
    out << YAML::EndMap;
    if (t.restore_test) {
      out << YAML::Key << "restore_test" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "schedule" << YAML::Value << YAML::DoubleQuoted
          << t.restore_test->schedule;
      out << YAML::Key << "pick" << YAML::Value << t.restore_test->pick;
      out << YAML::Key << "max_age" << YAML::Value << format_duration(t.restore_test->max_age);
      out << YAML::Key << "database" << YAML::Value;
      database(t.restore_test->database);
      out << YAML::Key << "jobs" << YAML::Value << t.restore_test->jobs;
      out << YAML::Key << "rto_target" << YAML::Value
          << format_duration(t.restore_test->rto_target);
      out << YAML::Key << "checks" << YAML::Value << YAML::BeginSeq;
      for (const auto& c : t.restore_test->checks) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c.name
            << YAML::Key << "sql" << YAML::Value << c.sql << YAML::EndMap;
      }
      out << YAML::EndSeq << YAML::EndMap;
    }
    if (t.offsite_s3) {
      const S3Config& s3 = *t.offsite_s3;
      out << YAML::Key << "offsite" << YAML::Value << YAML::BeginMap << YAML::Key << "s3"
          << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "endpoint" << YAML::Value << s3.endpoint;
      out << YAML::Key << "region" << YAML::Value << s3.region;
      out << YAML::Key << "bucket" << YAML::Value << s3.bucket;
      out << YAML::Key << "prefix" << YAML::Value << s3.prefix;
      out << YAML::Key << "access_key_id_env" << YAML::Value << s3.access_key_id_env
          << YAML::Comment(env_state(s3.access_key_id_env));
      out << YAML::Key << "secret_access_key_env" << YAML::Value << s3.secret_access_key_env
          << YAML::Comment(env_state(s3.secret_access_key_env));
      out << YAML::Key << "tiers" << YAML::Value << YAML::Flow << s3.tiers;
      out << YAML::Key << "storage_class" << YAML::Value << YAML::Flow << s3.storage_class;
      out << YAML::Key << "server_side_encryption" << YAML::Value << s3.server_side_encryption;
      if (!s3.kms_key_id.empty()) out << YAML::Key << "kms_key_id" << YAML::Value << s3.kms_key_id;
      out << YAML::Key << "path_style" << YAML::Value << s3.path_style;
      out << YAML::Key << "multipart_threshold" << YAML::Value << s3.multipart_threshold;
      out << YAML::Key << "part_size" << YAML::Value << s3.part_size;
      out << YAML::Key << "list_page_size" << YAML::Value << s3.list_page_size;
      out << YAML::EndMap << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace pgbackup
