// make_engine: the one place a target's engine is chosen (engines/engine.h).
#include "agent/engines/engine.h"
#include "agent/engines/pg_dump/pg_dump_engine.h"
#include "agent/engines/pgbackrest/pgbackrest_engine.h"

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
  // The one place the engine is chosen (DESIGN §11).
  switch (target.engine) {
    case EngineKind::pgbackrest:
      return std::make_unique<PgBackRestEngine>(target);
    case EngineKind::pg_dump:
      break;
  }
  return std::make_unique<PgDumpEngine>(target);
}

}  // namespace pgbackup
