// Alerting rules for pgbackup-agent (metrics: DESIGN.md §9; runbooks: docs/runbooks.md).
//
// One alert per failure mode. severity=critical pages someone now; severity=warning opens a
// ticket. Every target metric carries `target` plus the scrape's `job` and `instance`, so joins
// use `on (job, instance, target)`. The selector and the thresholds come from _config.
local alert(c, name, severity, wait, expr, summary, description) = {
  alert: name,
  expr: expr % c,
  'for': wait,
  labels: { severity: severity },
  annotations: {
    summary: summary,
    description: description,
    runbook_url: '%s#%s' % [c.runbookUrl, std.asciiLower(name)],
  },
};

{
  prometheusAlerts+:: {
    local c = $._config,
    groups+: [
      {
        name: 'pgbackup-backups',
        rules: [
          // The seed's health check: no good backup for 26 h, or 1.1 x the schedule's interval
          // when that is longer (26 h 24 m for a daily schedule, 7.7 d for a weekly one, so a
          // weekly target is not stale after a day). A target that never had a good backup
          // (timestamp 0) fires too: it has nothing to restore from.
          alert(c, 'PgBackupTooOld', 'critical', '10m', |||
            (
                time() - pgbackup_backup_last_success_timestamp_seconds{%(pgbackupSelector)s}
              > on (job, instance, target)
                clamp_min(%(backupStaleFactor)g * pgbackup_backup_schedule_interval_seconds{%(pgbackupSelector)s}, %(backupMaxAgeHours)s * 3600)
              and on (job, instance, target)
                pgbackup_backup_last_success_timestamp_seconds{%(pgbackupSelector)s} > 0
            )
            or on (job, instance, target)
              pgbackup_backup_last_success_timestamp_seconds{%(pgbackupSelector)s} == 0
          |||, 'No recent good backup.',
                '{{ if eq $value 0.0 }}Target {{ $labels.target }} on {{ $labels.instance }} has never had a good backup.{{ else }}The newest good backup of target {{ $labels.target }} on {{ $labels.instance }} is {{ $value | humanizeDuration }} old.{{ end }}'),

          alert(c, 'PgBackupFailed', 'warning', '5m', |||
            pgbackup_backup_last_run_success{%(pgbackupSelector)s} == 0
            and on (job, instance, target)
              pgbackup_backup_last_attempt_timestamp_seconds{%(pgbackupSelector)s} > 0
          |||, 'The last backup failed.',
                'The last backup of target {{ $labels.target }} on {{ $labels.instance }} failed.'),

          // The agent decides with the target's `anomaly` settings (size ratios against the
          // median of the previous good backups, min_size); the alert only reports its verdict.
          alert(c, 'PgBackupSizeAnomaly', 'warning', '5m', |||
            pgbackup_backup_size_anomaly{%(pgbackupSelector)s} == 1
          |||, "The newest backup's size is anomalous (too small may mean incomplete).",
                "The newest backup of target {{ $labels.target }} on {{ $labels.instance }} is {{ with printf \"pgbackup_backup_last_size_bytes{job='%s',instance='%s',target='%s'}\" $labels.job $labels.instance $labels.target | query }}{{ . | first | value | humanize1024 }}B{{ end }} against a baseline of {{ with printf \"pgbackup_backup_size_baseline_bytes{job='%s',instance='%s',target='%s'}\" $labels.job $labels.instance $labels.target | query }}{{ . | first | value | humanize1024 }}B{{ end }}."),

          // Possible accidental deletion (the seed's disaster scenario 2): tables that lost
          // more than `anomaly.table_drop_ratio` of their rows since the previous good backup.
          alert(c, 'PgBackupTablesShrunk', 'critical', '5m', |||
            pgbackup_backup_shrunk_tables{%(pgbackupSelector)s} > 0
          |||, 'Tables lost many rows since the previous backup (possible accidental deletion).',
                '{{ $value }} table(s) of target {{ $labels.target }} on {{ $labels.instance }} lost more than the configured share of their rows since the previous good backup.'),

          // Schema drift (issue 16): the newest backup's schema lost tables, columns,
          // constraints, indexes, views, functions, sequences or extensions since the backup
          // before it. An intended migration does this too, hence a warning.
          alert(c, 'PgBackupSchemaObjectsDropped', 'warning', '5m', |||
            pgbackup_backup_schema_dropped_objects{%(pgbackupSelector)s} > 0
          |||, 'Schema objects were dropped since the previous backup (intended migration?).',
                '{{ $value }} schema object(s) of target {{ $labels.target }} on {{ $labels.instance }} were dropped since the previous good backup; `pgbackup-agent diff --target {{ $labels.target }}` names them.'),
        ],
      },
      {
        name: 'pgbackup-repository',
        local free = |||
          pgbackup_repository_avail_bytes{%(pgbackupSelector)s}
            / on (job, instance, target) pgbackup_repository_size_bytes{%(pgbackupSelector)s} * 100
        |||,
        local spaceLow(severity, percent) =
          alert(c, 'PgBackupRepositorySpaceLow', severity, '15m', free + '< %d\n' % percent,
                'The backup repository has less than %d %% free space.' % percent,
                'The backup directory of target {{ $labels.target }} on {{ $labels.instance }} has only {{ $value | printf "%.1f" }} % free space left.'),
        // node-mixin's NodeFilesystemSpaceFillingUp: warn when the trend says full within 24 h,
        // page when full within 4 h. Backups land in daily bursts, so the 24 h forecast looks
        // at a whole day; both also need the space to be already lowish to avoid noise.
        local fillingUp(severity, percent, range, hours) =
          alert(c, 'PgBackupRepositoryFillingUp', severity, '1h', |||
            (
                pgbackup_repository_avail_bytes{%(pgbackupSelector)s}
                  / on (job, instance, target) pgbackup_repository_size_bytes{%(pgbackupSelector)s} * 100
              < %(percent)d
            )
            and on (job, instance, target)
              predict_linear(pgbackup_repository_avail_bytes{%(pgbackupSelector)s}[%(range)s], %(hours)d * 3600) < 0
          ||| % (c { percent: percent, range: range, hours: hours }),
                'The backup repository is predicted to run out of space within %d hours.' % hours,
                'The backup directory of target {{ $labels.target }} on {{ $labels.instance }} has {{ $value | printf "%%.1f" }} %% free space left and is filling up fast enough to be full within %d hours.' % hours),
        rules: [
          // The seed: "Backup directory disk space < 20% free". Critical below 5 %: the next
          // dump will probably not fit. Alertmanager inhibits the warning while the critical
          // one fires.
          spaceLow('warning', c.spaceWarningPercent),
          spaceLow('critical', c.spaceCriticalPercent),
          fillingUp('warning', c.fillingUpWarningPercent, '1d', 24),
          fillingUp('critical', c.fillingUpCriticalPercent, '6h', 4),
        ],
      },
      {
        name: 'pgbackup-restore-tests',
        rules: [
          alert(c, 'PgBackupRestoreTestFailed', 'warning', '5m', |||
            pgbackup_restore_test_last_run_success{%(pgbackupSelector)s} == 0
            and on (job, instance, target)
              pgbackup_restore_test_last_attempt_timestamp_seconds{%(pgbackupSelector)s} > 0
          |||, 'The last restore test failed.',
                'The last restore test of target {{ $labels.target }} on {{ $labels.instance }} failed: a backup could not be restored or did not match its manifest.'),

          // Only for targets with a restore_test schedule (interval > 0). A target whose
          // restore test never succeeded (timestamp 0) is overdue too.
          alert(c, 'PgBackupRestoreTestOverdue', 'warning', '30m', |||
            (
                time() - pgbackup_restore_test_last_success_timestamp_seconds{%(pgbackupSelector)s}
              > on (job, instance, target)
                %(restoreTestOverdueFactor)g * pgbackup_restore_test_schedule_interval_seconds{%(pgbackupSelector)s}
            )
            and on (job, instance, target)
              pgbackup_restore_test_schedule_interval_seconds{%(pgbackupSelector)s} > 0
          |||, 'No successful restore test within %g scheduled intervals.' % c.restoreTestOverdueFactor,
                'Target {{ $labels.target }} on {{ $labels.instance }} has not passed a restore test for {{ $value | humanizeDuration }}.'),

          alert(c, 'PgBackupRestoreTooSlow', 'warning', '5m', |||
            (
                pgbackup_restore_test_last_duration_seconds{%(pgbackupSelector)s}
              > on (job, instance, target)
                pgbackup_restore_test_rto_target_seconds{%(pgbackupSelector)s}
            )
            and on (job, instance, target)
              pgbackup_restore_test_rto_target_seconds{%(pgbackupSelector)s} > 0
          |||, 'The last restore test took longer than the RTO target.',
                "The last restore test of target {{ $labels.target }} on {{ $labels.instance }} took {{ $value | humanizeDuration }}, more than its RTO target of {{ with printf \"pgbackup_restore_test_rto_target_seconds{job='%s',instance='%s',target='%s'}\" $labels.job $labels.instance $labels.target | query }}{{ . | first | value | humanizeDuration }}{{ end }}."),
        ],
      },
      {
        // DESIGN §11: targets whose engine keeps a WAL archive (pgBackRest). The archive's
        // series exist only for those targets, so these rules need no engine label.
        name: 'pgbackup-archive',
        rules: [
          // The exposure is the agent's estimate (docs/monitoring.md): +Inf when no archived
          // segment dates it, which fires too. Only for targets with an rpo_target.
          alert(c, 'PgBackupRpoExceeded', 'critical', '5m', |||
            (
                pgbackup_rpo_exposure_seconds{%(pgbackupSelector)s}
              > on (job, instance, target)
                pgbackup_rpo_target_seconds{%(pgbackupSelector)s}
            )
            and on (job, instance, target)
              pgbackup_rpo_target_seconds{%(pgbackupSelector)s} > 0
          |||, 'Changes older than the RPO target are not in the backup repository yet.',
                "Target {{ $labels.target }} on {{ $labels.instance }} may lose {{ $value | humanizeDuration }} of changes, more than its RPO target of {{ with printf \"pgbackup_rpo_target_seconds{job='%s',instance='%s',target='%s'}\" $labels.job $labels.instance $labels.target | query }}{{ . | first | value | humanizeDuration }}{{ end }}."),

          // PostgreSQL retries a failed segment about every minute: failures that keep coming
          // while nothing has been archived for walArchiveStuckMinutes. A single failure that
          // the next try fixes stays quiet; a target that never archived (timestamp 0) fires.
          alert(c, 'PgBackupWalArchivingFailing', 'critical', '10m', |||
            increase(pgbackup_wal_archive_failures_total{%(pgbackupSelector)s}[%(walArchiveStuckMinutes)dm]) > 0
            and on (job, instance, target)
              time() - pgbackup_wal_archive_last_success_timestamp_seconds{%(pgbackupSelector)s} > %(walArchiveStuckMinutes)d * 60
          |||, 'WAL archiving is failing: new changes are not reaching the backup repository.',
                'archive_command of target {{ $labels.target }} on {{ $labels.instance }} keeps failing ({{ $value | printf "%%.0f" }} failure(s) in %d minutes) and no WAL segment has been archived since.' % c.walArchiveStuckMinutes),

          alert(c, 'PgBackupWalGap', 'critical', '5m', |||
            pgbackup_wal_archive_gaps{%(pgbackupSelector)s} > 0
          |||, 'WAL segments are missing from the repository: point-in-time recovery across them is impossible.',
                '{{ $value }} WAL segment(s) of target {{ $labels.target }} on {{ $labels.instance }} are missing inside the recovery window; backups before the gap cannot be rolled forward past it.'),

          // A failed run: it found invalid files, or it failed where an earlier one passed.
          // (A first-ever run that fails without naming files shows as PgBackupVerifyOverdue.)
          alert(c, 'PgBackupVerifyFailed', 'warning', '5m', |||
            pgbackup_verify_last_run_success{%(pgbackupSelector)s} == 0
            and on (job, instance, target)
              (
                   pgbackup_verify_last_invalid_files{%(pgbackupSelector)s} > 0
                or pgbackup_verify_last_success_timestamp_seconds{%(pgbackupSelector)s} > 0
              )
          |||, 'The last verify run of the backup repository failed.',
                'The last verify run of target {{ $labels.target }} on {{ $labels.instance }} failed{{ with printf "pgbackup_verify_last_invalid_files{job=\'%s\',instance=\'%s\',target=\'%s\'}" $labels.job $labels.instance $labels.target | query }}{{ if gt (. | first | value) 0.0 }}: {{ . | first | value }} invalid file(s){{ end }}{{ end }}.'),

          // For targets with a WAL archive, or that ever passed a verify run; and only once the
          // oldest backup is older than the threshold (a new target is not overdue at once).
          alert(c, 'PgBackupVerifyOverdue', 'warning', '1h', |||
            time() - pgbackup_verify_last_success_timestamp_seconds{%(pgbackupSelector)s} > %(verifyOverdueHours)d * 3600
            and on (job, instance, target)
              time() - pgbackup_recovery_window_start_timestamp_seconds{%(pgbackupSelector)s} > %(verifyOverdueHours)d * 3600
            and on (job, instance, target)
              pgbackup_recovery_window_start_timestamp_seconds{%(pgbackupSelector)s} > 0
            and on (job, instance, target)
              (
                   pgbackup_pgbackrest_stanza_status{%(pgbackupSelector)s}
                or pgbackup_verify_last_success_timestamp_seconds{%(pgbackupSelector)s} > 0
              )
          |||, 'No verify run has passed for %d hours.' % c.verifyOverdueHours,
                '{{ if gt $value 1e9 }}Target {{ $labels.target }} on {{ $labels.instance }} has never passed a verify run.{{ else }}The last passed verify run of target {{ $labels.target }} on {{ $labels.instance }} is {{ $value | humanizeDuration }} old.{{ end }}'),

          alert(c, 'PgBackupStanzaUnhealthy', 'critical', '5m', |||
            pgbackup_pgbackrest_stanza_status{%(pgbackupSelector)s} != 0
          |||, "pgBackRest reports the stanza as unhealthy.",
                'pgBackRest reports status code {{ $value }} for the stanza of target {{ $labels.target }} on {{ $labels.instance }} (`pgbackrest info` says why); backups and archiving may be failing.'),
        ],
      },
      {
        name: 'pgbackup-offsite',
        rules: [
          // Two sides of one failure mode, in one rule (promtool rejects two rules with the
          // same name and labels):
          // - the last upload run failed. There is no off-site attempt timestamp: an attempt
          //   happened if an upload was tried since the agent started (counters reset on
          //   restart) or one ever succeeded; this keeps targets without `offsite` quiet;
          // - copies have been pending for 6 h (pending is normal for a while after each
          //   backup). The `offset` term needs 6 h of history, so a just-started agent is not
          //   judged on minutes of data.
          alert(c, 'PgBackupOffsiteFailing', 'warning', '30m', |||
            (
                pgbackup_offsite_last_run_success{%(pgbackupSelector)s} == 0
              and on (job, instance, target)
                (
                     pgbackup_offsite_uploads_total{%(pgbackupSelector)s} > 0
                  or pgbackup_offsite_last_success_timestamp_seconds{%(pgbackupSelector)s} > 0
                )
            )
            or on (job, instance, target)
            (
                min_over_time(pgbackup_offsite_pending_backups{%(pgbackupSelector)s}[%(offsitePendingHours)dh]) > 0
              and on (job, instance, target)
                pgbackup_offsite_pending_backups{%(pgbackupSelector)s} offset %(offsitePendingHours)dh > 0
            )
          |||, 'Backups are not being copied off-site.',
                '{{ if eq $value 0.0 }}The last off-site upload of target {{ $labels.target }} on {{ $labels.instance }} failed.{{ else }}{{ $value }} backup(s) of target {{ $labels.target }} on {{ $labels.instance }} have been waiting more than %d hours to be copied off-site.{{ end }}' % c.offsitePendingHours),
        ],
      },
      {
        name: 'pgbackup-agent',
        rules: [
          alert(c, 'PgBackupAgentDown', 'critical', '5m', |||
            up{%(pgbackupSelector)s} == 0 or absent(up{%(pgbackupSelector)s})
          |||, 'The pgbackup agent is down or not scraped; backups are not monitored.',
                '{{ with $labels.instance }}Prometheus cannot scrape the pgbackup agent on {{ . }}.{{ else }}Prometheus has no pgbackup agent to scrape (job {{ $labels.job }}).{{ end }} No backups are being monitored there.'),

          // The probe is cached and refreshed by the agent, so a short `for` is enough.
          alert(c, 'PgBackupDatabaseDown', 'critical', '5m', |||
            pgbackup_database_up{%(pgbackupSelector)s} == 0
          |||, 'The agent cannot connect to the database it backs up.',
                'The pgbackup agent on {{ $labels.instance }} cannot connect to the database of target {{ $labels.target }}.'),

          alert(c, 'PgBackupCollectorFailing', 'warning', '15m', |||
            pgbackup_collector_success{%(pgbackupSelector)s} == 0
          |||, 'A metrics collector of the agent is failing; some metrics are missing or stale.',
                'Collector {{ $labels.collector }} of the pgbackup agent on {{ $labels.instance }} {{ with $labels.target }}(target {{ . }}) {{ end }}is failing.'),
        ],
      },
    ],
  },
}
