#pragma once

// Several children at once, each run as agent/core/subprocess's run_process.

#include <vector>

#include "agent/core/subprocess.h"

namespace pgbackup {

// Runs the children at once (each as run_process, on a thread of its own) and waits for all of
// them: two short reads of the same repository take the time of the slower one. Results in the
// order of `specs`; when one could not start, the others still run to the end, then the first
// such ProcessError is rethrown.
std::vector<ProcessResult> run_processes(const std::vector<ProcessSpec>& specs);

}  // namespace pgbackup
