// pgbackup-agent: scheduled, proven PostgreSQL backups (see docs/ and DESIGN §2).
// This file only parses the command line and wires the pieces together.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cxxopts.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include "agent/cli/commands.h"
#include "agent/config/config.h"
#include "agent/core/errors.h"
#include "agent/core/logging.h"
#include "agent/core/progress.h"
#include "agent/core/units.h"
#include "agent/daemon/daemon.h"
#include "version.h"

namespace {

using pgbackup::CommandOptions;
using pgbackup::Config;

// Which positional FILE a command takes (`two_optional`: diff's [OLD] [NEW]).
enum class FileArgument { none, optional, file_or_latest, two_optional };

struct Command {
  std::string summary;
  std::string usage;
  std::function<int(const Config&, const CommandOptions&)> run;  // empty for `run` (see below)
  FileArgument file = FileArgument::none;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table = {
      {"run",
       {"daemon: schedules every job, serves HTTP",
        "[--web.listen-address HOST:PORT]... [--web.config.file FILE]", nullptr}},
      {"backup",
       {"take a backup now", "[--target NAME] [--type full|diff|incr]", pgbackup::command_backup}},
      {"list",
       {"backups with tier, size, age, checks", "[--target NAME] [--output text|json]",
        pgbackup::command_list}},
      {"verify",
       {"checksum + pg_restore --list + manifest", "[--target NAME] [--deep] (FILE | --latest)",
        pgbackup::command_verify, FileArgument::file_or_latest}},
      {"restore-test",
       {"restore a backup into scratch space and check it (pgbackrest targets: a set LABEL)",
        "[--target NAME] [FILE | LABEL]", pgbackup::command_restore_test, FileArgument::optional}},
      {"check",
       {"exit 0 if the newest good backup is younger than --max-age (default 26h), else 1",
        "[--target NAME] [--max-age 26h]", pgbackup::command_check}},
      {"prune", {"apply retention now", "[--target NAME] [--dry-run]", pgbackup::command_prune}},
      {"upload",
       {"copy to S3 what should be off-site, then apply off-site retention",
        "[--target NAME] [FILE | --all-missing]", pgbackup::command_upload,
        FileArgument::optional}},
      {"restore",
       {"restore production from a backup (asks for YES; takes a safety backup first)",
        "[--target NAME] (FILE | --latest) [--table NAME]... [--dbname DB] [--jobs N] [--yes] "
        "[--no-safety-backup] [--no-roles]; pgbackrest targets: (--time TS | --lsn LSN | "
        "--latest) [--pg-path DIR] [--yes] [--no-safety-backup]",
        pgbackup::command_restore, FileArgument::file_or_latest}},
      {"diff",
       {"schema changes and row-count changes between two backups (default: the two newest)",
        "[--target NAME] [--output text|json] [OLD] [NEW]", pgbackup::command_diff,
        FileArgument::two_optional}},
      {"config-check",
       {"validate the config, print it with secrets redacted and the next runs of every schedule",
        "", pgbackup::command_config_check}},
  };
  return table;
}

// A command's usage, a line per form (the forms are "; "-separated), each after `indent`.
std::string usage_lines(std::string usage, const std::string& indent) {
  if (usage.empty()) return "";
  std::string out;
  for (std::size_t at; (at = usage.find("; ")) != std::string::npos;) {
    out += indent + usage.substr(0, at) + "\n";
    usage.erase(0, at + 2);
  }
  return out + indent + usage + "\n";
}

std::string usage_text() {
  std::string s =
      "usage: pgbackup-agent [--config FILE] [--log.level debug|info|warn|error] "
      "[--log.format text|json] COMMAND [options]\n\ncommands:\n";
  for (const auto& [name, c] : commands()) {
    s += "  " + name + std::string(name.size() < 14 ? 14 - name.size() : 1, ' ') + c.summary +
         "\n" + usage_lines(c.usage, std::string(16, ' '));
  }
  s += "\nWithout --config (or $PGBACKUP_CONFIG) the seed's environment defines one target:\n"
       "POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD, BACKUP_DIR.\n"
       "Exit codes: 0 success, 1 the operation failed (or check found the backup stale), "
       "2 usage or configuration error.\n";
  return s;
}

// Set by the first SIGINT/SIGTERM/SIGHUP during a command-line command (not `run`, whose
// daemon has its own sigwait loop). Commands pass it to their jobs (JobContext::cancel) so a
// Ctrl-C stops the running child (pg_dump, pg_restore, stop_command...) through the ordinary
// failure path: the child is killed rather than orphaned in its own process group, partial
// files are removed, `restore` says what state the database is in, and the audit log records it.
std::atomic<bool> g_stopping{false};

// Blocks the stop signals in this thread (so in every thread started later) and takes them
// synchronously in one thread: the first sets g_stopping, a second ends the agent at once for
// an operator who insists.
void handle_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    for (bool first = true;; first = false) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (!first) {
        static const char kMessage[] = "second signal: exiting now\n";
        [[maybe_unused]] const ssize_t n = ::write(2, kMessage, sizeof kMessage - 1);
        ::_exit(130);
      }
      spdlog::warn("stopping: {} (send it again to exit at once)", sig == SIGINT    ? "SIGINT"
                                                                   : sig == SIGTERM ? "SIGTERM"
                                                                                    : "SIGHUP");
      g_stopping = true;
    }
  }).detach();
}

