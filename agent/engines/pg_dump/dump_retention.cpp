#include "agent/engines/pg_dump/dump_retention.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <string_view>

namespace pgbackup {

std::vector<StoredBackup> list_stored_backups(
    Storage& storage, const DumpCatalog& naming,
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

void remove_stored_backup(Storage& storage, const std::string& dump, bool with_globals) {
  // The companion file goes first: when it cannot be deleted (PosixStorage refuses a link or
  // another user's file) nothing of the backup is. An abort right after it leaves a backup
  // that verify reports as missing its companion, and that the next run deletes.
  if (with_globals) storage.remove(dump + kGlobalsSuffix);
  // The manifest goes before the dump: a dump without one is never mistaken for a good
  // backup.
  storage.remove(dump + kManifestSuffix);
  storage.sync();
  storage.remove(dump);
}

RetentionOutcome apply_retention(Storage& storage, const std::vector<StoredBackup>& backups,
                                 const RetentionConfig& policy, SysTime now, RetentionRun run,
                                 bool dry_run,
                                 const std::function<void(const StoredBackup&)>& on_deleted) {
  std::vector<RetainedBackup> items;
  for (const StoredBackup& b : backups) items.push_back({b.started_at, b.manifest.tier});
  const ExpiryDecision decision = decide_expiry(items, policy, now, run);
  RetentionOutcome outcome;
  outcome.refused = decision.refused;
  for (std::size_t i = 0; i < backups.size(); ++i) {
    const StoredBackup& b = backups[i];
    if (std::find(decision.expired.begin(), decision.expired.end(), i) == decision.expired.end()) {
      outcome.kept.push_back(&b);
      continue;
    }
    if (!dry_run) {
      remove_stored_backup(storage, b.dump, b.manifest.globals.has_value());
      if (on_deleted) on_deleted(b);
    }
    outcome.deleted.push_back(&b);
  }
  if (!dry_run) storage.sync();
  return outcome;
}

}  // namespace pgbackup
