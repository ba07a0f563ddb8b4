#pragma once

// "Put the data back" (issue 23): the engine's part of a production restore.
//
// One restore flow serves both engines (jobs/restore.cpp, STYLE.md point 9): plan, confirm
// (typed YES or --yes), safety backup (through the engine's backup verb, of the type the
// restorer asks for), stop_command, put back, start_command, the checks, every step in the audit
// log and one failure report. Only what the plan says about the data, putting it back and what a
// failure left of it differ: a Restorer, which BackupEngine::restorer() makes, answers those.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/engines/backup_type.h"
#include "agent/jobs/job_context.h"
#include "agent/rules/recovery_target.h"

namespace pgbackup {

// What `pgbackup-agent restore` was asked to do (DESIGN §2, §6, §11).
struct RestoreRequest {
  std::optional<std::string> file;  // FILE (pg_dump); empty with --latest
  std::vector<std::string> tables;  // --table: a partial restore of these ("name", "schema.name")
  std::string dbname;               // --dbname: another database on the same server
  int jobs = 2;                     // pg_restore --jobs
  bool assume_yes = false;          // --yes: no question asked
  bool safety_backup = true;        // false with --no-safety-backup
  // Create the roles the backup needs (its companion file) that the server lacks; false with
  // --no-roles, when a missing one is a refusal.
  bool create_roles = true;
  // pgBackRest: --time TS, --lsn LSN or --latest (the default) ...
  RecoveryTarget recovery_target;
  // ... into this new, empty directory instead of the stanza's data directory (--pg-path).
  std::optional<std::filesystem::path> pg_path;
};

// The audit log of one restore and the step it is at: what the flow and its restorer share.
class RestoreJournal {
 public:
  RestoreJournal(std::filesystem::path audit_log, std::string target, const JobContext& ctx)
      : audit_log_(std::move(audit_log)), target_(std::move(target)), ctx_(ctx) {}

  // Appends {target, operation: restore, step, outcome, database, ...details}; best effort (a
  // full disk must not turn a good restore into a failure): a warning on stderr otherwise.
  void audit(const std::string& step, const std::string& outcome,
             nlohmann::json details = nlohmann::json::object());
  // The step that runs now: a failure is reported as "restore FAILED at STEP".
  void begin(std::string step) { step_ = std::move(step); }
  const std::string& step() const { return step_; }
  bool stopping() const { return ctx_.cancelled(); }
  // Between steps: a stop request (Ctrl-C, SIGTERM) ends the restore through the failure
  // report; the running step's child is stopped via ctx().cancel.
  void check_stopping() const;
  const JobContext& ctx() const { return ctx_; }

  // The audit entries' "database": what the restore writes into.
  std::string database;

 private:
  std::filesystem::path audit_log_;
  std::string target_;
  const JobContext ctx_;
  std::string step_;
};

class Restorer {
 public:
  virtual ~Restorer() = default;

  // Before the plan: finds what is restored and checks it can be (the backup proven, the
  // target inside the recovery window, the server able to take it). Throws OperationError or
  // ConfigError, nothing changed, when it cannot.
  virtual void check() = 0;
  // Why no safety backup can be taken (the database is down, ...), or "" when one can.
  virtual std::string no_safety_reason() const = 0;
  // The safety backup's type (pg_dump: full; pgBackRest: incr) and, for the plan, where it goes.
  virtual BackupType safety_backup_type() const = 0;
  virtual std::string safety_backup_place() const = 0;
  // Whether production is replaced, so stop_command and start_command run; false for a restore
  // into a new directory (--pg-path), which leaves production alone.
  virtual bool replaces_production() const { return true; }

  // The plan's lines: what is restored and where (before the safety and stop lines), how it is
  // put back (after them), and when start_command runs ("only when ...").
  virtual void print_plan_source() const = 0;
  virtual void print_plan_method() const = 0;
  virtual std::string start_condition() const = 0;
  // The plan's audit entry and what names the restore in its other entries ({"file": ...}).
  virtual nlohmann::json plan_details() const = 0;
  virtual nlohmann::json identity() const = 0;

  // After the safety backup, before stop_command: readies the data (decrypts a dump).
  virtual void ready() = 0;
  // After stop_command: puts the data back, each step named through journal.begin().
  virtual void put_back() = 0;
  // After start_command: the checks that need the server up (none for pg_dump, whose row
  // counts are checked in put_back, before the application starts).
  virtual void check_started() = 0;
  // What success prints: "restored X into Y".
  virtual std::string done_text() const = 0;

  // After a failure at `step`: cleans up what it can and says what state the data is in (the
  // report's second line; more lines indented by two spaces).
  virtual std::string state_after_failure(const std::string& step) = 0;
  // Whether putting back had started (start_command would not bring back the old state).
  virtual bool data_touched() const = 0;
  // The commands that go back to the safety backup `safety` and that retry this restore.
  virtual std::string go_back_command(const std::filesystem::path& safety) const = 0;
  virtual std::string retry_command() const = 0;
  // What the report says when everything but start_command (`error`) succeeded.
  virtual std::string start_failure_text(const std::string& error) const = 0;
};

}  // namespace pgbackup
