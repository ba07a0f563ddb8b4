#pragma once

#include <string>

namespace pgbackup {

// Sends spdlog to stderr as text or one JSON object per line, timestamps in UTC. Throws
// ConfigError for an unknown level or format.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace pgbackup
