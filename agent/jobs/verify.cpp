#include "agent/jobs/verify.h"

#include "agent/catalog/directory_lock.h"
#include "agent/jobs/job_run.h"

namespace pgbackup {

VerifyJobResult run_verify_job(const Config& config, const TargetConfig& target,
                               const JobContext& ctx) {
  const std::unique_ptr<BackupEngine> engine = make_engine(target);
  const DirectoryLock lock(target.state_dir());
  JobRun run(config, target, "verify", "verify", ctx);
  VerifyJobResult result;
  try {
    const std::vector<CatalogEntry> entries = engine->catalog();
    const CatalogEntry* newest = newest_good(entries);
    if (!newest) {
      run.fail("no good backup to verify (hint: pgbackup-agent backup --target " + target.name +
               ")");
      return result;
    }
    result.backup = newest->name();
    result.report = engine->verify(*newest, ctx.progress);
    if (result.report.ok()) {
      run.succeed(result.backup, {{"file", result.backup}});
    } else {
      run.fail(result.report.first_problem(), result.backup, {{"file", result.backup}});
    }
  } catch (const std::exception& e) {
    run.fail(e.what(), result.backup);
    result.report.checks.push_back({"verify", false, e.what()});
  }
  return result;
}

}  // namespace pgbackup
