// The keys of one target, named once: each section's table drives both parse_config and
// render_config (config-check).
#include "agent/config/target_keys.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>

namespace pgbackup {
namespace {

using namespace keys;

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

// The name of a variable holding a secret, with a comment that says whether it is set (never
// its value).
template <typename T>
ConfigKey<T> secret_variable(const char* name, std::string T::*field, bool shown_if_empty) {
  ConfigKey<T> key = text(name, field);
  key.render = [=](YAML::Emitter& out, const char* k, const T& t) {
    const std::string& var = t.*field;
    if (var.empty() && !shown_if_empty) return;
    const std::string state =
        var.empty() ? "" : (std::getenv(var.c_str()) ? "set (value hidden)" : "NOT SET");
    out << YAML::Key << k << YAML::Value << var << YAML::Comment(state);
  };
  return key;
}

const KeyTable<DatabaseConfig>& database_keys() {
  static const KeyTable<DatabaseConfig> table = {
      text("host", &DatabaseConfig::host),
      whole("port", &DatabaseConfig::port, 1, 65535),
      required_text("user", &DatabaseConfig::user),
      required_text("dbname", &DatabaseConfig::dbname),
      secret_variable("password_env", &DatabaseConfig::password_env, false),
      text_if_set("passfile", &DatabaseConfig::passfile),
      duration("connect_timeout", &DatabaseConfig::connect_timeout, /*positive=*/false),
  };
  return table;
}

DatabaseConfig parse_database(const Section& s) {
  if (s.has("password")) {
    s.fail(s.get("password"), s.key_path("password") +
                                  ": literal passwords are not allowed in the config; put the "
                                  "password in an environment variable and name it with "
                                  "password_env (or use passfile)");
  }
  DatabaseConfig db;
  parse_keys(s, database_keys(), db);
  if (!db.password_env.empty() && !db.passfile.empty()) {
    s.fail(s.get("passfile"), s.path() + ": set password_env or passfile, not both");
  }
  return db;
}

// A required database section, read and written with database_keys().
template <typename T>
ConfigKey<T> database(const char* name, DatabaseConfig T::*field) {
  return {name,
          [field](const Section& s, const char* k, T& t) {
            if (!s.has(k)) s.fail(s.node(), s.key_path(k) + " is required");
            t.*field = parse_database(s.section(k));
          },
          [field](YAML::Emitter& out, const char* k, const T& t) {
            out << YAML::Key << k << YAML::Value;
            render_keys(out, database_keys(), t.*field);
          }};
}

const KeyTable<BackupConfig>& backup_keys() {
  static const KeyTable<BackupConfig> table = {
      {"dir",
       [](const Section& s, const char* k, BackupConfig& b) { b.dir = s.required_string(k); },
       [](YAML::Emitter& out, const char* k, const BackupConfig& b) {
         emit(out, k, b.dir.string());
       }},
      {"file_prefix",
       [](const Section& s, const char* k, BackupConfig& b) {
         b.file_prefix = s.string(k, b.file_prefix);
         if (!std::regex_match(b.file_prefix, std::regex("[A-Za-z0-9_.-]+"))) {
           s.fail(s.get(k), s.key_path(k) + " may only contain A-Z, a-z, 0-9, _, . and -");
         }
       },
       [](YAML::Emitter& out, const char* k, const BackupConfig& b) {
         emit(out, k, b.file_prefix);
       }},
      schedule("schedule", &BackupConfig::schedule),
      whole("compression", &BackupConfig::compression, 0, 9),
      duration("timeout", &BackupConfig::timeout),
      {"row_counts",
       [](const Section& s, const char* k, BackupConfig& b) {
         b.row_counts = s.choice(k, b.row_counts ? "exact" : "off", {"exact", "off"}) == "exact";
       },
       [](YAML::Emitter& out, const char* k, const BackupConfig& b) {
         emit(out, k, b.row_counts ? "exact" : "off");
       }},
  };
  return table;
}

const KeyTable<AnomalyConfig>& anomaly_keys() {
  static const KeyTable<AnomalyConfig> table = {
      whole("window", &AnomalyConfig::window, 1, 1000),
      number("min_ratio", &AnomalyConfig::min_ratio, 0, 1),
      number("max_ratio", &AnomalyConfig::max_ratio, 1, 1e9),
      size("min_size", &AnomalyConfig::min_size),
      number("table_drop_ratio", &AnomalyConfig::table_drop_ratio, 0, 1),
  };
  return table;
}

const KeyTable<RetentionConfig>& retention_keys() {
  static const KeyTable<RetentionConfig> table = {
      duration("daily", &RetentionConfig::daily),
      duration("weekly", &RetentionConfig::weekly),
      duration("monthly", &RetentionConfig::monthly),
      whole("min_keep", &RetentionConfig::min_keep, 1, 100000),
  };
  return table;
}

const KeyTable<RestoreTestConfig::Check>& check_keys() {
  static const KeyTable<RestoreTestConfig::Check> table = {
      required_text("name", &RestoreTestConfig::Check::name),
      required_text("sql", &RestoreTestConfig::Check::sql),
  };
  return table;
}

const KeyTable<RestoreTestConfig>& restore_test_keys() {
  using C = RestoreTestConfig;
  static const KeyTable<C> table = {
      schedule("schedule", &C::schedule),
      {"pick",
       [](const Section& s, const char* k, C& c) {
         c.pick = s.choice(k, c.pick, {"random", "latest"});
       },
       [](YAML::Emitter& out, const char* k, const C& c) { emit(out, k, c.pick); }},
      {"roles",
       [](const Section& s, const char* k, C& c) {
         c.roles = s.choice(k, c.roles, {"nologin", "as_backed_up", "none"});
       },
       [](YAML::Emitter& out, const char* k, const C& c) { emit(out, k, c.roles); }},
      duration("max_age", &C::max_age),
      database("database", &C::database),
      whole("jobs", &C::jobs, 1, 64),
      duration("rto_target", &C::rto_target),
      {"checks",
       [](const Section& s, const char* k, C& c) {
         const YAML::Node checks = s.get(k);
         if (!checks) return;
         if (!checks.IsSequence()) s.fail(checks, s.key_path(k) + " must be a list");
         std::size_t i = 0;
         for (const auto& item : checks) {
           const Section ch = s.child(item, s.key_path(k) + "[" + std::to_string(i++) + "]");
           parse_keys(ch, check_keys(), c.checks.emplace_back());
         }
       },
       [](YAML::Emitter& out, const char* k, const C& c) {
         out << YAML::Key << k << YAML::Value << YAML::BeginSeq;
         for (const auto& check : c.checks) {
           out << YAML::Flow;
           render_keys(out, check_keys(), check);
         }
         out << YAML::EndSeq;
       }},
  };
  return table;
}

const KeyTable<RestoreConfig>& restore_keys() {
  static const KeyTable<RestoreConfig> table = {
      {"stop_command",
       [](const Section& s, const char* k, RestoreConfig& r) { r.stop_command = s.string_list(k); },
       {}},
      {"start_command",
       [](const Section& s, const char* k, RestoreConfig& r) {
         r.start_command = s.string_list(k);
       },
       {}},
  };
  return table;
}

const KeyTable<S3Config>& s3_keys() {
  static const KeyTable<S3Config> table = {
      required_text("endpoint", &S3Config::endpoint),
      text("region", &S3Config::region),
      required_text("bucket", &S3Config::bucket),
      text("prefix", &S3Config::prefix),
      secret_variable("access_key_id_env", &S3Config::access_key_id_env, true),
      secret_variable("secret_access_key_env", &S3Config::secret_access_key_env, true),
      {"tiers",
       [](const Section& s, const char* k, S3Config& c) {
         if (s.has(k)) c.tiers = s.string_list(k);
         for (const std::string& tier : c.tiers) {
           if (tier != "daily" && tier != "weekly" && tier != "monthly") {
             s.fail(s.get(k),
                    s.key_path(k) + ": unknown tier \"" + tier + "\" (daily, weekly or monthly)");
           }
         }
       },
       [](YAML::Emitter& out, const char* k, const S3Config& c) {
         out << YAML::Key << k << YAML::Value << YAML::Flow << c.tiers;
       }},
      {"storage_class",
       [](const Section& s, const char* k, S3Config& c) {
         const Section sc = s.section(k);
         sc.allow_only({"daily", "weekly", "monthly"});
         for (const char* tier : {"daily", "weekly", "monthly"}) {
           c.storage_class[tier] = sc.string(tier, "STANDARD");
         }
       },
       [](YAML::Emitter& out, const char* k, const S3Config& c) {
         out << YAML::Key << k << YAML::Value << YAML::Flow << c.storage_class;
       }},
      {"server_side_encryption",
       [](const Section& s, const char* k, S3Config& c) {
         c.server_side_encryption =
             s.choice(k, c.server_side_encryption, {"", "AES256", "aws:kms"});
       },
       [](YAML::Emitter& out, const char* k, const S3Config& c) {
         emit(out, k, c.server_side_encryption);
       }},
      text_if_set("kms_key_id", &S3Config::kms_key_id),
      {"path_style",
       [](const Section& s, const char* k, S3Config& c) {
         c.path_style = s.choice(k, c.path_style ? "true" : "false", {"true", "false"}) == "true";
       },
       [](YAML::Emitter& out, const char* k, const S3Config& c) { emit(out, k, c.path_style); }},
      size("multipart_threshold", &S3Config::multipart_threshold),
      {"part_size",
       [](const Section& s, const char* k, S3Config& c) {
         c.part_size = s.size(k, c.part_size);
         if (c.part_size < (5ull << 20) || c.part_size > (5ull << 30)) {
           s.fail(s.get(k), s.key_path(k) + " must be between 5MiB and 5GiB (S3's part limits)");
         }
       },
       [](YAML::Emitter& out, const char* k, const S3Config& c) { emit(out, k, c.part_size); }},
      whole("list_page_size", &S3Config::list_page_size, 1, 1000),
      duration("stall_timeout", &S3Config::stall_timeout),
  };
  return table;
}

// offsite: holds one section per kind of off-site storage (today only s3).
const KeyTable<std::optional<S3Config>>& offsite_keys() {
  static const KeyTable<std::optional<S3Config>> table = {
      {"s3",
       [](const Section& s, const char* k, std::optional<S3Config>& c) {
         parse_keys(s.section(k), s3_keys(), c.emplace());
       },
       [](YAML::Emitter& out, const char* k, const std::optional<S3Config>& c) {
         out << YAML::Key << k << YAML::Value;
         render_keys(out, s3_keys(), *c);
       }},
  };
  return table;
}

// An optional section: absent, the member stays empty and config-check leaves it out.
template <typename S>
ConfigKey<TargetConfig> optional_section(const char* name, std::optional<S> TargetConfig::*field,
                                         void (*parse)(const Section&, TargetConfig&),
                                         const KeyTable<S>& (*table)()) {
  return {name,
          [=](const Section& s, const char* k, TargetConfig& t) {
            if (s.has(k)) parse(s.section(k), t);
          },
          [=](YAML::Emitter& out, const char* k, const TargetConfig& t) {
            if (!(t.*field)) return;
            out << YAML::Key << k << YAML::Value;
            render_keys(out, table(), *(t.*field));
          }};
}

void parse_restore_test(const Section& rt, TargetConfig& t) {
  RestoreTestConfig c;
  parse_keys(rt, restore_test_keys(), c);
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

}  // namespace

bool same_server(const DatabaseConfig& a, const DatabaseConfig& b) {
  return a.port == b.port && normalized_host(a.host) == normalized_host(b.host);
}

const KeyTable<TargetConfig>& target_keys() {
  using T = TargetConfig;
  static const KeyTable<T> table = {
      {"name",
       [](const Section& s, const char* k, T& t) {
         t.name = s.required_string(k);
         if (!std::regex_match(t.name, std::regex("[a-z0-9_-]+"))) {
           s.fail(s.get(k), s.key_path(k) + " \"" + t.name +
                                "\" may only contain a-z, 0-9, _ and - (it becomes the target "
                                "label)");
         }
       },
       [](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.name); }},
      database("database", &T::database),
      {"backup",
       [](const Section& s, const char* k, T& t) {
         const Section b = s.section(k);
         if (!s.has(k)) s.fail(s.node(), s.key_path(k) + " is required");
         t.backup.file_prefix = t.name;  // the default prefix
         parse_keys(b, backup_keys(), t.backup);
       },
       [](YAML::Emitter& out, const char* k, const T& t) {
         out << YAML::Key << k << YAML::Value;
         render_keys(out, backup_keys(), t.backup);
       }},
      section("anomaly", &T::anomaly, anomaly_keys, /*flow=*/true),
      section("retention", &T::retention, retention_keys, /*flow=*/true),
      optional_section("restore_test", &T::restore_test, parse_restore_test, restore_test_keys),
      {"offsite",
       [](const Section& s, const char* k, T& t) {
         if (s.has(k)) parse_keys(s.section(k), offsite_keys(), t.offsite_s3);
       },
       [](YAML::Emitter& out, const char* k, const T& t) {
         if (!t.offsite_s3) return;
         out << YAML::Key << k << YAML::Value;
         render_keys(out, offsite_keys(), t.offsite_s3);
       }},
      // config-check has never shown the restore commands; its output stays as it was.
      {"restore",
       [](const Section& s, const char* k, T& t) {
         parse_keys(s.section(k), restore_keys(), t.restore);
       },
       {}},
  };
  return table;
}

}  // namespace pgbackup
