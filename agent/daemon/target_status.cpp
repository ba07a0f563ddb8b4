#include "agent/daemon/target_status.h"

#include <algorithm>
#include <cmath>

#include "agent/catalog/job_state.h"
#include "agent/engines/engine.h"
#include "agent/jobs/offsite.h"
#include "agent/schedule/cron.h"

namespace pgbackup {

const CatalogEntry* TargetStatus::newest_good() const { return pgbackup::newest_good(backups); }

std::vector<const CatalogEntry*> TargetStatus::good() const { return good_entries(backups); }

const RestoreTestReport* TargetStatus::last_restore_test() const {
  return restore_tests.empty() ? nullptr : &restore_tests.front();
}

std::optional<SysTime> TargetStatus::last_restore_test_success() const {
  std::optional<SysTime> newest;
  auto consider = [&](SysTime at) { newest = newest ? std::max(*newest, at) : at; };
  if (state.restore_test && state.restore_test->success) consider(state.restore_test->finished_at);
  for (const RestoreTestReport& r : restore_tests) {
    if (r.success) consider(r.finished_at);
  }
  for (const CatalogEntry* b : good()) {
    const auto& mark = b->manifest->restore_test;
    if (!mark || !mark->success) continue;
    if (const auto at = parse_iso8601(mark->tested_at)) consider(*at);
  }
  return newest;
}

// The report's own measurement when it has one (fractions of a second), else the attempt's.
double TargetStatus::last_restore_test_seconds() const {
  const JobAttempt* a = state.restore_test ? &*state.restore_test : nullptr;
  const RestoreTestReport* r = last_restore_test();
  // Reports keep whole seconds, state.json fractions: the same test is within a second.
  if (r &&
      (!a || std::abs(to_unix_seconds(r->finished_at) - to_unix_seconds(a->finished_at)) < 1.0)) {
    return r->duration_seconds;
  }
  return a ? std::chrono::duration<double>(a->finished_at - a->started_at).count() : 0.0;
}

std::vector<SpaceSample> space_history(const TargetStatus& t, SysTime now) {
  std::vector<SpaceSample> out;
  for (const CatalogEntry* b : t.good()) {
    const Manifest& m = *b->manifest;
    if (m.repository_size_bytes > 0 && b->finished_at() < now) {
      out.push_back({b->finished_at(), double(m.repository_avail_bytes)});
    }
  }
  if (t.filesystem.size_bytes > 0) out.push_back({now, double(t.filesystem.avail_bytes)});
  return out;
}

HealthSignals health_signals(const TargetStatus& t, SysTime now) {
  HealthSignals s;
  if (const CatalogEntry* b = t.newest_good()) {
    const Manifest& m = *b->manifest;
    s.last_good_backup = b->finished_at();
    s.size_anomaly = m.size_anomaly;
    s.size_anomaly_reason = m.size_anomaly_reason;
    for (const ShrunkTable& st : m.shrunk_tables) {
      s.shrunk_tables.push_back(st.schema + "." + st.name + " " + std::to_string(st.previous_rows) +
                                " → " + std::to_string(st.rows));
    }
    s.dropped_schema_objects = count_changes(m.schema_changes).dropped;
  }
  s.schedule_interval_seconds = t.schedule_interval_seconds;
  if (t.state.backup && !t.state.backup->success) {
    s.last_backup_failed = true;
    s.last_backup_error = t.state.backup->error;
  }
  s.database_up = t.runtime.database_up;
  s.repository_size_bytes = t.filesystem.size_bytes;
  s.repository_avail_bytes = t.filesystem.avail_bytes;
  s.space = space_history(t, now);
  if (t.state.restore_test && !t.state.restore_test->success) {
    s.last_restore_test_failed = true;
    s.last_restore_test_error = t.state.restore_test->error;
  }
  s.last_restore_test_success = t.last_restore_test_success();
  s.restore_test_interval_seconds = t.restore_test_schedule_interval_seconds;
  s.last_restore_test_seconds = t.last_restore_test_seconds();
  s.rto_target_seconds = t.restore_test_rto_target_seconds;
  if (const ArchiveStatus* a = t.archive()) {
    HealthSignals::Archive& h = s.archive.emplace();
    if (a->rpo_exposure) h.rpo_exposure_seconds = static_cast<double>(a->rpo_exposure->count());
    h.rpo_target_seconds = t.rpo_target ? static_cast<double>(t.rpo_target->count()) : 0.0;
    h.failing = a->failing;
    h.last_archived = a->last_archived;
    h.wal_gaps = a->health.wal_gaps;
    h.stanza_status = a->health.stanza_status;
    h.stanza_message = a->health.stanza_message;
  }
  if (t.state.verify) {
    s.verify_ran = true;
    s.verify_failed = !t.state.verify->success;
    s.verify_error = t.state.verify->error;
    s.verify_invalid_files = t.state.verify->invalid_files;
  }
  s.verify_last_success = t.state.verify_last_success;
  s.recovery_window_start = t.recovery_window.start;
  if (t.offsite_configured) {
    if (t.state.offsite && !t.state.offsite->success) {
      s.offsite_last_upload_failed = true;
      s.offsite_error = t.state.offsite->error;
    }
    s.offsite_oldest_pending = t.offsite_oldest_pending;
  }
  return s;
}

TargetStatus read_target_status(const TargetConfig& target, SysTime now, ManifestCache* cache,
                                IdentityKeysCache* identities) {
  TargetStatus s;
  s.name = target.name;
  s.backup_dir = target.backup.dir.string();
  const std::unique_ptr<BackupEngine> engine = make_engine(target);
  s.engine = engine->name();
  s.backups = engine->catalog(cache);
  for (CatalogEntry& b : s.backups) {
    if (b.manifest) drop_fingerprint_contents(*b.manifest);
  }
  s.recovery_window = engine->recovery_window(s.backups);
  s.rpo_target = target.rpo_target;
  s.state = load_state(target.state_dir());
  s.restore_tests = read_restore_test_history(target.state_dir(), kRestoreTestHistory);
  s.filesystem = engine->storage_space();
  s.backup_running = engine->backup_running();
  s.schedule_interval_seconds =
      static_cast<double>(CronSchedule::parse(target.backup.schedule).interval(now).count());
  if (target.restore_test) {
    s.restore_test_schedule_interval_seconds = static_cast<double>(
        CronSchedule::parse(target.restore_test->schedule).interval(now).count());
    s.restore_test_rto_target_seconds =
        static_cast<double>(target.restore_test->rto_target.count());
  }
  if (target.offsite_s3) {
    s.offsite_configured = true;
    const auto pending = pending_offsite(s.backups, *target.offsite_s3, target.retention, now);
    s.offsite_pending = pending.size();
    if (!pending.empty()) s.offsite_oldest_pending = pending.front()->started_at;  // oldest first
  }
  const std::filesystem::path identity =
      target.encryption ? target.encryption->identity_file : std::filesystem::path();
  s.identity = identities ? identities->keys_of(identity) : read_identity_keys(identity);
  return s;
}

}  // namespace pgbackup
