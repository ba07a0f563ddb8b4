// make_engine: the one place a target's engine is chosen (engines/engine.h).
#include "agent/engines/engine.h"
#include "agent/engines/pg_dump/pg_dump_engine.h"

namespace pgbackup {

bool VerifyReport::ok() const {
  for (const VerifyCheck& c : checks) {
    if (!c.passed) return false;
  }
  return !checks.empty();
}

std::string VerifyReport::first_problem() const {
  for (const VerifyCheck& c : checks) {
    if (!c.passed) return c.name + ": " + c.detail;
  }
  return "";
}

std::unique_ptr<BackupEngine> make_engine(const TargetConfig& target) {
  // Only pg_dump so far; `engine: pgbackrest` (DESIGN §11) chooses here, and only here.
  return std::make_unique<PgDumpEngine>(target);
}

}  // namespace pgbackup
