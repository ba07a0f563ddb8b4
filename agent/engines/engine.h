#pragma once

// The backup-engine seam (STYLE.md point 8, DESIGN §11).
//
// A target's backups are taken by one engine: pg_dump (logical dumps in backup.dir, each with
// the agent's manifest) or, later, pgBackRest (physical sets in its repository, plus WAL). The
// choice is made once, in make_engine(); everything above this interface -- the scheduler and
// the backup job, retention (tiers and GFS in rules/retention), the daemon's status, the
// collectors, `list`, `check`, `verify`, the status page and the alerts -- sees the target's
// backups only as CatalogEntry values (when, type, tier, size, proven good or why not, and the
// agent's record) and asks the engine for the few verbs below. When a caller needs to ask
// "which engine is this?", a verb is missing here: add it rather than branch.
//
// Like pgBackRest's own Storage table, the interface is small and in the domain's words:
// - backup(type): take one backup; pg_dump has one type (full, logical) and refuses others.
// - catalog(): what exists, oldest first, with its proof; recovery_window() over it.
// - retention_candidates() and remove(): retention chooses (rules/retention, jobs/prune), the
//   engine deletes what one run chose. pg_dump deletes a dump with its manifest and companion file;
//   pgBackRest will expire a whole set (`pgbackrest expire --set`) and its diff/incr with it, and
//   offer only its full backups as candidates.
// - verify(): prove one backup again. pg_dump: size, SHA-256, TOC and table data; pgBackRest:
//   `info`, the agent's WAL-continuity check and `verify` judged by its output.
// - prepare(), remove_leftovers(), backup_running(), storage_space(): the housekeeping the
//   daemon and the jobs do around a backup, wherever the engine keeps its data.
// The job machinery stays engine-agnostic (jobs/backup.cpp: the lock, state.json, the audit
// line, retention after a good backup), as do the agent's own files under backup.dir/.pgbackup.
// - restore_test(): the engine's part of a restore test (engines/restore_test_run.h).
// - restorer(): "put the data back" for a production restore (engines/restorer.h): the flow
//   (plan, YES, safety backup, stop/start commands, audit, failure report) is jobs/restore.cpp's,
//   the engine's restorer says what is restored and does it (pg_dump: pg_restore and row counts;
//   pgBackRest: `pgbackrest restore --delta` to a recovery target).
// `diff` and the off-site upload are pg_dump-only and read the pg_dump catalogue
// (engines/pg_dump/dump_catalog.h) directly.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/backup_dir.h"
#include "agent/catalog/manifest_cache.h"
#include "agent/config/config.h"
#include "agent/core/progress.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/restore_test_run.h"
#include "agent/jobs/job_context.h"

namespace pgbackup {

// engines/restorer.h: a production restore's request, its audit log, the engine's part of it.
struct RestoreRequest;
class RestoreJournal;
class Restorer;

struct VerifyCheck {
  std::string name;  // "manifest", "size", "sha256", "pg_restore --list", "table data"
  bool passed = false;
  std::string detail;
};

struct VerifyReport {
  std::filesystem::path file;
  std::vector<VerifyCheck> checks;
  // Files the check found invalid, when it counts them (pgBackRest's verify; the
  // verify_last_invalid_files metric).
  std::uint64_t invalid_files = 0;
  bool ok() const;
  // The first failed check's detail, or empty.
  std::string first_problem() const;
};

// What a target's archive says beyond its backups (DESIGN §11 metrics): pgBackRest's stanza
// status and the agent's WAL-continuity check. An engine without a WAL archive has none.
struct ArchiveHealth {
  int stanza_status = 0;       // pgBackRest's status code (`info`), 0 = ok
  std::string stanza_message;  // its message ("ok", "missing stanza path", ...)
  std::uint64_t wal_gaps = 0;  // segments missing inside the recovery window
  // The newest segment's time in the repository: the RPO estimate when the database is down.
  std::optional<SysTime> newest_wal_time;
};

class BackupEngine {
 public:
  virtual ~BackupEngine() = default;

