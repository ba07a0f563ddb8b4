#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace pgbackup {

// Appends one JSON line to the audit log (created 0600), with a timestamp and the user.
void append_audit(const std::filesystem::path& log, nlohmann::json entry);

}  // namespace pgbackup
