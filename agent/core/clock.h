#pragma once

#include <chrono>

namespace pgbackup {

// Wall-clock time; all schedules and timestamps are UTC.
using SysTime = std::chrono::system_clock::time_point;

}  // namespace pgbackup
