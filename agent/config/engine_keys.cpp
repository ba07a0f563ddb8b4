// The keys of DESIGN §11 (`engine`, `pgbackrest`, the schedule per backup type, `rpo_target`,
// `verify`) and the checks that tie them together. Static checks only: whether pgbackrest.conf
// names the stanza and the server archives into it is engines/pgbackrest/preflight's.
#include <yaml-cpp/yaml.h>

#include "agent/config/target_keys.h"

namespace pgbackup {
namespace {

using namespace keys;

const char* engine_name(EngineKind kind) {
  return kind == EngineKind::pgbackrest ? "pgbackrest" : "pg_dump";
}

const KeyTable<PgBackRestConfig>& pgbackrest_keys() {
  using P = PgBackRestConfig;
  static const KeyTable<P> table = {
      required_text("stanza", &P::stanza)
          .doc("The pgBackRest stanza this target's backups and WAL archive belong to."),
      ConfigKey<P>{
          "config",
          [](const Section& s, const char* k, P& p) { p.config = s.string(k, p.config.string()); },
          [](YAML::Emitter& out, const char* k, const P& p) {
            if (!p.config.empty()) emit(out, k, p.config.string());
          }}
          .kind("path")
          .defaults_to("pgBackRest's default")
          .doc("The operator's pgbackrest.conf, passed as `--config`; the agent reads it and "
               "never writes it."),
      whole("repo", &P::repo, 1, 256)
          .doc("The repository (`repoN-` of pgbackrest.conf) the agent backs up to and reads."),
      ConfigKey<P>{"command",
                   [](const Section& s, const char* k, P& p) {
                     if (!s.has(k)) return;
                     p.command = s.string_list(k);
                     if (p.command.empty() || p.command.front().empty()) {
                       s.fail(s.get(k), s.key_path(k) +
                                            " must be a non-empty argv list, e.g. [pgbackrest] "
                                            "or [sudo, -n, -u, postgres, pgbackrest]");
                     }
                   },
                   [](YAML::Emitter& out, const char* k, const P& p) {
                     out << YAML::Key << k << YAML::Value << YAML::Flow << p.command;
                   }}
          .kind("argv list")
          .doc("The argv prefix that runs pgbackrest (no shell), e.g. `[sudo, -n, -u, postgres, "
               "pgbackrest]` to run it as the owner of PGDATA."),
  };
  return table;
}

const KeyTable<VerifyConfig>& verify_keys() {
  static const KeyTable<VerifyConfig> table = {
      ConfigKey<VerifyConfig>{"schedule",
                              [](const Section& s, const char* k, VerifyConfig& v) {
                                if (!s.has(k)) s.fail(s.node(), s.key_path(k) + " is required");
                                v.schedule = s.schedule(k, "");
                              },
                              [](YAML::Emitter& out, const char* k, const VerifyConfig& v) {
                                out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted
                                    << v.schedule;
                              }}
          .kind("cron schedule (UTC)")
          .defaults_to("required")
          .doc("When the daemon re-proves the stored backups (`verify`)."),
  };
  return table;
}

// An optional section of a target read with `table`: absent, the member stays unset and
// config-check leaves it out (`flow`: written on one line).
template <typename S>
ConfigKey<TargetConfig> optional_keys(const char* name, std::optional<S> TargetConfig::*field,
                                      const KeyTable<S>& (*table)(), bool flow) {
  using T = TargetConfig;
  return ConfigKey<T>{name,
                      [=](const Section& s, const char* k, T& t) {
                        if (s.has(k)) parse_keys(s.section(k), table(), (t.*field).emplace());
                      },
                      [=](YAML::Emitter& out, const char* k, const T& t) {
                        if (!(t.*field)) return;
                        out << YAML::Key << k << YAML::Value;
                        if (flow) out << YAML::Flow;
                        render_keys(out, table(), *(t.*field));
                      }}
      .kind("section")
      .defaults_to("none")
      .with_keys(table);
}

// The YAML node of `backup.schedule`, or a null node.
YAML::Node schedule_node(const Section& target) {
  if (!target.has("backup")) return YAML::Node();
  return target.section("backup").get("schedule");
}

}  // namespace

ConfigKey<TargetConfig> engine_key() {
  using T = TargetConfig;
  return ConfigKey<T>{"engine",
                      [](const Section& s, const char* k, T& t) {
                        const std::string v = s.choice(k, "pg_dump", {"pg_dump", "pgbackrest"});
                        t.engine = v == "pgbackrest" ? EngineKind::pgbackrest : EngineKind::pg_dump;
                      },
                      // Shown for pgbackrest targets only: a pg_dump target's output is as it was.
                      [](YAML::Emitter& out, const char* k, const T& t) {
                        if (t.engine != EngineKind::pg_dump) emit(out, k, engine_name(t.engine));
                      }}
      .kind("`pg_dump` or `pgbackrest`")
      .defaults_to("`pg_dump`")
      .doc(
          "What takes the backups: `pg_dump` (a logical dump file per backup) or `pgbackrest` "
          "(physical full, diff and incr backups with continuous WAL archiving, DESIGN §11; "
          "needs the `pgbackrest` section).");
}

ConfigKey<TargetConfig> pgbackrest_key() {
  return optional_keys("pgbackrest", &TargetConfig::pgbackrest, pgbackrest_keys, false)
      .doc("How the agent reaches the operator's pgBackRest (with `engine: pgbackrest`).");
}

ConfigKey<BackupConfig> backup_schedule_key() {
  using B = BackupConfig;
  return ConfigKey<B>{
      "schedule",
      [](const Section& s, const char* k, B& b) {
        if (!s.has(k) || !s.get(k).IsMap()) {
          b.schedule = s.schedule(k, b.schedule);
          return;
        }
        const Section types = s.section(k);
        types.allow_only({"full", "diff", "incr"});
        if (!types.has("full")) {
          types.fail(types.node(), types.key_path("full") +
                                       " is required (the full backups' schedule); hint: "
                                       "{full: \"0 2 * * 0\", diff: \"0 2 * * 1-6\"}");
        }
        b.schedule = types.schedule("full", b.schedule);
        // Absent: that type is not scheduled.
        if (types.has("diff")) b.diff_schedule = types.schedule("diff", "");
        if (types.has("incr")) b.incr_schedule = types.schedule("incr", "");
      },
      [](YAML::Emitter& out, const char* k, const B& b) {
        out << YAML::Key << k << YAML::Value;
        if (b.diff_schedule.empty() && b.incr_schedule.empty()) {
          out << YAML::DoubleQuoted << b.schedule;
          return;
        }
        out << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "full" << YAML::Value << YAML::DoubleQuoted << b.schedule;
        if (!b.diff_schedule.empty()) {
          out << YAML::Key << "diff" << YAML::Value << YAML::DoubleQuoted << b.diff_schedule;
        }
        if (!b.incr_schedule.empty()) {
          out << YAML::Key << "incr" << YAML::Value << YAML::DoubleQuoted << b.incr_schedule;
        }
        out << YAML::EndMap;
      }}
      .kind("cron schedule (UTC), or `{full, diff, incr}`")
      .doc(
          "When the daemon backs up. A target that never backed up, or missed its last slot, "
          "backs up at once. With `engine: pgbackrest` a mapping gives each backup type its "
          "own schedule (`full` required, `diff` and `incr` optional); a string is the full "
          "backups' schedule.");
}

ConfigKey<TargetConfig> rpo_target_key() {
  return optional_duration("rpo_target", &TargetConfig::rpo_target)
      .doc(
          "How old the newest change not yet in the backups may be (the recovery point "
          "objective); `pgbackup_rpo_exposure_seconds` above it fires `PgBackupRpoExceeded`.");
}

ConfigKey<TargetConfig> verify_key() {
  return optional_keys("verify", &TargetConfig::verify, verify_keys, true)
      .doc("Re-prove the stored backups on a schedule of their own (as `verify` does).");
}

void check_engine_keys(const Section& target, const TargetConfig& t) {
  const bool physical = t.engine == EngineKind::pgbackrest;
  if (physical && !t.pgbackrest) {
    target.fail(target.get("engine"),
                target.key_path("engine") +
                    " is pgbackrest but the target has no pgbackrest section; hint: add "
                    "`pgbackrest: {stanza: NAME, config: /etc/pgbackrest/pgbackrest.conf}`");
  }
  if (!physical && t.pgbackrest) {
    target.fail(target.get("pgbackrest"),
                target.key_path("pgbackrest") +
                    " is set but the target's engine is pg_dump; hint: add `engine: pgbackrest` "
                    "or remove the section");
  }
  if (physical && t.encryption) {
    // pgBackRest encrypts its repository itself; the agent only reports the cipher (DESIGN §12).
    target.fail(target.get("encryption"),
                target.key_path("encryption") +
                    " is for pg_dump targets; a pgbackrest target's backups are encrypted by "
                    "pgBackRest; hint: remove the section and set repo1-cipher-type=aes-256-cbc "
                    "and repo1-cipher-pass in pgbackrest.conf (before stanza-create: an existing "
                    "repository keeps its cipher)");
  }
  const YAML::Node schedule = schedule_node(target);
  if (!physical && schedule && schedule.IsMap()) {
    target.fail(schedule, target.key_path("backup.schedule") +
                              " gives a schedule per backup type, which only pgbackrest targets "
                              "have; hint: a pg_dump target takes one cron string, e.g. \"0 2 * "
                              "* *\" (or set `engine: pgbackrest`)");
  }
}

}  // namespace pgbackup
