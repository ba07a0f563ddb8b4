#include "agent/engines/restorer.h"

#include <cstdio>

#include "agent/catalog/audit_log.h"
#include "agent/core/errors.h"

namespace pgbackup {

void RestoreJournal::audit(const std::string& step, const std::string& outcome,
                           nlohmann::json details) {
  details["target"] = target_;
  details["operation"] = "restore";
  details["step"] = step;
  details["outcome"] = outcome;
  details["database"] = database;
  // Best effort: an audit log that cannot be written (disk full) must not turn a good restore
  // into a failure, nor hide the failure text that says what state the database is in.
  try {
    append_audit(audit_log_, std::move(details), ctx_.now());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: the audit log entry for step %s (%s) was not recorded: %s\n",
                 step.c_str(), outcome.c_str(), e.what());
  }
}

void RestoreJournal::check_stopping() const {
  if (stopping()) throw OperationError("the agent was asked to stop (signal)");
}

}  // namespace pgbackup
