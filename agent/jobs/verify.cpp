#include "agent/jobs/verify.h"

#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/engines/pg_dump/dump_crypto.h"
#include "agent/jobs/job_run.h"

namespace pgbackup {
namespace {

// The backup `file` names: a name as `list` shows it, or a path (select_backup's rules).
const CatalogEntry& chosen(const std::vector<CatalogEntry>& entries,
                           const std::optional<std::string>& file, const fs::path& dir) {
  if (file && !fs::path(*file).has_parent_path()) {
    for (const CatalogEntry& e : entries) {
      if (e.name() == *file) return e;
    }
  }
  return select_backup(entries, file ? std::optional<fs::path>(*file) : std::nullopt, dir);
}

}  // namespace

VerifyJobResult run_verify_job(const Config& config, const TargetConfig& target,
                               const std::optional<std::string>& file, const JobContext& ctx,
                               bool deep) {
  const std::unique_ptr<BackupEngine> engine = make_engine(target);
  // Never while a backup of the target runs (nor a prune deletes what it reads).
  const DirectoryLock lock(target.state_dir());
  const std::vector<CatalogEntry> entries = engine->catalog();
  const CatalogEntry& entry = chosen(entries, file, target.backup.dir);
  VerifyJobResult result{entry.name(), entry.dump, {}};
  JobRun run(config, target, "verify", "verify", ctx);
  try {
    result.report = engine->verify(entry, ctx.progress);
    if (deep && entry.manifest && entry.manifest->encryption) {
      for (VerifyCheck& c : verify_decrypted(target, entry)) {
        result.report.checks.push_back(std::move(c));
      }
    }
  } catch (const std::exception& e) {
    run.fail(e.what(), entry.name(), {{"file", entry.name()}});
    if (dynamic_cast<const OperationError*>(&e)) throw;
    throw OperationError(e.what());
  }
  run.set_invalid_files(result.report.invalid_files);
  if (result.report.ok()) {
    run.succeed(entry.name(), {{"file", entry.name()}, {"error", ""}});
  } else {
    run.fail(result.report.first_problem(), entry.name(),
             {{"file", entry.name()}, {"invalid_files", result.report.invalid_files}});
  }
  return result;
}

}  // namespace pgbackup
