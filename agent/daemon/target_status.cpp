#include "agent/daemon/target_status.h"

#include "agent/catalog/job_state.h"
#include "agent/jobs/offsite.h"
#include "agent/schedule/cron.h"

namespace pgbackup {

const BackupEntry* TargetStatus::newest_good() const {
  for (auto it = backups.rbegin(); it != backups.rend(); ++it) {
    if (it->good()) return &*it;
  }
  return nullptr;
}

std::vector<const BackupEntry*> TargetStatus::good() const {
  std::vector<const BackupEntry*> out;
  for (const BackupEntry& b : backups) {
    if (b.good()) out.push_back(&b);
  }
  return out;
}

const RestoreTestReport* TargetStatus::last_restore_test() const {
  return restore_tests.empty() ? nullptr : &restore_tests.front();
}

TargetStatus read_target_status(const TargetConfig& target, SysTime now, ManifestCache* cache) {
  TargetStatus s;
  s.name = target.name;
  s.backup_dir = target.backup.dir.string();
  const Repository repo(target.backup.dir, target.backup.file_prefix);
  s.backups = repo.scan(cache);
  for (BackupEntry& b : s.backups) {
    if (b.manifest) drop_fingerprint_contents(*b.manifest);
  }
  s.state = load_state(repo.state_dir());
  s.restore_tests = read_restore_test_history(repo.state_dir(), kRestoreTestHistory);
  s.filesystem = repo.filesystem();
  s.backup_running = repo.backup_running();
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
    s.offsite_pending =
        pending_offsite(s.backups, *target.offsite_s3, target.retention, now).size();
  }
  return s;
}

}  // namespace pgbackup
