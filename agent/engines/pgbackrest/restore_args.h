#pragma once

// The arguments of `pgbackrest restore` (pure; PgBackRestCli::restore_argv puts the target's
// prefix, --config, --stanza and --repo before them) and the private pgBackRest configuration a
// scratch restore runs with (DESIGN §11: own lock, log and spool paths, no async archiving).

#include <string>
#include <vector>

#include "agent/core/timeutil.h"
#include "agent/rules/recovery_target.h"

namespace pgbackup::pgbackrest {

struct RestoreRequest {
  std::string pg_path;  // --pg1-path: the data directory restored into
  RecoveryTarget target;
  // Stop at the end of the backup's own WAL (--type=immediate) instead of `target`'s latest.
  bool immediate = false;
  std::string set;     // --set=LABEL; "" lets pgBackRest choose (the newest, or the one before TS)
  bool delta = false;  // --delta: reuse what is in pg_path (production restores)
  bool archive_mode_off = false;  // --archive-mode=off: always on scratch clusters
  // Further options, e.g. a private --lock-path, --log-path, --spool-path.
  std::vector<std::string> extra;
};

// The arguments after the `restore` verb: --pg1-path, --delta, --set, --type with --target and
// --target-action=promote, --archive-mode=off, then `extra`.
std::vector<std::string> restore_args(const RestoreRequest& request);

// A time as pgBackRest's --target wants it ("2026-12-06 14:04:00.25+00"), which it also reads
// to choose the backup set (it does not read ISO 8601's "T").
std::string pgbackrest_time(SysTime t);

// Where a private pgBackRest run keeps its own files.
struct PrivatePaths {
  std::string lock_path;
  std::string log_path;
  std::string spool_path;
};

// The operator's configuration `config_text` (never changed on disk) with every lock-path,
// log-path, spool-path and archive-async line dropped and the private paths plus
// archive-async=n put at the top of [global]: what the scratch cluster's restore_command (which
// carries only --config, --stanza and --pg1-path) and the restore itself run with.
std::string private_config(const std::string& config_text, const PrivatePaths& paths);

}  // namespace pgbackup::pgbackrest
