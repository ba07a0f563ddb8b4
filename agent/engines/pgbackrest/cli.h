#pragma once

// Runs the operator's pgBackRest as a child process (agent/core/subprocess: an argv, never a
// shell; a timeout; cancellation), one method per verb the agent uses.

#include <atomic>
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "agent/core/errors.h"
#include "agent/core/subprocess.h"
#include "agent/engines/backup_type.h"
#include "agent/engines/pgbackrest/restore_args.h"
#include "agent/engines/pgbackrest/verify_output.h"

namespace pgbackup::pgbackrest {

// How to reach the operator's pgBackRest (the target's `pgbackrest:` section).
struct PgBackRestSettings {
  // The argv prefix that runs pgbackrest, e.g. {"pgbackrest"} or
  // {"sudo", "-n", "-u", "postgres", "pgbackrest"}: pgBackRest runs as the PGDATA owner.
  std::vector<std::string> command{"pgbackrest"};
  std::string config;  // --config=FILE; "" for pgBackRest's default
  std::string stanza;  // --stanza=NAME, always set
  int repo = 0;        // --repo=N for the verbs that take it; 0: not passed (pgBackRest's repo1)
};

// A pgBackRest run that failed, could not start, timed out or was cancelled. The message names
// pgbackrest and the verb, how it ended and the tail of its stderr ("pgbackrest backup exited
// with status 56: ERROR: [056]: unable to find primary cluster").
class PgBackRestError : public OperationError {
 public:
  PgBackRestError(const std::string& message, int exit_code)
      : OperationError(message), exit_code_(exit_code) {}
  // pgBackRest's exit status (its error code), or -1 when it did not exit by itself.
  int exit_code() const { return exit_code_; }
  // A backup that did not start because another process holds the stanza's backup lock.
  bool lock_was_held() const { return lock_was_held_; }
  void set_lock_was_held(bool held) { lock_was_held_ = held; }

 private:
  int exit_code_;
  bool lock_was_held_ = false;
};

// Limits of each run: a timeout (0: none) and a flag another thread sets to stop it.
struct RunLimits {
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  const std::atomic<bool>* cancel = nullptr;
};

class PgBackRestCli {
 public:
  explicit PgBackRestCli(PgBackRestSettings settings, RunLimits limits = {});

  // The full argv for `verb` with its arguments: the prefix, --config, --stanza, --repo (for
  // the verbs that accept it), the verb, then `args`.
  std::vector<std::string> argv(const std::string& verb,
                                const std::vector<std::string>& args = {}) const;

  // `backup --type=TYPE --log-level-console=info`: the label it printed ("new backup label =
  // ..."), or "" when its output did not say. pgBackRest itself turns a diff or incr with no
  // full to build on into a full (and logs a warning); read `info` for what was taken. When
  // another process holds the stanza's backup lock it throws a PgBackRestError whose
  // lock_was_held() is true (it did not start).
  std::string backup(BackupType type) const;
  // `info --output=json` of the stanza, for parse_stanza_info().
  std::string info_json() const;
  // `repo-ls --output=json [--recurse] PATH` (PATH relative to the repository, e.g.
  // "archive/<stanza>/15-1"), for parse_wal_listing().
  std::string repo_ls_json(const std::string& path, bool recurse = true) const;
  // info_json() and repo_ls_json(path) at once (two children): the time of the slower one.
  struct InfoAndListing {
    std::string info, listing;
    // A run that failed: its error (a PgBackRestError), rethrown by whoever needs that part.
    std::exception_ptr info_error, listing_error;
  };
  InfoAndListing info_and_listing(const std::string& path) const;
  // `verify --verbose --log-level-console=info`, judged by its output (2.45 exits 0 on errors).
  // Throws only when it could not run to the end (not started, timed out, cancelled, killed).
  VerifyVerdict verify() const;
  // `expire --set=LABEL`: the backup and every backup that depends on it.
  void expire_set(const std::string& label) const;
  // `check`: the archive_command works and the stanza's configuration is consistent.
  void check() const;
  // The argv of `restore` for `request` (restore_args.h), and running it.
  std::vector<std::string> restore_argv(const RestoreRequest& request) const;
  void restore(const RestoreRequest& request) const;

 private:
  // Runs the verb; a run that did not succeed throws PgBackRestError unless `allow_failure`.
  ProcessResult run(const std::string& verb, const std::vector<std::string>& args,
                    bool allow_failure = false) const;
  ProcessSpec spec_of(const std::string& verb, const std::vector<std::string>& args) const;
  // `result` of `verb` when it succeeded (or ended by itself and `allow_failure`), else throws.
  ProcessResult checked(const std::string& verb, const ProcessSpec& spec, ProcessResult result,
                        bool allow_failure) const;

  PgBackRestSettings settings_;
  RunLimits limits_;
};

}  // namespace pgbackup::pgbackrest
