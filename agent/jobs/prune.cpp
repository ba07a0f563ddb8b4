#include "agent/jobs/prune.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "agent/catalog/audit_log.h"
#include "agent/catalog/directory_lock.h"
#include "agent/catalog/job_state.h"
#include "agent/core/file_io.h"
#include "agent/jobs/backup.h"
#include "agent/jobs/offsite.h"
#include "agent/rules/retention.h"
#include "agent/storage/posix_storage.h"
#include "agent/storage/s3_storage.h"

namespace pgbackup {

std::vector<StoredBackup> list_stored_backups(
    Storage& storage, const Repository& naming,
    const std::function<std::string(const std::string& manifest)>& read_manifest) {
  // Pair each dump with its manifest; only complete pairs are backups.
  std::map<std::string, SysTime> dumps;  // name -> start time
  std::map<std::string, bool> manifests;
  constexpr std::size_t kSuffixLength = std::string_view(kManifestSuffix).size();
  for (const StoredFile& f : storage.list()) {
    if (f.name.size() > kSuffixLength && f.name.ends_with(kManifestSuffix)) {
      manifests[f.name.substr(0, f.name.size() - kSuffixLength)] = true;
    } else if (const auto started = naming.parse_dump_name(f.name)) {
      dumps[f.name] = *started;
    }
  }
  std::vector<StoredBackup> out;
  for (const auto& [name, started] : dumps) {
    if (!manifests.count(name)) continue;
    try {
      const std::string text = read_manifest(name + kManifestSuffix);
      Manifest m = manifest_from_json(nlohmann::json::parse(text));
      if (const std::string why = manifest_mismatch(m, name); !why.empty()) {
        spdlog::warn("retention keeps {}: {}", storage.address(name), why);
        continue;
      }
      out.push_back({name, started, std::move(m)});
    } catch (const std::exception& e) {
      spdlog::warn("retention keeps {}: cannot read its manifest: {}", storage.address(name),
                   e.what());
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const StoredBackup& a, const StoredBackup& b) {
    return a.started_at < b.started_at;
  });
  return out;
}

RetentionOutcome apply_retention(Storage& storage, const std::vector<StoredBackup>& backups,
                                 const RetentionConfig& policy, SysTime now, RetentionRun run,
                                 bool dry_run,
                                 const std::function<void(const StoredBackup&)>& on_deleted) {
  std::vector<RetainedBackup> items;
  for (const StoredBackup& b : backups) items.push_back({b.started_at, b.manifest.tier});
  std::vector<std::size_t> expired = select_expired(items, policy, now);
  RetentionOutcome outcome;
  outcome.refused = clock_guard_reason(items, expired.size(), now, run);
  if (!outcome.refused.empty()) expired.clear();
  for (std::size_t i = 0; i < backups.size(); ++i) {
    const StoredBackup& b = backups[i];
    if (std::find(expired.begin(), expired.end(), i) == expired.end()) {
      outcome.kept.push_back(&b);
      continue;
    }
    if (!dry_run) {
      // The companion file goes first: when it cannot be deleted (PosixStorage refuses a link or
      // another user's file) nothing of the backup is. An abort right after it leaves a backup
      // that verify reports as missing its companion, and that the next run deletes.
      if (b.manifest.globals) storage.remove(b.dump + kGlobalsSuffix);
      // The manifest goes before the dump: a dump without one is never mistaken for a good
      // backup.
      storage.remove(b.dump + kManifestSuffix);
      storage.sync();
      storage.remove(b.dump);
      if (on_deleted) on_deleted(b);
    }
    outcome.deleted.push_back(&b);
  }
  if (!dry_run) storage.sync();
  return outcome;
}

namespace {

// A retention run the clock guard refused: a warning naming `what` ("retention", "off-site
// retention"), and (unless a dry run) an audit line of `operation`.
void report_refusal(const RetentionOutcome& outcome, const TargetConfig& target, const char* what,
                    const char* operation, const fs::path& audit, SysTime now, bool dry_run) {
  if (outcome.refused.empty()) return;
  spdlog::warn("{} of {} refused: {}", what, target.name, outcome.refused);
  if (dry_run) return;
  append_audit(audit,
               {{"target", target.name},
                {"operation", operation},
                {"outcome", "refused"},
                {"error", outcome.refused}},
               now);
}

}  // namespace

std::string retention_blocked_reason(const Repository& repo,
                                     const std::vector<BackupEntry>& backups) {
  const TargetState state = load_state(repo.state_dir());
  const BackupEntry* newest = newest_good(backups);
  return retention_blocked_reason(state.backup && !state.backup->success,
                                  newest ? &*newest->manifest : nullptr);
}

PruneResult prune_local(const Config& config, const TargetConfig& target, const Repository& repo,
                        SysTime now, RetentionRun run, bool dry_run) {
  PruneResult result;
  result.skipped_reason = retention_blocked_reason(repo, repo.scan());
  if (!result.skipped_reason.empty()) return result;
  PosixStorage storage(repo.dir());
  const std::vector<StoredBackup> backups = list_stored_backups(
      storage, repo, [&](const std::string& name) { return storage.read(name); });
  const RetentionOutcome outcome = apply_retention(
      storage, backups, target.retention, now, run, dry_run, [&](const StoredBackup& b) {
        append_audit(config.audit_log_for(target),
                     {{"target", target.name},
                      {"operation", "prune"},
                      {"outcome", "deleted"},
                      {"file", b.dump},
                      {"tier", tier_name(b.manifest.tier)}},
                     now);
      });
  for (const StoredBackup* b : outcome.deleted) result.deleted.push_back(repo.dir() / b->dump);
  for (const StoredBackup* b : outcome.kept) result.kept.push_back(repo.dir() / b->dump);
  result.skipped_reason = outcome.refused;
  result.refused = !outcome.refused.empty();
  report_refusal(outcome, target, "retention", "prune", config.audit_log_for(target), now, dry_run);
  return result;
}

OffsitePruneResult prune_offsite(S3Client& client, const TargetConfig& target,
                                 const fs::path& audit, SysTime now, RetentionRun run,
                                 bool dry_run) {
  const S3Config& s3 = client.config();
  const Repository repo(target.backup.dir, target.backup.file_prefix);
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
  report_refusal(outcome, target, "off-site retention", "offsite_prune", audit, now, dry_run);
  return result;
}

PruneReport run_prune_job(const Config& config, const TargetConfig& target, const JobContext& ctx,
                          bool dry_run) {
  PruneReport report;
  {
    const Repository repo(target.backup.dir, target.backup.file_prefix);
    repo.prepare();
    const DirectoryLock lock(repo.state_dir());
    report.local = prune_local(config, target, repo, ctx.now(), RetentionRun::by_hand, dry_run);
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
