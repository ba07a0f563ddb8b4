#pragma once

// What the S3 integration tests share: a target of synthetic backups copied to an s3rver
// (tests/support/s3_server.h), a client of its bucket, and its requests as the proxy logged them.

#include <chrono>
#include <string>
#include <vector>

#include "agent/jobs/offsite.h"
#include "agent/storage/s3/client.h"
#include "tests/support/daemon.h"
#include "tests/support/fake_backup.h"
#include "tests/support/process.h"
#include "tests/support/s3_server.h"
#include "tests/support/target.h"

namespace pgtest {

inline const auto kNow = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

// A target of synthetic backups (no database needed) copied to `s3`.
struct OffsiteTarget {
  fs::path root = make_temp_dir("offsite");
  fs::path dir = root / "backups";
  fs::path config = root / "pgbackup.yml";

  OffsiteTarget(const S3Server& s3, const std::string& offsite_extra,
                const std::string& retention = "") {
    write_config(s3, offsite_extra, retention);
  }
  void write_config(const S3Server& s3, const std::string& offsite_extra,
                    const std::string& retention) const {
    write_text(config,
               "targets:\n  - name: synthetic\n    database: {user: u, dbname: d}\n"
               "    backup: {dir: " +
                   dir.string() + "}\n" + retention + s3.offsite_yaml("db1/", offsite_extra));
  }
  AgentRun agent(const S3Server& s3, std::vector<std::string> args,
                 const std::string& secret = S3Server::kSecretKey) const {
    args.insert(args.begin(), {"--config", config.string()});
    return run_agent(args, s3.key_env(secret));
  }
  nlohmann::json manifest(const fs::path& dump) const {
    return nlohmann::json::parse(read_text_file(dump.string() + ".json"));
  }
  std::string state() const { return read_text_file(dir / ".pgbackup/state.json"); }
  std::string audit() const { return read_text_file(dir / ".pgbackup/audit.jsonl"); }
  // The target as a new server sees it, fetching from the bucket (fetch_offsite_backup), with
  // the keys in this process's environment.
  pgbackup::TargetConfig fetching_target(const S3Server& s3) const {
    pgbackup::TargetConfig target;
    target.name = "synthetic";
    target.backup.dir = root / "elsewhere";
    target.offsite_s3 = s3.config("db1/");
    for (const auto& [name, value] : s3.key_env()) ::setenv(name.c_str(), value.c_str(), 1);
    return target;
  }
  // `dump`, fetched back from the bucket into a temporary directory under root as a new server
  // would (fetch_offsite_backup), with that transfer timeout.
  pgbackup::FetchedBackup fetch(
      const S3Server& s3, const fs::path& dump,
      std::chrono::seconds stall_timeout = std::chrono::seconds(60)) const {
    pgbackup::TargetConfig target = fetching_target(s3);
    target.offsite_s3->stall_timeout = stall_timeout;
    const pgbackup::SystemClock clock;
    return pgbackup::fetch_offsite_backup(target,
                                          "s3://pgtest-bucket/db1/" + dump.filename().string(),
                                          root / "tmp", pgbackup::JobContext{clock});
  }
};

// The daemon's metrics once it has copied its first backup of `target` off-site and has none
// left to copy.
inline std::string metrics_once_copied(const Daemon& daemon, const std::string& target) {
  daemon.wait_for_metric("pgbackup_offsite_uploads_total\\{target=\"" + target + "\"\\} 1\n");
  return daemon.wait_for_metric("pgbackup_offsite_pending_backups\\{target=\"" + target +
                                "\"\\} 0\n");
}

inline pgbackup::S3Client client_for(const S3Server& s3, const std::string& prefix = "db1/") {
  return pgbackup::S3Client(s3.config(prefix), {S3Server::kAccessKey, S3Server::kSecretKey});
}

inline std::vector<nlohmann::json> requests_matching(const S3Server& s3, const std::string& method,
                                                     const std::string& query_part) {
  std::vector<nlohmann::json> out;
  for (const auto& r : s3.requests()) {
    if (r["method"] == method &&
        r["query"].get<std::string>().find(query_part) != std::string::npos)
      out.push_back(r);
  }
  return out;
}

}  // namespace pgtest
