#include "agent/rules/health.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "agent/core/text.h"
#include "agent/core/units.h"

namespace pgbackup {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// The regression line through the samples within `window` before `now`, x in seconds from
// `now`: (value at now, slope per second).
struct Line {
  double at_now = 0;
  double slope = 0;
};

std::optional<Line> fit(const std::vector<SpaceSample>& samples, SysTime now, seconds window) {
  std::vector<std::pair<double, double>> points;
  for (const SpaceSample& s : samples) {
    if (s.at < now - window || s.at > now) continue;
    points.emplace_back(std::chrono::duration<double>(s.at - now).count(), s.avail_bytes);
  }
  if (points.size() < 2) return std::nullopt;
  // Samples taken minutes apart say nothing about a day: other writers on the filesystem
  // swamp the trend. Prometheus has regular scrapes across the window; we ask for a quarter.
  const auto [first, last] = std::minmax_element(points.begin(), points.end());
  if (last->first - first->first < double(window.count()) / 4) return std::nullopt;
  double mean_x = 0, mean_y = 0;
  for (const auto& [x, y] : points) {
    mean_x += x;
    mean_y += y;
  }
  mean_x /= double(points.size());
  mean_y /= double(points.size());
  double sxy = 0, sxx = 0;
  for (const auto& [x, y] : points) {
    sxy += (x - mean_x) * (y - mean_y);
    sxx += (x - mean_x) * (x - mean_x);
  }
  if (sxx == 0) return std::nullopt;
  const double slope = sxy / sxx;
  return Line{mean_y - slope * mean_x, slope};
}

std::string percent(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %%", ratio * 100);
  return text;
}

std::string duration_words(double s) {
  return format_duration(seconds(static_cast<long long>(std::max(0.0, s))));
}

}  // namespace

const char* health_level_name(HealthLevel level) {
  switch (level) {
    case HealthLevel::ok:
      return "ok";
    case HealthLevel::warning:
      return "warning";
    case HealthLevel::critical:
      return "critical";
  }
  return "ok";
}

const std::vector<std::string>& judged_alerts() {
  static const std::vector<std::string> kAlerts = {"PgBackupTooOld",
                                                   "PgBackupFailed",
                                                   "PgBackupSizeAnomaly",
                                                   "PgBackupTablesShrunk",
                                                   "PgBackupSchemaObjectsDropped",
                                                   "PgBackupRepositorySpaceLow",
                                                   "PgBackupRepositoryFillingUp",
                                                   "PgBackupRestoreTestFailed",
                                                   "PgBackupRestoreTestOverdue",
                                                   "PgBackupRestoreTooSlow",
                                                   "PgBackupRpoExceeded",
                                                   "PgBackupWalArchivingFailing",
                                                   "PgBackupWalGap",
                                                   "PgBackupVerifyFailed",
                                                   "PgBackupVerifyOverdue",
                                                   "PgBackupStanzaUnhealthy",
                                                   "PgBackupOffsiteFailing",
                                                   "PgBackupDatabaseDown"};
  return kAlerts;
}

std::optional<double> predict_linear(const std::vector<SpaceSample>& samples, SysTime now,
                                     seconds window, seconds horizon) {
  const auto line = fit(samples, now, window);
  if (!line) return std::nullopt;
  return line->at_now + line->slope * double(horizon.count());
}

std::optional<SysTime> predict_full(const std::vector<SpaceSample>& samples, SysTime now,
                                    seconds window) {
  const auto line = fit(samples, now, window);
  if (!line || line->slope >= 0) return std::nullopt;
  const double after = std::max(0.0, -line->at_now / line->slope);
  return now + std::chrono::duration_cast<SysTime::duration>(std::chrono::duration<double>(after));
}

// pgbackup-archive (the mixin's thresholds: archiving stuck for 15 min, verify overdue after
// 48 h).
static void judge_archive(const HealthSignals& s, SysTime now,
                          const std::function<void(HealthLevel, const char*, std::string)>& fire) {
  using L = HealthLevel;
  using std::chrono::minutes;
  const auto seconds_since = [&](SysTime t) {
    return std::chrono::duration<double>(now - t).count();
  };
  if (const auto& a = s.archive) {
    if (a->rpo_target_seconds > 0 &&
        (!a->rpo_exposure_seconds || *a->rpo_exposure_seconds > a->rpo_target_seconds)) {
      fire(L::critical, "PgBackupRpoExceeded",
           (a->rpo_exposure_seconds ? "changes up to " + duration_words(*a->rpo_exposure_seconds) +
                                          " old are not in the repository"
                                    : std::string("no archived WAL segment dates the exposure")) +
               ", more than the RPO target of " + duration_words(a->rpo_target_seconds));
    }
    if (a->failing && (!a->last_archived || now - *a->last_archived > minutes(15))) {
      fire(L::critical, "PgBackupWalArchivingFailing",
           a->last_archived ? "WAL archiving is failing; the last segment was archived " +
                                  duration_words(seconds_since(*a->last_archived)) + " ago"
                            : "WAL archiving is failing and no segment was ever archived");
    }
    if (a->wal_gaps > 0) {
      fire(L::critical, "PgBackupWalGap",
           std::to_string(a->wal_gaps) + " WAL segment(s) missing inside the recovery window");
    }
    if (a->stanza_status != 0) {
      fire(L::critical, "PgBackupStanzaUnhealthy",
           "pgBackRest reports the stanza as " + a->stanza_message + " (status " +
               std::to_string(a->stanza_status) + ")");
    }
  }
  if (s.verify_ran && s.verify_failed && (s.verify_invalid_files > 0 || s.verify_last_success)) {
    fire(L::warning, "PgBackupVerifyFailed", "the last verify run failed: " + s.verify_error);
  }
  const auto overdue = hours(48);
  if ((s.archive || s.verify_last_success) && s.recovery_window_start &&
      now - *s.recovery_window_start > overdue &&
      (!s.verify_last_success || now - *s.verify_last_success > overdue)) {
    fire(L::warning, "PgBackupVerifyOverdue",
         s.verify_last_success ? "no verify run has passed for " +
                                     duration_words(seconds_since(*s.verify_last_success))
                               : "no verify run has passed yet");
  }
}

