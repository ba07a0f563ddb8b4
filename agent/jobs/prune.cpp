#include "agent/jobs/prune.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/catalog/audit_log.h"
#include "agent/catalog/directory_lock.h"
#include "agent/catalog/job_state.h"
#include "agent/jobs/offsite.h"
#include "agent/rules/retention.h"
#include "agent/storage/posix_storage.h"
#include "agent/storage/s3_storage.h"

namespace pgbackup {

namespace {

// A retention run the clock guard refused: a warning naming `what` ("retention", "off-site
// retention"), and (unless a dry run) an audit line of `operation`.
void report_refusal(const std::string& refused, const TargetConfig& target, const char* what,
                    const char* operation, const fs::path& audit, SysTime now, bool dry_run) {
  if (refused.empty()) return;
  spdlog::warn("{} of {} refused: {}", what, target.name, refused);
  if (dry_run) return;
  append_audit(audit,
               {{"target", target.name},
                {"operation", operation},
                {"outcome", "refused"},
                {"error", refused}},
               now);
}

}  // namespace

std::string retention_blocked_reason(const TargetConfig& target,
                                     const std::vector<CatalogEntry>& backups) {
  const TargetState state = load_state(target.state_dir());
  const CatalogEntry* newest = newest_good(backups);
  return retention_blocked_reason(state.backup && !state.backup->success,
                                  newest ? &*newest->manifest : nullptr);
}

PruneResult prune_local(const Config& config, const TargetConfig& target, BackupEngine& engine,
                        SysTime now, RetentionRun run, bool dry_run) {
  PruneResult result;
  result.skipped_reason = retention_blocked_reason(target, engine.catalog());
  if (!result.skipped_reason.empty()) return result;
  const std::vector<CatalogEntry> backups = engine.retention_candidates();
  std::vector<RetainedBackup> items;
  for (const CatalogEntry& b : backups) items.push_back({b.started_at, b.tier()});
  const ExpiryDecision decision = decide_expiry(items, target.retention, now, run);
  std::vector<const CatalogEntry*> expired;
  for (std::size_t i = 0; i < backups.size(); ++i) {
    const CatalogEntry& b = backups[i];
    if (std::find(decision.expired.begin(), decision.expired.end(), i) == decision.expired.end()) {
      result.kept.push_back(b.dump);
      continue;
    }
    expired.push_back(&b);
    result.deleted.push_back(b.dump);
    result.deleted_with.push_back(b.dependents);
  }
  if (!dry_run && !expired.empty()) {
    engine.remove(expired, [&](const CatalogEntry& b) {
      append_audit(config.audit_log_for(target),
                   {{"target", target.name},
                    {"operation", "prune"},
                    {"outcome", "deleted"},
                    {"file", b.name()},
                    {"tier", tier_name(b.tier())}},
                   now);
    });
  }
  result.skipped_reason = decision.refused;
  result.refused = !decision.refused.empty();
  report_refusal(decision.refused, target, "retention", "prune", config.audit_log_for(target), now,
                 dry_run);
  return result;
}

OffsitePruneResult prune_offsite(S3Client& client, const TargetConfig& target,
                                 const fs::path& audit, SysTime now, RetentionRun run,
                                 bool dry_run) {
  const S3Config& s3 = client.config();
  const DumpCatalog repo(target.backup.dir, target.backup.file_prefix);
  S3Storage storage(client, s3.prefix);
  // The local manifest says the same and costs no request; the bucket's serves when the local
  // backup is gone.
  PosixStorage local(repo.dir());
  const std::vector<StoredBackup> backups =
      list_stored_backups(storage, repo, [&](const std::string& name) {
        std::optional<std::string> text = local.read_if_present(name);
        return text ? std::move(*text) : storage.read(name);
      });
  const RetentionOutcome outcome = apply_retention(
      storage, backups, target.retention, now, run, dry_run, [&](const StoredBackup& b) {
        const std::string url = storage.address(b.dump);
        spdlog::info("off-site retention deleted {}", url);
        append_audit(audit,
                     {{"target", target.name},
                      {"operation", "offsite_prune"},
                      {"outcome", "deleted"},
                      {"url", url}},
                     now);
      });
  OffsitePruneResult result;
  for (const StoredBackup* b : outcome.deleted) result.deleted.push_back(storage.key(b->dump));
  for (const StoredBackup* b : outcome.kept) result.kept.push_back(storage.key(b->dump));
  result.skipped_reason = outcome.refused;
  report_refusal(outcome.refused, target, "off-site retention", "offsite_prune", audit, now,
                 dry_run);
  return result;
}

PruneReport run_prune_job(const Config& config, const TargetConfig& target, const JobContext& ctx,
                          bool dry_run) {
  PruneReport report;
  {
    const std::unique_ptr<BackupEngine> engine = make_engine(target);
    engine->prepare();
    const DirectoryLock lock(target.state_dir());
    report.local = prune_local(config, target, *engine, ctx.now(), RetentionRun::by_hand, dry_run);
  }
  if (!report.local.skipped_reason.empty() || !target.offsite_s3) return report;
  try {
    const S3Config& s3 = *target.offsite_s3;
    S3Client client(s3, read_s3_credentials(s3), offsite_tuning(s3, ctx));
    report.offsite = prune_offsite(client, target, config.audit_log_for(target), ctx.now(),
                                   RetentionRun::by_hand, dry_run);
  } catch (...) {
    report.offsite_error = std::current_exception();
  }
  return report;
}

}  // namespace pgbackup
