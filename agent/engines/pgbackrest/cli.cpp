#include "agent/engines/pgbackrest/cli.h"

#include "agent/core/process_set.h"
#include "agent/engines/pgbackrest/backup_output.h"

#include <set>
#include <utility>

namespace pgbackup::pgbackrest {
namespace {

// pgBackRest 2.45 rejects --repo on the verbs that work on every repository ("option 'repo'
// not valid for command 'check'").
bool takes_repo_option(const std::string& verb) {
  static const std::set<std::string> verbs = {"backup", "info",   "repo-ls",
                                              "verify", "expire", "restore"};
  return verbs.contains(verb);
}

// The end of pgBackRest's stderr, for messages: its ERROR line is last.
std::string stderr_tail(std::string err) {
  constexpr std::size_t kKeep = 2000;
  if (err.size() > kKeep) err = "..." + err.substr(err.size() - kKeep);
  return err;
}

}  // namespace

PgBackRestCli::PgBackRestCli(PgBackRestSettings settings, RunLimits limits)
    : settings_(std::move(settings)), limits_(limits) {
  if (settings_.command.empty()) settings_.command = {"pgbackrest"};
}

std::vector<std::string> PgBackRestCli::argv(const std::string& verb,
                                             const std::vector<std::string>& args) const {
  std::vector<std::string> out = settings_.command;
  if (!settings_.config.empty()) out.push_back("--config=" + settings_.config);
  out.push_back("--stanza=" + settings_.stanza);
  if (settings_.repo > 0 && takes_repo_option(verb)) {
    out.push_back("--repo=" + std::to_string(settings_.repo));
  }
  out.push_back(verb);
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

ProcessSpec PgBackRestCli::spec_of(const std::string& verb,
                                   const std::vector<std::string>& args) const {
  ProcessSpec spec;
  spec.argv = argv(verb, args);
  spec.timeout = limits_.timeout;
  spec.cancel = limits_.cancel;
  return spec;
}

ProcessResult PgBackRestCli::run(const std::string& verb, const std::vector<std::string>& args,
                                 bool allow_failure) const {
  const ProcessSpec spec = spec_of(verb, args);
  ProcessResult result;
  try {
    result = run_process(spec);
  } catch (const ProcessError& e) {
    throw PgBackRestError("pgbackrest " + verb + " could not be started: " + e.what() +
                              " (hint: check `command` of the target's pgbackrest section)",
                          -1);
  }
  return checked(verb, spec, std::move(result), allow_failure);
}

ProcessResult PgBackRestCli::checked(const std::string& verb, const ProcessSpec& spec,
                                     ProcessResult result, bool allow_failure) const {
  const bool ended_by_itself = !result.timed_out && !result.cancelled && result.term_signal == 0;
  if (result.ok() || (allow_failure && ended_by_itself)) return result;
  // Named "pgbackrest VERB" whatever the prefix (runuser, sudo, docker exec) that runs it.
  ProcessSpec named = spec;
  named.argv = {"pgbackrest " + verb};
  ProcessResult shown = result;
  shown.err = stderr_tail(result.err);
  PgBackRestError error(describe_failure(named, shown), ended_by_itself ? result.exit_code : -1);
  // At log level info the ERROR line may go to stdout as well: read both.
  error.set_lock_was_held(ended_by_itself &&
                          backup_lock_was_held(result.exit_code, result.err + "\n" + result.out));
  throw error;
}

std::string PgBackRestCli::backup(BackupType type) const {
  // At info level pgBackRest prints a dozen lines, the label among them, whatever the
  // operator's log-level-console (a "detail" would list every file).
  const ProcessResult r =
      run("backup", {std::string("--type=") + backup_type_name(type), "--log-level-console=info"});
  return new_backup_label(r.out).value_or("");
}

std::string PgBackRestCli::info_json() const { return run("info", {"--output=json"}).out; }

PgBackRestCli::InfoAndListing PgBackRestCli::info_and_listing(const std::string& path) const {
  const std::vector<ProcessSpec> specs = {spec_of("info", {"--output=json"}),
                                          spec_of("repo-ls", {"--output=json", "--recurse", path})};
  std::vector<ProcessResult> results;
  try {
    results = run_processes(specs);
  } catch (const ProcessError& e) {
    // The same program for both: neither could start.
    const PgBackRestError error("pgbackrest info could not be started: " + std::string(e.what()) +
                                    " (hint: check `command` of the target's pgbackrest section)",
                                -1);
    const std::exception_ptr p = std::make_exception_ptr(error);
    return {"", "", p, p};
  }
  InfoAndListing out;
  try {
    out.info = checked("info", specs[0], std::move(results[0]), false).out;
  } catch (...) {
    out.info_error = std::current_exception();
  }
  try {
    out.listing = checked("repo-ls", specs[1], std::move(results[1]), false).out;
  } catch (...) {
    out.listing_error = std::current_exception();
  }
  return out;
}

std::string PgBackRestCli::repo_ls_json(const std::string& path, bool recurse) const {
  std::vector<std::string> args = {"--output=json"};
  if (recurse) args.push_back("--recurse");
  args.push_back(path);
  return run("repo-ls", args).out;
}

VerifyVerdict PgBackRestCli::verify() const {
  const ProcessResult r = run("verify", {"--verbose", "--log-level-console=info"}, true);
  return judge_verify_output(r.out + "\n" + r.err, r.exit_code);
}

void PgBackRestCli::expire_set(const std::string& label) const {
  run("expire", {"--set=" + label});
}

void PgBackRestCli::check() const { run("check", {}); }

std::vector<std::string> PgBackRestCli::restore_argv(const RestoreRequest& request) const {
  return argv("restore", restore_args(request));
}

void PgBackRestCli::restore(const RestoreRequest& request) const {
  run("restore", restore_args(request));
}

}  // namespace pgbackup::pgbackrest
