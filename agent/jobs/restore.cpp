// One production restore for both engines (jobs/restore.h): the steps every restore shares,
// in the order they run; the engine's restorer (engines/restorer.h) puts the data back.
#include "agent/jobs/restore.h"

#include <spdlog/spdlog.h>

#include <poll.h>

#include <cstdio>
#include <iostream>
#include <istream>
#include <memory>

#include "agent/catalog/backup_dir.h"
#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/core/subprocess.h"
#include "agent/core/text.h"
#include "agent/engines/engine.h"
#include "agent/jobs/backup.h"

namespace pgbackup {
namespace {

class ProductionRestore {
 public:
  ProductionRestore(const Config& config, const TargetConfig& target, const RestoreRequest& request,
                    const JobContext& ctx)
      : config_(config),
        target_(target),
        request_(request),
        journal_(config.audit_log_for(target), target.name, ctx),
        engine_(make_engine(target)),
        restorer_(engine_->restorer(request, journal_)) {}

  int run(std::istream& confirmation);

 private:
  void print_plan();
  bool confirmed(std::istream& in);
  void take_safety_backup();
  void run_command(const std::string& step, const std::vector<std::string>& argv);
  int fail(const std::string& step, const std::string& error);
  int start_failed(const std::string& error);
  nlohmann::json outcome(nlohmann::json details) const;

