#pragma once

// The pgBackRest engine's part of a production restore (engines/restorer.h, issue 23): a
// point-in-time restore of the stanza's cluster to --time, --lsn or --latest. Before anything
// changes: the target inside the recovery window (else refused, naming it), the backup set
// chosen, the database's system identifier the stanza's. Then, once stop_command stopped
// PostgreSQL, `pgbackrest restore --delta --set=LABEL` with the target and
// --target-action=promote; after start_command, the wait for promotion and the checks (a
// connection, the system identifier, a new timeline). With --pg-path DIR it restores into that
// new, empty directory instead (--archive-mode=off, so it never archives into the stanza),
// leaves production alone and starts nothing: it says how to start it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "agent/config/config.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/engine.h"
#include "agent/engines/pgbackrest/cli.h"
#include "agent/engines/pgbackrest/info.h"
#include "agent/engines/pgbackrest/restore_args.h"
#include "agent/engines/restorer.h"
#include "agent/postgres/postgres.h"

namespace pgbackup {

class PgBackRestRestorer final : public Restorer {
 public:
  // `engine` reads the catalogue and the recovery window; it must outlive the restorer.
  PgBackRestRestorer(const BackupEngine& engine, const TargetConfig& target,
                     pgbackrest::PgBackRestSettings settings, const RestoreRequest& request,
                     RestoreJournal& journal);

  void check() override;
  std::string no_safety_reason() const override;
  BackupType safety_backup_type() const override { return BackupType::incr; }
  std::string safety_backup_place() const override;
  bool replaces_production() const override { return !request_.pg_path; }
  void print_plan_source() const override;
  void print_plan_method() const override;
  std::string start_condition() const override {
    return "only when pgbackrest restore succeeds; then the agent waits for the promotion";
  }
  nlohmann::json plan_details() const override;
  nlohmann::json identity() const override;
  void ready() override {}
  void put_back() override;
  void check_started() override;
  std::string done_text() const override;
  std::string state_after_failure(const std::string& step) override;
  bool data_touched() const override { return restore_started_; }
  std::string go_back_command(const std::filesystem::path& safety) const override;
  std::string retry_command() const override;
  std::string start_failure_text(const std::string& error) const override;

 private:
  pgbackrest::PgBackRestCli cli(std::chrono::milliseconds timeout) const;
  // "--time 2026-12-06T14:04:00Z", "--lsn 0/3000060" or "--latest".
  std::string target_text() const;
  // What `pgbackrest restore` is given (restore_args.h).
  pgbackrest::RestoreRequest restore_request() const;
  std::string data_dir_text() const;
  // Audits and throws `refusal` (a target outside the window) unless it is empty.
  void refuse_if(const std::string& refusal) const;
  void check_pg_path() const;
  void probe_database();
  void make_pg_path() const;
  void wait_for_promotion();
  void check_restored();

  const BackupEngine& engine_;
  const TargetConfig& target_;
  const pgbackrest::PgBackRestSettings settings_;
  const RestoreRequest& request_;
  RestoreJournal& journal_;
  const DatabaseEndpoint endpoint_;
  pgbackrest::InfoStanza stanza_;
  pgbackrest::InfoBackup set_;    // the backup set restored
  RecoveryWindow window_;         // the recovery window, as checked
  std::string archive_end_;       // the archive's newest segment, or empty
  std::string production_dir_;    // the stanza's pg1-path (pgbackrest.conf), or empty
  std::string data_dir_;          // what is restored into: --pg-path or production_dir_
  std::string unreachable_;       // why the database cannot be reached, or empty
  std::uint64_t system_id_ = 0;   // the stanza's cluster
  bool restore_started_ = false;  // pgbackrest restore started
};

}  // namespace pgbackup
