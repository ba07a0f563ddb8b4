#include "agent/jobs/backup.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "agent/catalog/directory_lock.h"
#include "agent/core/errors.h"
#include "agent/engines/engine.h"
#include "agent/jobs/job_run.h"

namespace pgbackup {
namespace {

// Retention after a good backup. The backup is committed and recorded as a success: a
// retention error (a file that cannot be removed, say) must not turn it into a failed attempt,
// which would also stop retention until the next good backup. Reported on its own instead.
PruneResult prune_after_backup(const Config& config, const TargetConfig& target,
                               BackupEngine& engine, const JobContext& ctx) {
  try {
    return prune_local(config, target, engine, ctx.now(), RetentionRun::automatic, false);
  } catch (const std::exception& e) {
    spdlog::error("retention of {} failed after a good backup: {}", target.name, e.what());
    JobRun(config, target, "", "prune", ctx).fail(e.what());
    PruneResult report;
    report.skipped_reason = std::string("retention failed: ") + e.what();
    return report;
  }
}

}  // namespace

BackupResult take_backup(const Config& config, const TargetConfig& target, const JobContext& ctx,
                         const BackupOptions& options) {
  const std::unique_ptr<BackupEngine> engine = make_engine(target);
  if (!engine->takes(options.type)) {
    throw ConfigError(std::string("target ") + target.name + " uses " + engine->name() +
                      ", which takes only full backups, not " + backup_type_name(options.type) +
                      " (hint: drop --type, or use engine: pgbackrest)");
  }
  engine->prepare();
  std::optional<DirectoryLock> lock;
  if (!options.lock_held) lock.emplace(target.state_dir());
  JobRun run(config, target, "backup", options.purpose, ctx);
  try {
    for (const fs::path& p : engine->remove_leftovers()) {
      spdlog::warn("removed {} left by an interrupted backup", p.string());
    }
    CatalogEntry backup = engine->backup(options.type, ctx);
    BackupResult result;
    result.file = backup.dump;
    result.type = backup.type;
    result.restore_set_bytes = backup.restore_set_bytes();
    result.manifest = std::move(*backup.manifest);
    const Manifest& m = result.manifest;
    run.succeed(m.file, {{"file", m.file},
                         {"type", backup_type_name(result.type)},
                         {"size_bytes", m.size_bytes},
                         {"sha256", m.sha256},
                         {"tier", tier_name(m.tier)},
                         {"duration_seconds", m.duration_seconds},
                         {"size_anomaly", m.size_anomaly},
                         {"shrunk_tables", m.shrunk_tables.size()},
                         {"schema_changes", m.schema_changes.size()}});
    if (options.apply_retention) {
      result.prune = prune_after_backup(config, target, *engine, ctx);
    } else {
      result.prune.skipped_reason = "retention is not applied to a " + options.purpose;
    }
    return result;
  } catch (const std::exception& e) {
    run.fail(e.what(), "", {{"type", backup_type_name(options.type)}});
    if (dynamic_cast<const OperationError*>(&e)) throw;
    throw OperationError(e.what());
  }
}

}  // namespace pgbackup
