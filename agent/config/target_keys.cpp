// The keys of one target, named once: each section's table drives both parse_config and
// render_config (config-check).
#include "agent/config/target_keys.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
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

const KeyTable<DatabaseConfig>& database_keys() {
  static const KeyTable<DatabaseConfig> table = {
      text("host", &DatabaseConfig::host)
          .doc("The server: a host name, an address, or a unix socket directory."),
      whole("port", &DatabaseConfig::port, 1, 65535).doc("The server's port."),
      required_text("user", &DatabaseConfig::user).doc("The role the agent connects as."),
      required_text("dbname", &DatabaseConfig::dbname).doc("The database."),
      secret_variable("password_env", &DatabaseConfig::password_env, false)
          .doc("The environment variable that holds the password; a literal `password` key is "
               "an error. Not together with `passfile`."),
      text_if_set("passfile", &DatabaseConfig::passfile)
          .doc("A libpq password file, instead of `password_env`."),
      duration("connect_timeout", &DatabaseConfig::connect_timeout, /*positive=*/false)
          .doc("How long a connection attempt may take (libpq's `connect_timeout`; `0s`: no "
               "limit)."),
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
  ConfigKey<T> key = section(name, field, database_keys);
  key.parse = [field](const Section& s, const char* k, T& t) {
    if (!s.has(k)) s.fail(s.node(), s.key_path(k) + " is required");
    t.*field = parse_database(s.section(k));
  };
  return std::move(key).defaults_to("required");
}

const KeyTable<BackupConfig>& backup_keys() {
  using B = BackupConfig;
  static const KeyTable<B> table = {
      ConfigKey<B>{
          "dir", [](const Section& s, const char* k, B& b) { b.dir = s.required_string(k); },
          [](YAML::Emitter& out, const char* k, const B& b) { emit(out, k, b.dir.string()); }}
          .kind("path")
          .defaults_to("required")
          .doc("Where the backups, their manifests and `.pgbackup/` (state, audit log, lock) "
               "go; created 0700 if missing, and an existing one open to other users is changed "
               "to 0700. Each target needs its own. The packaged unit may write only below "
               "`/var/lib/pgbackup`: add another directory with `ReadWritePaths=` in a drop-in "
               "(`systemctl edit pgbackup-agent`)."),
      ConfigKey<B>{
          "file_prefix",
          [](const Section& s, const char* k, B& b) {
            b.file_prefix = s.string(k, b.file_prefix);
            if (!std::regex_match(b.file_prefix, std::regex("[A-Za-z0-9_.-]+"))) {
              s.fail(s.get(k), s.key_path(k) + " may only contain A-Z, a-z, 0-9, _, . and -");
            }
          },
          [](YAML::Emitter& out, const char* k, const B& b) { emit(out, k, b.file_prefix); }}
          .kind("string of `A-Za-z0-9_.-`")
          .defaults_to("the target name")
          .doc("The start of the file names: `<prefix>_YYYYMMDD_HHMMSS.dump` (UTC start time)."),
      backup_schedule_key(),
      whole("compression", &B::compression, 0, 9).doc("The `pg_dump -Z` level."),
      duration("timeout", &B::timeout)
          .doc("After this long the backup is stopped: `pg_dump`, whose partial file is removed, "
               "or `pgbackrest backup`, whose partial backup pgBackRest cleans up or resumes at "
               "its next run."),
      ConfigKey<B>{
          "row_counts",
          [](const Section& s, const char* k, B& b) {
            b.row_counts = s.choice(k, b.row_counts ? "exact" : "off", {"exact", "off"}) == "exact";
          },
          [](YAML::Emitter& out, const char* k, const B& b) {
            emit(out, k, b.row_counts ? "exact" : "off");
          }}
          .kind("`exact` or `off`")
          .doc("`exact`: every table's rows are counted in the dump's snapshot and recorded in "
               "the manifest; `off`: no counts (and `restore --table` is refused)."),
  };
  return table;
}

const KeyTable<AnomalyConfig>& anomaly_keys() {
  using A = AnomalyConfig;
  static const KeyTable<A> table = {
      whole("window", &A::window, 1, 1000)
          .doc("How many previous good backups the size baseline (their median) is taken from."),
      number("min_ratio", &A::min_ratio, 0, 1)
          .doc("A backup smaller than this times the baseline is a size anomaly."),
      number("max_ratio", &A::max_ratio, 1, 1e9)
          .doc("A backup larger than this times the baseline is a size anomaly."),
      size("min_size", &A::min_size)
          .doc("A backup smaller than this is a size anomaly (too small: incomplete)."),
      number("table_drop_ratio", &A::table_drop_ratio, 0, 1)
          .doc("A table that lost more than this share of its rows since the previous good "
               "backup is reported as shrunk."),
  };
  return table;
}

const KeyTable<RetentionConfig>& retention_keys() {
  using R = RetentionConfig;
  static const KeyTable<R> table = {
      duration("daily", &R::daily).doc("How long daily backups are kept."),
      duration("weekly", &R::weekly).doc("How long weekly backups are kept."),
      duration("monthly", &R::monthly).doc("How long monthly backups are kept."),
      whole("min_keep", &R::min_keep, 1, 100000)
          .doc("The newest good backups always kept, whatever their age."),
  };
  return table;
}

const KeyTable<RestoreTestConfig::Check>& check_keys() {
  using C = RestoreTestConfig::Check;
  static const KeyTable<C> table = {
      required_text("name", &C::name).doc("The check's name in reports."),
      required_text("sql", &C::sql)
          .doc("A query run in the restored database; it must return true."),
  };
  return table;
}

ConfigKey<RestoreTestConfig> checks_key() {
  using C = RestoreTestConfig;
  return ConfigKey<C>{"checks",
                      [](const Section& s, const char* k, C& c) {
                        const YAML::Node checks = s.get(k);
                        if (!checks) return;
                        if (!checks.IsSequence()) s.fail(checks, s.key_path(k) + " must be a list");
                        std::size_t i = 0;
                        for (const auto& item : checks) {
                          const Section ch =
                              s.child(item, s.key_path(k) + "[" + std::to_string(i++) + "]");
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
                      }}
      .kind("list of `{name, sql}`")
      .defaults_to("none")
      .doc(
          "Queries that must return true in the restored database, e.g. `{name: "
          "nodes_present, sql: \"SELECT count(*) > 0 FROM nodes\"}`.")
      .with_keys(check_keys, "[]");
}

// restore_test.database: required for pg_dump targets (parse_restore_test says so).
ConfigKey<RestoreTestConfig> optional_database(ConfigKey<RestoreTestConfig> key) {
  auto parse = key.parse;
  key.parse = [parse](const Section& s, const char* k, RestoreTestConfig& c) {
    if (s.has(k)) parse(s, k, c);
  };
  // Unset (a pgBackRest target's), it is not shown: its dbname is required when it is.
  auto render = key.render;
  key.render = [render](YAML::Emitter& out, const char* k, const RestoreTestConfig& c) {
    if (!c.database.dbname.empty()) render(out, k, c);
  };
  return std::move(key).defaults_to("required (pg_dump targets)");
}

// A key of pgBackRest targets only: config-check shows it when it differs from its default, so
// that a pg_dump target's output is as it was.
ConfigKey<RestoreTestConfig> shown_when_set(ConfigKey<RestoreTestConfig> key,
                                            bool (*is_set)(const RestoreTestConfig&),
                                            const char* shown_default) {
  auto render = key.render;
  key.render = [render, is_set](YAML::Emitter& out, const char* k, const RestoreTestConfig& c) {
    if (is_set(c)) render(out, k, c);
  };
  return std::move(key).defaults_to(shown_default);
}

// restore_test.settings: postgresql.conf settings of a pgBackRest target's scratch cluster.
ConfigKey<RestoreTestConfig> settings_key() {
  using C = RestoreTestConfig;
  return ConfigKey<C>{
      "settings",
      [](const Section& s, const char* k, C& c) {
        const YAML::Node node = s.get(k);
        if (!node) return;
        if (!node.IsMap()) s.fail(node, s.key_path(k) + " must be a mapping");
        for (const auto& kv : node) {
          const std::string name = kv.first.as<std::string>();
          if (!std::regex_match(name, std::regex("[a-z_][a-z0-9_.]*")) || !kv.second.IsScalar()) {
            s.fail(kv.first, s.key_path(k) + "." + name +
                                 " must be a PostgreSQL setting name with a "
                                 "scalar value, e.g. {shared_buffers: 128MB}");
          }
          c.settings[name] = kv.second.as<std::string>();
        }
      },
      [](YAML::Emitter& out, const char* k, const C& c) {
        out << YAML::Key << k << YAML::Value << YAML::Flow << c.settings;
      }}
      .kind("map of setting to value")
      .doc(
          "pgBackRest targets: settings written into the scratch cluster's postgresql.conf "
          "after the agent's own, e.g. `{shared_buffers: 128MB}`.");
}

// restore_test.heartbeat: the recovery-point probe's cadence (parse_restore_test refuses it for
// a pg_dump target, whose test restores a dump, not a point in time).
ConfigKey<RestoreTestConfig> heartbeat_key() {
  return optional_duration("heartbeat", &RestoreTestConfig::heartbeat)
      .doc(
          "pgBackRest targets: the recovery point probe (off when absent). At this cadence the "
          "daemon writes `now()` into `pgbackup.heartbeat`, a table of one row in the production "
          "database that it creates (with its schema) when missing; a restore test then proves "
          "the newest heartbeat it restored lies within one cadence (plus 5s) before its target "
          "time, or before the archive's end for `latest`. The role needs CREATE on the "
          "database, or an existing schema and table it may write.");
}

const KeyTable<RestoreTestConfig>& restore_test_keys() {
  using C = RestoreTestConfig;
  static const KeyTable<C> table = {
      schedule("schedule", &C::schedule)
          .doc("When the daemon runs a restore test. A target never tested, or that missed its "
               "last slot, is tested at once; a failed test waits for its next slot."),
      choice("pick", &C::pick, {"random", "latest"})
          .doc("`random`: a random good backup younger than `max_age`; `latest`: the newest."),
      choice("roles", &C::roles, {"nologin", "as_backed_up", "none"})
          .doc("The roles the backup needs and the test server lacks: created NOLOGIN without "
               "passwords (`nologin`), as they were backed up (`as_backed_up`), or not at all "
               "(`none`: restored without owners and grants). Roles a test creates are dropped "
               "after it."),
      duration("max_age", &C::max_age)
          .doc("The oldest backup a test may pick; with none younger, the test fails."),
      optional_database(database("database", &C::database))
          .doc("The scratch database, with the keys of `database`: dropped and re-created at "
               "each test, so it must not be any target's production database (another dbname, "
               "host or port; localhost, 127.0.0.1, ::1 and socket directories count as one "
               "host). Its role needs CREATEDB. Required for pg_dump targets; pgBackRest targets "
               "test in a scratch cluster of their own and do not use it."),
      whole("jobs", &C::jobs, 1, 64).doc("`pg_restore --jobs`."),
      duration("rto_target", &C::rto_target)
          .doc("The restore time to stay under; a test's duration is the measured RTO."),
      checks_key(),
      shown_when_set(
          choice("target", &C::recovery_target, {"latest", "random_time"}),
          [](const C& c) { return c.recovery_target != "latest"; }, "`latest`")
          .doc("pgBackRest targets: the point a test restores to, the end of the archive "
               "(`latest`) or a random time inside the recovery window (`random_time`)."),
      shown_when_set(
          ConfigKey<C>{"scratch_dir",
                       [](const Section& s, const char* k, C& c) {
                         c.scratch_dir = s.string(k, c.scratch_dir.string());
                         if (!c.scratch_dir.is_absolute()) {
                           s.fail(s.get(k), s.key_path(k) + " must be an absolute path");
                         }
                       },
                       [](YAML::Emitter& out, const char* k, const C& c) {
                         emit(out, k, c.scratch_dir.string());
                       }},
          [](const C& c) { return c.scratch_dir != C{}.scratch_dir; },
          "`/var/lib/pgbackup/scratch`")
          .kind("path")
          .doc("pgBackRest targets: where a test restores its scratch cluster (a fresh 0700 "
               "directory per test, removed after it). Never PGDATA or inside it; its owner runs "
               "the scratch postmaster when the agent runs as root."),
      shown_when_set(
          settings_key(), [](const C& c) { return !c.settings.empty(); }, "`{}`"),
      heartbeat_key(),
  };
  return table;
}

const KeyTable<RestoreConfig>& restore_keys() {
  using R = RestoreConfig;
  static const KeyTable<R> table = {
      ConfigKey<R>{"stop_command",
                   [](const Section& s, const char* k, R& r) { r.stop_command = s.string_list(k); },
                   {}}
          .kind("argv list")
          .doc("Run (no shell) before `restore` changes the database, e.g. `[docker, compose, "
               "stop, blue, green, staging]`."),
      ConfigKey<R>{
          "start_command",
          [](const Section& s, const char* k, R& r) { r.start_command = s.string_list(k); },
          {}}
          .kind("argv list")
          .doc("Run (no shell) after a restore, only when every step of it succeeded."),
  };
  return table;
}

// An optional section: absent, the member stays empty and config-check leaves it out.
template <typename S>
ConfigKey<TargetConfig> optional_section(const char* name, std::optional<S> TargetConfig::*field,
                                         void (*parse)(const Section&, TargetConfig&),
                                         const KeyTable<S>& (*table)()) {
  return ConfigKey<TargetConfig>{name,
                                 [=](const Section& s, const char* k, TargetConfig& t) {
                                   if (s.has(k)) parse(s.section(k), t);
                                 },
                                 [=](YAML::Emitter& out, const char* k, const TargetConfig& t) {
                                   if (!(t.*field)) return;
                                   out << YAML::Key << k << YAML::Value;
                                   render_keys(out, table(), *(t.*field));
                                 }}
      .kind("section")
      .defaults_to("none")
      .with_keys(table);
}

void parse_restore_test(const Section& rt, TargetConfig& t) {
  RestoreTestConfig c;
  parse_keys(rt, restore_test_keys(), c);
  const DatabaseConfig& prod = t.database;
  if (!rt.has("database")) {
    if (t.engine != EngineKind::pgbackrest) {
      rt.fail(rt.node(), rt.key_path("database") + " is required");
    }
  } else if (same_server(c.database, prod) && c.database.dbname == prod.dbname) {
    rt.fail(rt.get("database"),
            rt.key_path("database") +
                " is the production database; the restore test drops and re-creates it, so it "
                "must differ in host, port or dbname (localhost, 127.0.0.1, ::1 and socket "
                "directories count as one host)");
  }
  if (c.heartbeat && t.engine != EngineKind::pgbackrest) {
    rt.fail(rt.get("heartbeat"),
            rt.key_path("heartbeat") +
                " is for pgbackrest targets: a pg_dump restore test restores a dump, not a point "
                "in time, so no heartbeat bound can be proven; hint: remove it, or set `engine: "
                "pgbackrest`");
  }
  t.restore_test = c;
}

// `backup`: the section builder's rendering; required, and file_prefix defaults to the name.
ConfigKey<TargetConfig> backup_key() {
  ConfigKey<TargetConfig> key = section("backup", &TargetConfig::backup, backup_keys);
  key.parse = [](const Section& s, const char* k, TargetConfig& t) {
    if (!s.has(k)) s.fail(s.node(), s.key_path(k) + " is required");
    t.backup.file_prefix = t.name;  // the default prefix
    parse_keys(s.section(k), backup_keys(), t.backup);
  };
  return std::move(key).defaults_to("required");
}

// `offsite`: absent, nothing is copied and config-check leaves it out.
ConfigKey<TargetConfig> offsite_key() {
  ConfigKey<TargetConfig> key = section("offsite", &TargetConfig::offsite_s3, offsite_keys);
  key.parse = [](const Section& s, const char* k, TargetConfig& t) {
    if (s.has(k)) parse_keys(s.section(k), offsite_keys(), t.offsite_s3);
  };
  key.render = [written = key.render](YAML::Emitter& out, const char* k, const TargetConfig& t) {
    if (t.offsite_s3) written(out, k, t);
  };
  return std::move(key).defaults_to("none");
}

}  // namespace

bool same_server(const DatabaseConfig& a, const DatabaseConfig& b) {
  return a.port == b.port && normalized_host(a.host) == normalized_host(b.host);
}

const KeyTable<TargetConfig>& target_keys() {
  using T = TargetConfig;
  static const KeyTable<T> table = {
      ConfigKey<T>{"name",
                   [](const Section& s, const char* k, T& t) {
                     t.name = s.required_string(k);
                     if (!std::regex_match(t.name, std::regex("[a-z0-9_-]+"))) {
                       s.fail(s.get(k), s.key_path(k) + " \"" + t.name +
                                            "\" may only contain a-z, 0-9, _ and - (it becomes "
                                            "the target label)");
                     }
                   },
                   [](YAML::Emitter& out, const char* k, const T& t) { emit(out, k, t.name); }}
          .kind("string of `a-z0-9_-`")
          .defaults_to("required")
          .doc("The target's name: the `target` label of its metrics, and `--target NAME`."),
      database("database", &T::database)
          .doc("The database to back up. The role needs to read everything in it (`GRANT "
               "pg_read_all_data`, PostgreSQL 14+); `restore` needs more (it drops and creates)."),
      engine_key(),
      pgbackrest_key(),
      backup_key().doc("Where, when and how backups are taken."),
      section("anomaly", &T::anomaly, anomaly_keys, /*flow=*/true)
          .doc("When a backup's size or a table's rows look wrong (the size check of each "
               "backup, recorded in its manifest)."),
      section("retention", &T::retention, retention_keys, /*flow=*/true)
          .doc("How long backups are kept, by tier: monthly is the first good backup of a UTC "
               "month, weekly the first of an ISO week, daily the rest. Off-site copies follow "
               "the same windows."),
      optional_section("restore_test", &T::restore_test, parse_restore_test, restore_test_keys)
          .doc("Restore a backup into a scratch database regularly and check it."),
      offsite_key().doc("Where backups are copied off-site (`s3`)."),
      rpo_target_key(),
      verify_key(),
      optional_section("encryption", &T::encryption, parse_encryption, encryption_keys)
          .doc("Encrypt every dump and globals file with age as it is written (pg_dump targets): "
               "`<prefix>_YYYYMMDD_HHMMSS.dump.age`, decryptable anywhere with `age -d -i KEY`. "
               "A pgbackrest target refuses it: set repo1-cipher-type and repo1-cipher-pass in "
               "pgbackrest.conf, and the agent reports the repository's cipher."),
      // config-check has never shown the restore commands; its output stays as it was.
      ConfigKey<T>{"restore",
                   [](const Section& s, const char* k, T& t) {
                     parse_keys(s.section(k), restore_keys(), t.restore);
                   },
                   {}}
          .kind("section")
          .doc("Commands run around a production `restore`.")
          .with_keys(restore_keys),
  };
  return table;
}

}  // namespace pgbackup
