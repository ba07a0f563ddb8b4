#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/clock.h"

namespace pgbackup {

struct DaemonOptions {
  std::string config_path;  // empty: the environment-only mode (SIGHUP re-reads the environment)
  std::vector<std::string> listen_addresses;  // empty: from the config
  std::string web_config_file;                // empty: from the config
};

// `pgbackup-agent run`: one worker per target running its backups on schedule (with catch-up
// and retry backoff), a status cache refreshed from disk every 2 s, a database probe every
// 30 s, and the HTTP endpoints. Returns the exit code once SIGTERM or SIGINT arrives; SIGHUP
// reloads the config.
int run_daemon(Config config, const DaemonOptions& options, const Clock& clock);

}  // namespace pgbackup
