// pgbackup_backup_*: the newest good backup, the last attempt and the schedule.
#include <algorithm>

#include "collectors/collector.h"

namespace pgbackup {
namespace {

using prometheus::MetricType;

// A fact of the newest good backup, or 0 when there is none.
double newest_entry(const TargetStatus& t, const std::function<double(const CatalogEntry&)>& fact) {
  const CatalogEntry* b = t.newest_good();
  return b ? fact(*b) : 0;
}

// A field of the newest good backup's record, or 0 when there is none.
double newest(const TargetStatus& t, const std::function<double(const Manifest&)>& field) {
  return newest_entry(t, [&](const CatalogEntry& b) { return field(*b.manifest); });
}

// Finish time of the newest good backup of each type, 0 for a type with none (every type of
// every target, so the series exist from start-up; a pg_dump target only ever has full ones).
prometheus::MetricFamily type_last_success(const ScrapeInput& in) {
  FamilyBuilder family("pgbackup_backup_type_last_success_timestamp_seconds",
                       "Finish time of the newest good backup of this type (0: none).",
                       MetricType::Gauge);
  for (const TargetStatus& t : in.targets) {
    for (const BackupType type : {BackupType::full, BackupType::diff, BackupType::incr}) {
      double newest = 0;
      for (const CatalogEntry* b : t.good()) {
        if (b->type == type) newest = std::max(newest, to_unix_seconds(b->finished_at()));
      }
      family.add(newest, {{"target", t.name}, {"type", backup_type_name(type)}});
    }
  }
  return family.build();
}

class BackupsCollector : public Collector {
 public:
  std::string name() const override { return "backups"; }

  void collect(const ScrapeInput& in, std::vector<prometheus::MetricFamily>& out) const override {
    add_per_target(out, in, "pgbackup_backup_last_success_timestamp_seconds",
                   "Finish time of the newest good backup (0: none).", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     return newest_entry(
                         t, [](const CatalogEntry& b) { return to_unix_seconds(b.finished_at()); });
                   });
    add_per_target(out, in, "pgbackup_backup_last_attempt_timestamp_seconds",
                   "Finish time of the last backup attempt, whatever its outcome (0: none).",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return t.state.backup ? to_unix_seconds(t.state.backup->finished_at) : 0;
                   });
    add_per_target(out, in, "pgbackup_backup_last_run_success",
                   "1 if the last backup attempt succeeded.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     if (t.state.backup) return t.state.backup->success ? 1.0 : 0.0;
                     return t.newest_good() ? 1.0 : 0.0;
                   });
    add_per_target(out, in, "pgbackup_backup_last_duration_seconds",
                   "Duration of the last backup attempt.", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     if (!t.state.backup) return 0.0;
                     return std::chrono::duration<double>(t.state.backup->finished_at -
                                                          t.state.backup->started_at)
                         .count();
                   });
    add_per_target(out, in, "pgbackup_backup_last_size_bytes", "Size of the newest good backup.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest_entry(
                         t, [](const CatalogEntry& b) { return double(b.size_bytes()); });
                   });
    add_per_target(out, in, "pgbackup_backup_last_restore_set_bytes",
                   "Repository bytes a restore of the newest good backup reads (with the backups "
                   "it builds on).",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest_entry(
                         t, [](const CatalogEntry& b) { return double(b.restore_set_bytes()); });
                   });
    out.push_back(type_last_success(in));
    add_per_target(out, in, "pgbackup_backup_size_baseline_bytes",
                   "Median size of the good backups before the newest (its anomaly baseline).",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest(t, [](const Manifest& m) { return m.size_baseline_bytes; });
                   });
    add_per_target(out, in, "pgbackup_backup_size_anomaly",
                   "1 if the newest good backup's size is outside the anomaly ratios or under "
                   "min_size.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest(t, [](const Manifest& m) { return m.size_anomaly ? 1.0 : 0.0; });
                   });
    add_per_target(out, in, "pgbackup_backup_encrypted",
                   "1 if the newest good backup is encrypted (age for pg_dump targets, the "
                   "repository's cipher for pgBackRest).",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest_entry(
                         t, [](const CatalogEntry& b) { return b.encrypted() ? 1.0 : 0.0; });
                   });
    add_per_target(out, in, "pgbackup_backup_shrunk_tables",
                   "Tables that lost more than table_drop_ratio of their rows since the previous "
                   "good backup.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest(
                         t, [](const Manifest& m) { return double(m.shrunk_tables.size()); });
                   });
    add_per_target(out, in, "pgbackup_backup_schema_changes",
                   "Schema objects (tables, columns, constraints, indexes, views, functions, "
                   "sequences, extensions, hypertables) added, dropped or altered in the newest "
                   "good backup since the good backup before it.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest(
                         t, [](const Manifest& m) { return double(m.schema_changes.size()); });
                   });
    add_per_target(out, in, "pgbackup_backup_schema_dropped_objects",
                   "Schema objects dropped in the newest good backup since the good backup "
                   "before it.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest(t, [](const Manifest& m) {
                       return double(count_changes(m.schema_changes).dropped);
                     });
                   });
    add_per_target(out, in, "pgbackup_backup_rows", "Rows in the newest good backup.",
                   MetricType::Gauge, [](const TargetStatus& t) {
                     return newest(t, [](const Manifest& m) { return double(m.total_rows()); });
                   });
    add_per_target(out, in, "pgbackup_backup_in_progress", "1 while a backup runs.",
                   MetricType::Gauge,
                   [](const TargetStatus& t) { return t.backup_in_progress() ? 1.0 : 0.0; });
    add_per_target(out, in, "pgbackup_backup_schedule_interval_seconds",
                   "Expected interval between backups, from the cron schedule.", MetricType::Gauge,
                   [](const TargetStatus& t) { return t.schedule_interval_seconds; });
    add_per_target(out, in, "pgbackup_backup_next_run_timestamp_seconds",
                   "When the next backup is due (0: not scheduled).", MetricType::Gauge,
                   [](const TargetStatus& t) {
                     return t.runtime.next_backup ? to_unix_seconds(*t.runtime.next_backup) : 0;
                   });
    add_per_target(out, in, "pgbackup_backups_total", "Backup attempts by this process.",
                   MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.backups_total; });
    add_per_target(out, in, "pgbackup_backup_failures_total",
                   "Failed backup attempts by this process.", MetricType::Counter,
                   [](const TargetStatus& t) { return t.runtime.backup_failures_total; });
  }
};

}  // namespace

std::unique_ptr<Collector> make_backups_collector() { return std::make_unique<BackupsCollector>(); }

}  // namespace pgbackup