void check_file_argument(const std::string& name, FileArgument kind, const CommandOptions& opts) {
  const bool point = !opts.time.empty() || !opts.lsn.empty();  // restore --time / --lsn
  if (point && name != "restore") throw pgbackup::ConfigError(name + " takes no --time or --lsn");
  if (point) {
    if (opts.file || opts.latest || (!opts.time.empty() && !opts.lsn.empty())) {
      throw pgbackup::ConfigError(name + " takes one of FILE, --latest, --time and --lsn");
    }
    return;
  }
  if (kind == FileArgument::file_or_latest && opts.latest == opts.file.has_value()) {
    throw pgbackup::ConfigError(name + " needs a FILE or --latest (one of them)");
  }
  if (kind != FileArgument::file_or_latest && opts.latest) {
    throw pgbackup::ConfigError(name + " takes no --latest");
  }
  if (kind == FileArgument::none && opts.file) {
    throw pgbackup::ConfigError(name + " takes no FILE argument");
  }
}

// Every global option and the positional command and arguments.
cxxopts::Options make_options() {
  cxxopts::Options options("pgbackup-agent", "Scheduled, proven PostgreSQL backups");
  // clang-format off
  options.add_options()
      ("config", "configuration file (YAML)", cxxopts::value<std::string>())
      ("log.level", "debug, info, warn or error", cxxopts::value<std::string>()->default_value("info"))
      ("log.format", "text or json", cxxopts::value<std::string>()->default_value("text"))
      ("target", "target name", cxxopts::value<std::string>()->default_value(""))
      ("output", "list, diff: text or json", cxxopts::value<std::string>()->default_value("text"))
      ("latest", "verify, restore: the newest good backup")
      ("type", "backup: full, diff or incr (diff and incr: pgbackrest targets)", cxxopts::value<std::string>()->default_value("full"))
      ("table", "restore: only this table (repeatable)", cxxopts::value<std::vector<std::string>>())
      ("dbname", "restore: into this database of the same server", cxxopts::value<std::string>()->default_value(""))
      ("jobs", "restore: parallel pg_restore jobs", cxxopts::value<int>()->default_value("2"))
      ("yes", "restore: do not ask for confirmation")
      ("no-safety-backup", "restore: skip the backup of the current database")
      ("no-roles", "restore: create none of the roles the backup needs and the server lacks")
      ("time", "restore (pgbackrest): to this point in time, ISO 8601 UTC", cxxopts::value<std::string>()->default_value(""))
      ("lsn", "restore (pgbackrest): to this WAL position", cxxopts::value<std::string>()->default_value(""))
      ("pg-path", "restore (pgbackrest): into this new, empty directory", cxxopts::value<std::string>()->default_value(""))
      ("deep", "verify: also decrypt an encrypted backup and check its contents")
      ("dry-run", "prune: show what would be deleted")
      ("all-missing", "upload: every backup that should be off-site and is not (the default)")
      ("max-age", "check: oldest acceptable age", cxxopts::value<std::string>()->default_value("26h"))
      ("web.listen-address", "run: HOST:PORT to serve HTTP on (repeatable)",
       cxxopts::value<std::vector<std::string>>())
      ("web.config.file", "run: exporter-toolkit web config (TLS, basic auth, headers, rate limit)",
       cxxopts::value<std::string>()->default_value(""))
      ("version", "print the version")
      ("h,help", "print help")
      ("command", "", cxxopts::value<std::string>())
      ("args", "", cxxopts::value<std::vector<std::string>>());
  // clang-format on
  options.parse_positional({"command", "args"});
  return options;
}