  // "pg_dump" or "pgbackrest" (messages, the status page, metric labels).
  virtual std::string name() const = 0;

  // Makes the target's directories ready (backup.dir 0700 and its state directory), or throws
  // OperationError with a hint.
  virtual void prepare() const = 0;
  // Removes what a killed backup left behind; the caller holds the directory lock. Returns what
  // it removed, for a warning.
  virtual std::vector<std::filesystem::path> remove_leftovers() const = 0;
  // True while some process (this daemon, another agent, a `backup` by hand) is taking a backup.
  virtual bool backup_running() const = 0;
  // The filesystem the backups are stored on (zeros when it cannot be read).
  virtual FilesystemStats storage_space() const = 0;

  // Whether this engine takes backups of `type` (pg_dump: full only). Asked before a backup job
  // starts, so a type it cannot take is a usage error, not a failed attempt.
  virtual bool takes(BackupType type) const = 0;
  // Takes one backup of `type` and returns it (good, with its record). The caller holds the
  // directory lock and records the attempt (jobs/backup.h). Throws OperationError, leaving
  // nothing that looks like a backup, when it fails or `type` is not one this engine takes.
  virtual CatalogEntry backup(BackupType type, const JobContext& ctx) = 0;

  // Every backup of the target, oldest first, good and not (a bad one says why). `cache` spares
  // re-reading unchanged records (the daemon's refresh; records then come without their schema
  // fingerprint's contents, see ManifestCache).
  virtual std::vector<CatalogEntry> catalog(ManifestCache* cache = nullptr) const = 0;
  // The earliest and latest point a restore can reach, from `catalog` (as catalog() returns).
  virtual RecoveryWindow recovery_window(const std::vector<CatalogEntry>& catalog) const = 0;

  // The archive's health over `catalog` (as catalog() returns), read on the prober's cadence;
  // nothing for an engine without a WAL archive (pg_dump).
  virtual std::optional<ArchiveHealth> archive_health(
      const std::vector<CatalogEntry>& catalog) const = 0;

  // What retention may delete, oldest first, each with its tier: good backups whose record is
  // complete (warnings name those kept out). A physical engine offers whole sets (its fulls).
  virtual std::vector<CatalogEntry> retention_candidates() const = 0;
  // Deletes the backups one retention run chose (`chosen`, oldest first), each whole (a set,
  // with what belongs to it) so that an abort never leaves something that looks like a good
  // backup, and makes the run's deletions durable once at its end. `on_removed` (may be empty)
  // runs after each deletion. Throws OperationError when one cannot be deleted (those before
  // it are gone).
  virtual void remove(const std::vector<const CatalogEntry*>& chosen,
                      const std::function<void(const CatalogEntry&)>& on_removed) = 0;

  // Proves `backup` again, from what is stored now; `progress` (may be null) sees the bytes read.
  virtual VerifyReport verify(const CatalogEntry& backup, Progress* progress) const = 0;

  // The engine's part of one restore test of the target (which has a restore_test section).
  virtual std::unique_ptr<RestoreTestRun> restore_test(const Config& config,
                                                       const JobContext& ctx) const = 0;

  // The part of a production restore of `request` that is this engine's; it records its steps
  // in `journal`. Both must outlive it, as must the engine. Throws ConfigError when the request
  // asks for what this engine cannot do (pg_dump: --time, --lsn, --pg-path; pgBackRest: FILE,
  // --table, --dbname).
  virtual std::unique_ptr<Restorer> restorer(const RestoreRequest& request,
                                             RestoreJournal& journal) const = 0;
};

// The engine of `target`: the one place the choice is made.
std::unique_ptr<BackupEngine> make_engine(const TargetConfig& target);

}  // namespace pgbackup
