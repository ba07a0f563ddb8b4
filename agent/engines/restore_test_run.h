#pragma once

// The engine's part of one restore test (jobs/restore_drill, DESIGN §7 and §11). The job is
// engine-agnostic: the directory lock, the report, restore-tests.jsonl, the audit line,
// state.json, the metrics and alerts. What differs is "put a backup back somewhere scratch and
// prove it": pg_dump restores a dump into the scratch database of restore_test.database;
// pgBackRest restores into a scratch cluster under restore_test.scratch_dir, to a point of the
// recovery window, and starts it. BackupEngine::restore_test() makes one; the job calls, in
// order: remove_leftovers, choose, restore_and_check, clean_up (always), mark.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/timeutil.h"
#include "agent/engines/catalog_entry.h"
#include "agent/jobs/restore_test_report.h"

namespace pgbackup {

class RestoreTestRun {
 public:
  virtual ~RestoreTestRun() = default;

  // Removes what a killed test left behind (a scratch cluster still running, its directory);
  // the caller holds the directory lock. Returns what it removed, for a warning.
  virtual std::vector<std::filesystem::path> remove_leftovers() = 0;
  // The backup to test: `file` when given (throws OperationError when it is not there: a usage
  // error, not a test result), else one restore_test picks. nullptr when none is fit; then
  // nothing_to_test() says why.
  virtual const CatalogEntry* choose(const std::optional<std::filesystem::path>& file,
                                     SysTime now) = 0;
  virtual std::string nothing_to_test() const = 0;
  // Restores `backup` into scratch space and proves it, filling `report`'s findings (and its
  // recovery target and RTO split where the engine has them). Throws OperationError when a step
  // cannot be done at all.
  virtual void restore_and_check(const CatalogEntry& backup, RestoreTestReport& report) = 0;
  // Removes the scratch copy, whatever restore_and_check did; never throws.
  virtual void clean_up(RestoreTestReport& report) noexcept = 0;
  // Records the result on the tested backup (its manifest or record); the caller holds the lock.
  virtual void mark(const CatalogEntry& backup, const RestoreTestReport& report) = 0;
};

}  // namespace pgbackup
