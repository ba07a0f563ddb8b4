#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "agent/core/clock.h"

namespace pgbackup {

// Appends one JSON line to the audit log (created 0600), stamped with `at`, the user and the pid.
void append_audit(const std::filesystem::path& log, nlohmann::json entry, SysTime at);

}  // namespace pgbackup
