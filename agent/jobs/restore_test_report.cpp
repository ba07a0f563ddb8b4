#include "agent/jobs/restore_test_report.h"

namespace pgbackup {

std::string first_problem(const RestoreTestReport& r) {
  if (!r.error.empty()) return r.error;
  if (!r.mismatched_tables.empty()) {
    return std::to_string(r.mismatched_tables.size()) +
           " table(s) differ from the manifest, e.g. " + r.mismatched_tables.front();
  }
  if (!r.schema_differences.empty()) {
    return "the restored schema differs from the backup's: " + r.schema_differences.front();
  }
  if (!r.failed_checks.empty()) return "check failed: " + r.failed_checks.front();
  return "";
}

}  // namespace pgbackup