  const Config& config_;
  const TargetConfig& target_;
  const RestoreRequest& request_;
  RestoreJournal journal_;
  std::unique_ptr<BackupEngine> engine_;
  std::unique_ptr<Restorer> restorer_;
  std::string no_safety_reason_;  // why no safety backup is taken, or empty
  std::optional<fs::path> safety_backup_;
  bool stopped_ = false;  // stop_command ran: the application is down
  bool started_ = false;  // start_command ran
};

std::string command_text(const std::vector<std::string>& argv, bool runs) {
  if (!runs) return "not run (production is not changed)";
  return argv.empty() ? std::string("none configured (restore.stop_command/start_command)")
                      : join(argv, " ");
}

void ProductionRestore::print_plan() {
  std::printf("Restore plan for target %s\n", target_.name.c_str());
  restorer_->print_plan_source();
  std::printf("  safety backup  %s\n", no_safety_reason_.empty()
                                           ? ("yes, " + restorer_->safety_backup_place()).c_str()
                                           : ("NO: " + no_safety_reason_).c_str());
  std::printf("  stop command   %s\n",
              command_text(target_.restore.stop_command, restorer_->replaces_production()).c_str());
  restorer_->print_plan_method();
  std::printf("  start command  %s (%s)\n",
              command_text(target_.restore.start_command, restorer_->replaces_production()).c_str(),
              restorer_->start_condition().c_str());
  std::fflush(stdout);
  nlohmann::json details = restorer_->plan_details();
  details["safety_backup"] = no_safety_reason_.empty();
  journal_.audit("plan", "shown", std::move(details));
}

bool ProductionRestore::confirmed(std::istream& in) {
  if (request_.assume_yes) {
    journal_.audit("confirmation", "given", {{"by", "--yes"}});
    return true;
  }
  std::printf("Type YES to restore: ");
  std::fflush(stdout);
  // The agent blocks SIGINT for its signal thread, so a Ctrl-C at the prompt would not interrupt
  // the read: wait for the terminal with poll() and give up when the agent is asked to stop.
  if (&in == &std::cin && journal_.ctx().cancel) {
    pollfd fd{0, POLLIN, 0};
    while (!journal_.stopping() && ::poll(&fd, 1, 100) == 0) {
    }
  }
  std::string answer;
  const bool read = !journal_.stopping() && static_cast<bool>(std::getline(in, answer));
  const bool yes = read && answer == "YES" && !journal_.stopping();
  std::printf("\n");
  journal_.audit("confirmation", yes ? "given" : "refused",
                 {{"answer", read ? answer : "<end of input>"}});
  return yes;
}

void ProductionRestore::take_safety_backup() {
  if (!no_safety_reason_.empty()) {
    spdlog::warn("no safety backup: {}", no_safety_reason_);
    journal_.audit("safety_backup", "skipped", {{"reason", no_safety_reason_}});
    return;
  }
  BackupOptions options;
  options.lock_held = true;
  options.apply_retention = false;
  options.purpose = "safety backup";
  options.type = restorer_->safety_backup_type();
  std::printf("taking the safety backup of %s...\n", journal_.database.c_str());
  std::fflush(stdout);
  try {
    const BackupResult r = take_backup(config_, target_, journal_.ctx(), options);
    safety_backup_ = r.file;
  } catch (const OperationError& e) {
    journal_.audit("safety_backup", "failure", {{"error", e.what()}});
    throw OperationError(std::string("the safety backup failed: ") + e.what() +
                         "; nothing was changed (hint: fix that and restore again, or restore "
                         "with --no-safety-backup if the current data does not matter)");
  }
  std::printf("safety backup: %s\n", safety_backup_->c_str());
  journal_.audit("safety_backup", "success", {{"file", safety_backup_->filename().string()}});
}

void ProductionRestore::run_command(const std::string& step, const std::vector<std::string>& argv) {
  if (!restorer_->replaces_production() || argv.empty()) {
    journal_.audit(step, "skipped",
                   {{"reason", argv.empty() ? "not configured" : "production is not changed"}});
    return;
  }
  journal_.check_stopping();
  ProcessSpec spec;
  spec.argv = argv;
  spec.timeout = std::chrono::minutes(10);
  spec.cancel = journal_.ctx().cancel;
  const ProcessResult r = run_process(spec);
  if (!r.ok()) {
    throw OperationError(step + " failed: " + describe_failure(spec, r));
  }
  std::printf("%s: ok (%s)\n", step.c_str(), join(argv, " ").c_str());
  journal_.audit(step, "success", {{"command", argv}});
}

// The restore's final audit entry: what was restored, and the safety backup.
nlohmann::json ProductionRestore::outcome(nlohmann::json details) const {
  details.update(restorer_->identity());
  details["safety_backup"] = safety_backup_ ? safety_backup_->filename().string() : "";
  return details;
}

// A failure after the confirmation: say what state the data and the application are in, where
// the safety backup is and how to go back or retry.
int ProductionRestore::fail(const std::string& step, const std::string& error) {
  std::string text = "restore FAILED at " + step + ": " + error + "\n";
  text += "  " + restorer_->state_after_failure(step) + "\n";
  if (started_) {
    text += "  start_command ran\n";
  } else {
    text += "  start_command was NOT run";
    if (stopped_ || step == "stop_command") {
      text += "; the application is (partly) stopped";
      if (!restorer_->data_touched() && !target_.restore.start_command.empty()) {
        text += ", start it again with: " + join(target_.restore.start_command, " ");
      }
    }
    text += "\n";
  }
  if (safety_backup_) {
    text += "  the safety backup of the data before the restore is " + safety_backup_->string() +
            "\n  to go back to it: " + restorer_->go_back_command(*safety_backup_) + "\n";
  } else {
    text += "  there is no safety backup (" + no_safety_reason_ + ")\n";
  }
  text += "  to retry this restore once the cause is fixed: " + restorer_->retry_command() + "\n";
  // The text first: it is what the operator needs now; the audit entries follow.
  std::fprintf(stderr, "%s", text.c_str());
  journal_.audit(step, "failure", {{"error", error}});
  journal_.audit("restore", "failure", outcome({{"failed_step", step}, {"error", error}}));
  return 1;
}

int ProductionRestore::start_failed(const std::string& error) {
  journal_.audit("start_command", "failure", {{"error", error}});
  nlohmann::json details = outcome({{"failed_step", "start_command"}, {"error", error}});
  details.erase("safety_backup");
  journal_.audit("restore", "failure", details);
  std::fprintf(stderr, "%s", restorer_->start_failure_text(error).c_str());
  return 1;
}

int ProductionRestore::run(std::istream& confirmation) {
  restorer_->check();
  no_safety_reason_ = request_.safety_backup ? restorer_->no_safety_reason() : "--no-safety-backup";
  print_plan();
  if (!confirmed(confirmation)) {
    std::fprintf(stderr, "restore cancelled, nothing was changed (type YES to restore)\n");
    journal_.audit("restore", "cancelled", restorer_->identity());
    return 1;
  }
  take_safety_backup();
  restorer_->ready();
  try {
    journal_.begin("stop_command");
    run_command("stop_command", target_.restore.stop_command);
    stopped_ = restorer_->replaces_production() && !target_.restore.stop_command.empty();
    restorer_->put_back();
  } catch (const std::exception& e) {
    return fail(journal_.step(), e.what());
  }
  try {
    run_command("start_command", target_.restore.start_command);
  } catch (const OperationError& e) {
    return start_failed(e.what());
  }
  started_ = restorer_->replaces_production() && !target_.restore.start_command.empty();
  try {
    restorer_->check_started();
  } catch (const std::exception& e) {
    return fail(journal_.step(), e.what());
  }
  std::printf("%s\n", restorer_->done_text().c_str());
  journal_.audit("restore", "success", outcome({}));
  return 0;
}

}  // namespace

int restore_production(const Config& config, const TargetConfig& target,
                       const RestoreRequest& request, std::istream& confirmation,
                       const JobContext& ctx) {
  prepare_backup_dir(target.backup.dir);
  // Held from the plan to the end: no scheduled backup, prune or restore test runs meanwhile
  // (the safety backup is taken under it).
  const DirectoryLock lock(target.state_dir());
  ProductionRestore restore(config, target, request, ctx);
  return restore.run(confirmation);
}

}  // namespace pgbackup