// The options of one command, checked: a usage error throws ConfigError (exit 2).
CommandOptions command_options(const cxxopts::ParseResult& parsed, const std::string& name,
                               const Command& command) {
  CommandOptions opts;
  opts.target = parsed["target"].as<std::string>();
  opts.output = parsed["output"].as<std::string>();
  if (opts.output != "text" && opts.output != "json") {
    throw pgbackup::ConfigError("--output must be text or json");
  }
  opts.latest = parsed.count("latest") > 0;
  const std::string type = parsed["type"].as<std::string>();
  const std::optional<pgbackup::BackupType> backup_type = pgbackup::parse_backup_type(type);
  if (!backup_type) throw pgbackup::ConfigError("--type must be full, diff or incr, not " + type);
  opts.type = *backup_type;
  opts.dry_run = parsed.count("dry-run") > 0;
  opts.deep = parsed.count("deep") > 0;
  opts.all_missing = parsed.count("all-missing") > 0;
  try {
    opts.max_age = pgbackup::parse_duration(parsed["max-age"].as<std::string>());
  } catch (const std::invalid_argument& e) {
    throw pgbackup::ConfigError(std::string("--max-age: ") + e.what());
  }
  opts.time = parsed["time"].as<std::string>();
  opts.lsn = parsed["lsn"].as<std::string>();
  opts.pg_path = parsed["pg-path"].as<std::string>();
  if (!opts.pg_path.empty() && name != "restore") {
    throw pgbackup::ConfigError(name + " takes no --pg-path");
  }
  if (name == "restore") {
    try {
      const auto given = [](const std::string& v) {
        return v.empty() ? std::nullopt : std::optional<std::string>(v);
      };
      opts.recovery_target =
          pgbackup::parse_recovery_target(given(opts.time), given(opts.lsn), false);
    } catch (const pgbackup::OperationError& e) {
      throw pgbackup::ConfigError(e.what());  // a usage error (exit 2)
    }
  }
  const auto args = parsed.count("args") ? parsed["args"].as<std::vector<std::string>>()
                                         : std::vector<std::string>{};
  const std::size_t max_args = command.file == FileArgument::two_optional ? 2 : 1;
  if (args.size() > max_args) throw pgbackup::ConfigError("too many arguments for " + name);
  if (!args.empty()) opts.file = args.front();
  if (args.size() > 1) opts.second_file = args[1];
  check_file_argument(name, command.file, opts);
  if (parsed.count("table")) opts.tables = parsed["table"].as<std::vector<std::string>>();
  opts.dbname = parsed["dbname"].as<std::string>();
  opts.jobs = parsed["jobs"].as<int>();
  if (opts.jobs < 1) throw pgbackup::ConfigError("--jobs must be 1 or more");
  opts.assume_yes = parsed.count("yes") > 0;
  opts.safety_backup = parsed.count("no-safety-backup") == 0;
  opts.create_roles = parsed.count("no-roles") == 0;
  if (name == "upload" && opts.all_missing && opts.file) {
    throw pgbackup::ConfigError("upload takes a FILE or --all-missing, not both");
  }
  return opts;
}

int run(int argc, char** argv) {
  cxxopts::Options options = make_options();
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "error: %s\n\n%s", e.what(), usage_text().c_str());
    return 2;
  }
  if (parsed.count("version")) {
    std::printf("pgbackup-agent %s (revision %s)\n", pgbackup::kVersion, pgbackup::kRevision);
    return 0;
  }
  const std::string name = parsed.count("command") ? parsed["command"].as<std::string>() : "";
  const auto command = commands().find(name);
  if (parsed.count("help") || name.empty()) {
    if (command != commands().end()) {
      std::printf("usage: pgbackup-agent [global options] %s\n%s  %s\n", name.c_str(),
                  usage_lines(command->second.usage, "  ").c_str(),
                  command->second.summary.c_str());
    } else {
      std::printf("%s", usage_text().c_str());
    }
    const bool known = name.empty() || command != commands().end();
    return known && parsed.count("help") ? 0 : 2;
  }
  if (command == commands().end()) {
    std::fprintf(stderr, "error: unknown command \"%s\"\n\n%s", name.c_str(), usage_text().c_str());
    return 2;
  }

  try {
    pgbackup::setup_logging(parsed["log.level"].as<std::string>(),
                            parsed["log.format"].as<std::string>());
    CommandOptions opts = command_options(parsed, name, command->second);

    std::string config_path = parsed.count("config") ? parsed["config"].as<std::string>() : "";
    if (config_path.empty() && std::getenv("PGBACKUP_CONFIG")) {
      config_path = std::getenv("PGBACKUP_CONFIG");
    }
    // The one clock of the process: every job, schedule and timestamp reads it.
    const pgbackup::SystemClock clock;
    opts.clock = &clock;
    Config config = config_path.empty() ? pgbackup::config_from_environment()
                                        : pgbackup::load_config_file(config_path);
    if (name == "run") {
      pgbackup::DaemonOptions daemon;
      daemon.config_path = config_path;
      if (parsed.count("web.listen-address")) {
        daemon.listen_addresses = parsed["web.listen-address"].as<std::vector<std::string>>();
      }
      daemon.web_config_file = parsed["web.config.file"].as<std::string>();
      return pgbackup::run_daemon(std::move(config), daemon, clock);
    }
    handle_stop_signals();
    opts.cancel = &g_stopping;
    // Long steps show a progress line when a person watches stderr (never for `run`).
    const std::shared_ptr<pgbackup::Progress> progress =
        pgbackup::progress_on_stderr(parsed["log.format"].as<std::string>(), clock);
    opts.progress = progress.get();
    return command->second.run(config, opts);
  } catch (const pgbackup::ConfigError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const pgbackup::OperationError& e) {
    spdlog::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Disk-full tests (and real quotas) must surface as write errors, not kill the agent.
  ::signal(SIGXFSZ, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  return run(argc, argv);
}
