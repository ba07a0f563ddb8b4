#pragma once

#include <string>
#include <vector>

#include "agent/config/config.h"

namespace pgbackup {

// A problem in how a target's engine is set up outside the agent (the operator's pgBackRest and
// the server's WAL archiving), found before the agent relies on it.
struct SetupProblem {
  bool error = true;  // false: a warning (worth a look, stops nothing)
  std::string message;
  std::string hint;  // the fix
  bool operator==(const SetupProblem&) const = default;
};

// The set-up problems of `target`'s engine, errors first: pgBackRest's preflight
// (engines/pgbackrest/preflight.h); none for pg_dump, whose checks run with each backup. Beside
// make_engine(), the one other place the engine decides. A database that cannot be reached is a
// warning, never an error.
std::vector<SetupProblem> check_engine_setup(const TargetConfig& target);

// "error: MESSAGE (hint: HINT)" or "warning: ...", for logs and config-check.
std::string describe(const SetupProblem& problem);

// Whether any of `problems` is an error.
bool has_error(const std::vector<SetupProblem>& problems);

}  // namespace pgbackup
