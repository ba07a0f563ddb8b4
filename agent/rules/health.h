#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/timeutil.h"

namespace pgbackup {

// The status page's verdict on one target: the judgement of the bundled alert rules
// (alerts/pgbackup.rules.yml) made on the agent's own facts, so the page and Prometheus agree.
enum class HealthLevel { ok, warning, critical };
const char* health_level_name(HealthLevel level);  // "ok", "warning", "critical"

// One firing rule: its alert's name, severity and why, in words.
struct HealthFinding {
  HealthLevel level = HealthLevel::ok;
  std::string alert;   // "PgBackupTooOld"
  std::string reason;  // "no good backup yet"
};

struct Health {
  HealthLevel level = HealthLevel::ok;  // the worst finding's, ok without findings
  std::vector<HealthFinding> findings;  // critical first
};

// Free space on the backup directory's filesystem at one moment.
struct SpaceSample {
  SysTime at;
  double avail_bytes = 0;
};

// The facts the alert rules read, one field per metric (see collectors/). Times are absent
// rather than 0.
struct HealthSignals {
  // pgbackup_backup_*
  std::optional<SysTime> last_good_backup;  // finish of the newest good backup
  double schedule_interval_seconds = 0;
  bool last_backup_failed = false;
  std::string last_backup_error;
  bool size_anomaly = false;
  std::string size_anomaly_reason;
  std::vector<std::string> shrunk_tables;  // "public.orders 1200 → 3"
  std::size_t dropped_schema_objects = 0;
  // pgbackup_database_up: unset before the first probe
  std::optional<bool> database_up;
  // pgbackup_repository_*: `space` oldest first, ending with the current sample
  std::uint64_t repository_size_bytes = 0;
  std::uint64_t repository_avail_bytes = 0;
  std::vector<SpaceSample> space;
  // pgbackup_restore_test_*
  bool last_restore_test_failed = false;
  std::string last_restore_test_error;
  std::optional<SysTime> last_restore_test_success;
  double restore_test_interval_seconds = 0;  // 0: no restore tests configured
  double last_restore_test_seconds = 0;
  double rto_target_seconds = 0;
  // pgbackup_offsite_*
  bool offsite_last_upload_failed = false;
  std::string offsite_error;
  std::optional<SysTime> offsite_oldest_pending;  // the oldest backup waiting to be copied
  // pgbackup_wal_*, pgbackup_rpo_*, pgbackup_pgbackrest_stanza_status: set only for a target
  // with a WAL archive
  struct Archive {
    std::optional<double> rpo_exposure_seconds;  // unset: nothing dates it (the metric's +Inf)
    double rpo_target_seconds = 0;               // 0: no rpo_target
    bool failing = false;                        // the newest archive attempt failed
    std::optional<SysTime> last_archived;
    std::uint64_t wal_gaps = 0;
    int stanza_status = 0;
    std::string stanza_message;
  };
  std::optional<Archive> archive;
  // pgbackup_verify_*: the newest verify run, if any
  bool verify_ran = false;
  bool verify_failed = false;
  std::string verify_error;
  std::uint64_t verify_invalid_files = 0;
  std::optional<SysTime> verify_last_success;
  std::optional<SysTime> recovery_window_start;  // pgbackup_recovery_window_start_*
};

// The bundled alerts assess_health judges; the others (PgBackupAgentDown,
// PgBackupCollectorFailing) are about the agent or its scrape, which the page cannot see.
const std::vector<std::string>& judged_alerts();

// Which of the bundled alerts would fire now (their `for:` durations aside: the page shows a
// condition as soon as it holds).
Health assess_health(const HealthSignals& signals, SysTime now);

// Prometheus' predict_linear: the least-squares line through the samples within `window`
// before `now`, evaluated `horizon` after `now`. Absent with fewer than two samples there or
// when they span less than a quarter of the window (our samples are the backups', not
// regular scrapes: minutes of history would extrapolate noise).
std::optional<double> predict_linear(const std::vector<SpaceSample>& samples, SysTime now,
                                     std::chrono::seconds window, std::chrono::seconds horizon);

// When the line through the samples within `window` before `now` reaches zero free bytes;
// absent when space is not shrinking (or too few samples).
std::optional<SysTime> predict_full(const std::vector<SpaceSample>& samples, SysTime now,
                                    std::chrono::seconds window);

}  // namespace pgbackup
