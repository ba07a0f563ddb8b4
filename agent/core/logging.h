#pragma once

#include <string>

namespace pgbackup {

// Sends spdlog to stderr as text or one JSON object per line, timestamps in UTC (none in text
// when stderr is the systemd journal, which adds its own). Throws ConfigError for an unknown
// level or format.
void setup_logging(const std::string& level, const std::string& format);

}  // namespace pgbackup
