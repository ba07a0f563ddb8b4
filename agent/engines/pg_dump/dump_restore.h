#pragma once

// The pg_dump engine's part of a production restore (engines/restorer.h): verify the dump,
// check the server can take it (TimescaleDB's version, the roles and database from the
// backup's companion file), then, once the application is stopped: create what the server
// lacks, timescaledb_pre_restore(), pg_restore --clean --if-exists (or a partial --table
// restore in one transaction), timescaledb_post_restore(), the database's settings, and the row
// counts against the manifest.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "agent/catalog/manifest.h"
#include "agent/config/config.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/pg_dump/dump_crypto.h"
#include "agent/engines/restorer.h"
#include "agent/jobs/offsite.h"
#include "agent/postgres/cluster_globals.h"
#include "agent/postgres/postgres.h"
#include "agent/rules/cluster_plan.h"

namespace pgbackup {

// The backup a restore reads: the entry of `target`'s repository named by FILE, or the newest
// good one.
CatalogEntry resolve_backup(const TargetConfig& target, const RestoreRequest& request);

// "schema.name", as --table and the messages spell a table.
std::string qualified_name(const TableRows& t);

class PgDumpRestorer final : public Restorer {
 public:
  PgDumpRestorer(const TargetConfig& target, const RestoreRequest& request,
                 RestoreJournal& journal);

  void check() override;
  std::string no_safety_reason() const override { return no_safety_reason_; }
  BackupType safety_backup_type() const override { return BackupType::full; }
  std::string safety_backup_place() const override;
  void print_plan_source() const override;
  void print_plan_method() const override;
  std::string start_condition() const override {
    return "only when the restore and its row counts succeed";
  }
  nlohmann::json plan_details() const override;
  nlohmann::json identity() const override;
  void ready() override;
  void put_back() override;
  void check_started() override {}
  std::string done_text() const override;
  std::string state_after_failure(const std::string& step) override;
  bool data_touched() const override { return database_touched_; }
  std::string go_back_command(const std::filesystem::path& safety) const override;
  std::string retry_command() const override;
  std::string start_failure_text(const std::string& error) const override;

 private:
  const std::string& dbname() const { return endpoint_.config().dbname; }
  bool into_own_database() const { return dbname() == target_.database.dbname; }
  bool partial() const { return !request_.tables.empty(); }
  bool creates_database() const { return cluster_ && cluster_->create_database; }
  // " --target T [--dbname DB]": the arguments every suggested command repeats.
  std::string command_args() const;

  // dump_restore.cpp: the backup, the data and the failure's state.
  void verify();
  void restore_data();
  std::filesystem::path write_partial_list();
  std::string pg_restore_text() const;
  void compare_counts();
  std::string end_timescaledb_restore();
  std::string database_state(const std::string& step) const;
  // dump_restore_server.cpp: what the server has and lacks, and creating it.
  void refuse_partial_hypertables() const;
  void probe_database();
  std::unique_ptr<pqxx::connection> connect_maintenance() const;
  void plan_cluster_objects(pqxx::connection& conn);
  void print_cluster_plan() const;
  void create_cluster_objects();
  void apply_database_statements();

  const TargetConfig& target_;
  const RestoreRequest& request_;
  RestoreJournal& journal_;
  const DatabaseEndpoint endpoint_;
  // s3://bucket/key: a new server with nothing but the bucket (the seed's scenario 3). The copy
  // is checked against its manifest on arrival and removed when the restore is over.
  std::optional<FetchedBackup> fetched_;
  CatalogEntry backup_;
  std::vector<TableRows> tables_;           // what is restored (all, or the --table ones)
  std::filesystem::path dump_file_;         // what pg_restore reads: the dump or its plaintext
  std::optional<DecryptedDump> decrypted_;  // an encrypted dump's plaintext, removed with it
  std::vector<TableRows> aggregates_;       // continuous aggregates checked after a full restore
  std::string timescaledb_;                 // the version the backup needs, or empty
  std::string unreachable_;                 // why the database cannot be reached, or empty
  std::string no_safety_reason_;            // why no safety backup is taken, or empty
  // The backup's companion file, when it has one, and what the restore creates from it.
  std::optional<ClusterGlobals> globals_;
  std::optional<ClusterPlan> cluster_;
  bool roles_created_ = false;             // the plan's roles exist now (they stay after a failure)
  bool database_created_ = false;          // this restore created the database
  bool database_touched_ = false;          // pg_restore (or TimescaleDB's pre-restore) started
  bool timescaledb_restoring_ = false;     // pre_restore ran, post_restore has not (yet)
  std::string timescaledb_after_failure_;  // what end_timescaledb_restore() did
};

}  // namespace pgbackup
