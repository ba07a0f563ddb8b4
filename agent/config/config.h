#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace pgbackup {

// A configuration that cannot be used; the message names the key and line and says what to do.
// Commands exit with status 2 on it.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DatabaseConfig {
  std::string host = "localhost";
  int port = 5432;
  std::string user;
  std::string dbname;
  std::string password_env;  // name of the variable holding the password, never the password
  std::string passfile;
  std::chrono::seconds connect_timeout{10};
};

struct BackupConfig {
  std::filesystem::path dir;
  std::string file_prefix;
  // The full backups' cron schedule: `backup.schedule` as a string (pg_dump), or its `full` with
  // `engine: pgbackrest`, whose `diff` and `incr` schedules follow ("": that type is not
  // scheduled). DESIGN §11.
  std::string schedule = "0 2 * * *";
  std::string diff_schedule;
  std::string incr_schedule;
  int compression = 9;
  std::chrono::seconds timeout{2 * 3600};
  bool row_counts = true;
};

struct AnomalyConfig {
  int window = 7;
  double min_ratio = 0.5;
  double max_ratio = 3.0;
  std::uint64_t min_size = 1024;
  double table_drop_ratio = 0.5;
};

struct RetentionConfig {
  std::chrono::seconds daily{30 * 86400};
  std::chrono::seconds weekly{90 * 86400};
  std::chrono::seconds monthly{365 * 86400};
  int min_keep = 3;
};

struct RestoreTestConfig {
  std::string schedule = "0 4 * * 0";
  std::string pick = "random";  // random | latest
  // The roles the backup needs and the test server lacks: created NOLOGIN without passwords
  // (nologin), as they were (as_backed_up), or not at all (none: restored without owners).
  std::string roles = "nologin";
  std::chrono::seconds max_age{30 * 86400};
  DatabaseConfig database;
  int jobs = 2;
  std::chrono::seconds rto_target{30 * 60};
  struct Check {
    std::string name;
    std::string sql;
  };
  std::vector<Check> checks;
  // pgBackRest targets (DESIGN §11): the point restored to (latest | random_time), where the
  // scratch cluster goes, and settings written into its postgresql.conf.
  std::string recovery_target = "latest";
  std::filesystem::path scratch_dir = "/var/lib/pgbackup/scratch";
  std::map<std::string, std::string> settings;
  // The recovery-point probe (pgBackRest targets): the cadence at which the daemon writes now()
  // into pgbackup.heartbeat on the production database; a test then proves the newest heartbeat
  // it restored lies within one cadence before its target. Unset: off.
  std::optional<std::chrono::seconds> heartbeat;
};

struct RestoreConfig {
  std::vector<std::string> stop_command;
  std::vector<std::string> start_command;
};

struct S3Config {
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;
  std::string access_key_id_env = "AWS_ACCESS_KEY_ID";
  std::string secret_access_key_env = "AWS_SECRET_ACCESS_KEY";
  std::vector<std::string> tiers{"weekly", "monthly"};
  std::map<std::string, std::string> storage_class;
  std::string server_side_encryption;
  std::string kms_key_id;
  bool path_style = false;
  // Transfer knobs: files of multipart_threshold or more are uploaded in parts of part_size
  // (S3's minimum part is 5 MiB); list_page_size is ListObjectsV2's max-keys.
  std::uint64_t multipart_threshold = 64ull << 20;
  std::uint64_t part_size = 16ull << 20;
  int list_page_size = 1000;
  // A transfer moving under 1 KiB/s for this long is cut and retried.
  std::chrono::seconds stall_timeout{60};
};

// Which engine takes a target's backups (engines/make_engine.cpp decides from it, nothing else
// does).
enum class EngineKind { pg_dump, pgbackrest };

// The target's `pgbackrest:` section (DESIGN §11): how to reach the operator's own pgBackRest,
// whose configuration the agent reads and never writes.
struct PgBackRestConfig {
  std::string stanza;
  std::filesystem::path config;  // pgbackrest.conf; "" for pgBackRest's default
  int repo = 1;
  // The argv prefix that runs pgbackrest as the PGDATA owner, e.g. [sudo, -n, -u, postgres,
  // pgbackrest].
  std::vector<std::string> command{"pgbackrest"};
};

// `verify:`: re-proving the stored backups on a schedule of their own.
struct VerifyConfig {
  std::string schedule;
};

// age encryption of pg_dump targets (agent/crypto/age.h). Recipients are public keys, enough to
// encrypt; the identity (the secret key) is needed, and checked, only where something is
// decrypted, so parse_config never opens it.
struct EncryptionConfig {
  std::vector<std::string> recipients;       // as listed under `recipients`
  std::filesystem::path recipients_file;     // empty: none
  std::vector<std::string> file_recipients;  // read from recipients_file when parsed
  std::filesystem::path identity_file;       // empty: this host cannot decrypt

  // Every recipient a backup is encrypted to: the listed ones, then the file's.
  std::vector<std::string> all_recipients() const;
};

struct TargetConfig {
  std::string name;
  EngineKind engine = EngineKind::pg_dump;
  std::optional<PgBackRestConfig> pgbackrest;  // set when engine is pgbackrest
  DatabaseConfig database;
  BackupConfig backup;
  AnomalyConfig anomaly;
  RetentionConfig retention;
  std::optional<RestoreTestConfig> restore_test;
  RestoreConfig restore;
  std::optional<S3Config> offsite_s3;
  // How old the newest change not yet in the backups may be (`rpo_target`, DESIGN §11).
  std::optional<std::chrono::seconds> rpo_target;
  std::optional<VerifyConfig> verify;
  std::optional<EncryptionConfig> encryption;

  // <backup.dir>/.pgbackup: state, audit log, lock.
  std::filesystem::path state_dir() const { return backup.dir / ".pgbackup"; }
};

struct WebSettings {
  std::vector<std::string> listen_addresses{":10115"};
  std::string config_file;
};

struct Config {
  WebSettings web;
  std::string audit_log;  // empty: <backup.dir>/.pgbackup/audit.jsonl per target
  std::vector<TargetConfig> targets;
  std::string source;  // the file it came from, or "environment"

  // The audit log of a target: the configured one or the default under its backup dir.
  std::filesystem::path audit_log_for(const TargetConfig& target) const;
  // The target called `name`, or the only one when `name` is empty. Throws ConfigError.
  const TargetConfig& find_target(const std::string& name) const;
};

// Parses YAML config text. `source` names the file in error messages.
Config parse_config(const std::string& yaml_text, const std::string& source);
// Reads and parses a config file.
Config load_config_file(const std::filesystem::path& path);
// The seed's environment-only mode: POSTGRES_HOST/PORT/USER/DB/PASSWORD and BACKUP_DIR.
Config config_from_environment();

// The config as YAML with secrets redacted (config-check prints it).
std::string render_config(const Config& config);

}  // namespace pgbackup
