#include "agent/engines/setup_check.h"

#include <algorithm>

#include "agent/engines/pgbackrest/preflight.h"

namespace pgbackup {

std::vector<SetupProblem> check_engine_setup(const TargetConfig& target) {
  if (target.engine != EngineKind::pgbackrest) return {};
  return pgbackrest::check_preflight(target);
}

std::string describe(const SetupProblem& problem) {
  return std::string(problem.error ? "error: " : "warning: ") + problem.message +
         (problem.hint.empty() ? "" : " (hint: " + problem.hint + ")");
}

bool has_error(const std::vector<SetupProblem>& problems) {
  return std::any_of(problems.begin(), problems.end(),
                     [](const SetupProblem& p) { return p.error; });
}

}  // namespace pgbackup