Health assess_health(const HealthSignals& s, SysTime now) {
  Health h;
  auto fire = [&](HealthLevel level, const char* alert, std::string reason) {
    h.findings.push_back({level, alert, std::move(reason)});
    h.level = std::max(h.level, level);
  };
  using L = HealthLevel;

  // pgbackup-backups
  if (!s.last_good_backup) {
    fire(L::critical, "PgBackupTooOld", "no good backup yet");
  } else {
    const double age = std::chrono::duration<double>(now - *s.last_good_backup).count();
    if (age > std::max(1.1 * s.schedule_interval_seconds, 26.0 * 3600)) {
      fire(L::critical, "PgBackupTooOld",
           "the newest good backup is " + duration_words(age) + " old");
    }
  }
  if (s.last_backup_failed) {
    fire(L::warning, "PgBackupFailed", "the last backup failed: " + s.last_backup_error);
  }
  if (s.last_good_backup && s.size_anomaly) {
    fire(L::warning, "PgBackupSizeAnomaly", "size anomaly: " + s.size_anomaly_reason);
  }
  if (s.last_good_backup && !s.shrunk_tables.empty()) {
    fire(L::critical, "PgBackupTablesShrunk",
         std::to_string(s.shrunk_tables.size()) +
             " table(s) lost rows since the previous backup: " + join(s.shrunk_tables, ", "));
  }
  if (s.last_good_backup && s.dropped_schema_objects > 0) {
    fire(L::warning, "PgBackupSchemaObjectsDropped",
         std::to_string(s.dropped_schema_objects) +
             " schema object(s) dropped since the previous backup");
  }

  // pgbackup-repository
  if (s.repository_size_bytes > 0) {
    const double free = double(s.repository_avail_bytes) / double(s.repository_size_bytes);
    if (free < 0.05) {
      fire(L::critical, "PgBackupRepositorySpaceLow", "only " + percent(free) + " free space");
    } else if (free < 0.20) {
      fire(L::warning, "PgBackupRepositorySpaceLow", "only " + percent(free) + " free space");
    }
    const auto in_4h = predict_linear(s.space, now, hours(6), hours(4));
    const auto in_24h = predict_linear(s.space, now, hours(24), hours(24));
    if (free < 0.20 && in_4h && *in_4h < 0) {
      fire(L::critical, "PgBackupRepositoryFillingUp",
           percent(free) + " free and predicted to be full within 4 hours");
    } else if (free < 0.40 && in_24h && *in_24h < 0) {
      fire(L::warning, "PgBackupRepositoryFillingUp",
           percent(free) + " free and predicted to be full within 24 hours");
    }
  }

  // pgbackup-restore-tests
  if (s.last_restore_test_failed) {
    fire(L::warning, "PgBackupRestoreTestFailed",
         "the last restore test failed: " + s.last_restore_test_error);
  }
  if (s.restore_test_interval_seconds > 0) {
    const double since =
        s.last_restore_test_success
            ? std::chrono::duration<double>(now - *s.last_restore_test_success).count()
            : to_unix_seconds(now);
    if (since > 1.5 * s.restore_test_interval_seconds) {
      fire(L::warning, "PgBackupRestoreTestOverdue",
           s.last_restore_test_success ? "no restore test has passed for " + duration_words(since)
                                       : "no restore test has passed yet");
    }
  }
  if (s.rto_target_seconds > 0 && s.last_restore_test_seconds > s.rto_target_seconds) {
    fire(L::warning, "PgBackupRestoreTooSlow",
         "the last restore test took " + duration_words(s.last_restore_test_seconds) +
             ", more than the RTO target of " + duration_words(s.rto_target_seconds));
  }

  judge_archive(s, now, fire);

  // pgbackup-offsite
  if (s.offsite_last_upload_failed) {
    fire(L::warning, "PgBackupOffsiteFailing",
         "the last off-site upload failed: " + s.offsite_error);
  } else if (s.offsite_oldest_pending && now - *s.offsite_oldest_pending > hours(6)) {
    fire(
        L::warning, "PgBackupOffsiteFailing",
        "a backup has waited " +
            duration_words(std::chrono::duration<double>(now - *s.offsite_oldest_pending).count()) +
            " to be copied off-site");
  }

  // pgbackup-agent
  if (s.database_up && !*s.database_up) {
    fire(L::critical, "PgBackupDatabaseDown", "the agent cannot connect to the database");
  }

  std::stable_sort(
      h.findings.begin(), h.findings.end(),
      [](const HealthFinding& a, const HealthFinding& b) { return a.level > b.level; });
  return h;
}

}  // namespace pgbackup
