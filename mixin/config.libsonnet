// The knobs of the pgbackup-agent mixin. Override them when importing the mixin, e.g.
//   (import 'pgbackup-agent/mixin/mixin.libsonnet') + { _config+:: { pgbackupSelector: 'job="backups"' } }
{
  _config+:: {
    // Selects the agent's scrape job in every alert and in the dashboard's job variable.
    pgbackupSelector: 'job="pgbackup"',

    // PgBackupTooOld: the newest good backup is older than the larger of backupMaxAgeHours and
    // backupStaleFactor x the schedule's interval (the seed's 26-hour health check).
    backupMaxAgeHours: 26,
    backupStaleFactor: 1.1,

    // PgBackupRepositorySpaceLow: free space of backup.dir under these percentages.
    spaceWarningPercent: 20,
    spaceCriticalPercent: 5,

    // PgBackupRepositoryFillingUp: predicted full within a day (warning) or 4 h (critical),
    // and only when the free space is already under these percentages.
    fillingUpWarningPercent: 40,
    fillingUpCriticalPercent: 20,

    // PgBackupRestoreTestOverdue: no passed restore test within this many schedule intervals.
    restoreTestOverdueFactor: 1.5,

    // PgBackupWalArchivingFailing: archive failures keep coming and nothing was archived for
    // this many minutes.
    walArchiveStuckMinutes: 15,

    // PgBackupVerifyOverdue: no passed verify run for this many hours (2 days: a daily
    // verify.schedule may miss one run).
    verifyOverdueHours: 48,

    // PgBackupOffsiteFailing: copies pending for this many hours.
    offsitePendingHours: 6,

    runbookUrl: 'https://github.com/pgbackup-agent/pgbackup-agent/blob/main/docs/runbooks.md',
    dashboardUid: 'pgbackup-overview',
  },
}
