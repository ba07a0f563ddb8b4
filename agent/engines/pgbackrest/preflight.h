#pragma once

// pgBackRest's set-up for one target, checked before the agent relies on it (config-check and
// the daemon's start-up, DESIGN §11): the operator's pgbackrest.conf names the stanza, the
// server archives WAL, and its archive_command pushes to this stanza. The checks are pure (table
// tests); check_preflight() does the reading. The agent never rewrites pgbackrest.conf.

#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engines/setup_check.h"

namespace pgbackup::pgbackrest {

using PreflightProblem = SetupProblem;

// pgbackrest.conf as read: its text, or why it could not be read.
struct ConfFile {
  std::string path;
  std::optional<std::string> text;  // nullopt: not read
  bool missing = false;             // not read because it does not exist
  std::string read_error;           // why it was not read otherwise
};

// What pgBackRest reads when no --config is given: `main` (its default pgbackrest.conf, which
// may be missing) and the *.conf files of its include directory (/etc/pgbackrest/conf.d),
// concatenated. With pgbackrest.config set the agent passes --config, and pgBackRest then reads
// that file alone. Missing when neither `main` nor any include file was read.
ConfFile merge_conf_files(const ConfFile& main, const std::vector<ConfFile>& includes);

// (a) The file was read and has a `[<stanza>]` section (or `[<stanza>:<command>]`). A missing
// file and an unreadable one are errors of their own.
std::optional<PreflightProblem> check_conf_stanza(const ConfFile& conf, const std::string& stanza);

// (b) `SHOW archive_mode` is on or always.
std::optional<PreflightProblem> check_archive_mode(const std::string& archive_mode);

// (c) `SHOW archive_command` runs pgbackrest archive-push with --stanza=<stanza> (or
// `--stanza <stanza>`). Empty or "(disabled)" and another stanza are errors; a command that is not
// pgbackrest's own (a wrapper script, another tool) is a warning: the agent cannot see where it
// pushes.
std::optional<PreflightProblem> check_archive_command(const std::string& archive_command,
                                                      const std::string& stanza);

// (d) `archive_library` (PostgreSQL 15 and later) is empty: when it is set, the server archives
// through that library and ignores archive_command, and pgBackRest 2.45 has none.
std::optional<PreflightProblem> check_archive_library(const std::string& archive_library);

// The path pgBackRest reads when `pgbackrest.config` is "": its default.
std::string effective_conf_path(const PgBackRestConfig& config);

// Reads the target's pgbackrest.conf and asks its server (SHOW archive_mode, archive_command)
// and returns the problems, errors first. A server that cannot be reached is a warning, not an
// error (the daemon starts with its database down, as for pg_dump targets): its checks are
// skipped and say so.
std::vector<PreflightProblem> check_preflight(const TargetConfig& target);

}  // namespace pgbackup::pgbackrest
