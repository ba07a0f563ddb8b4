// The Grafana dashboard "pgbackup / Overview" (uid pgbackup-overview): datasource, job,
// instance and target variables; one row per concern. Thresholds drawn on the panels come
// from _config, so they match the alerts.
local ds = { type: 'prometheus', uid: '${datasource}' };
// Every query selects through the dashboard's variables.
local vars = {
  t: 'job=~"$job", instance=~"$instance", target=~"$target"',
  a: 'job=~"$job", instance=~"$instance"',
};
local refId(i) = std.char(std.codepoint('A') + i);
local grid(x, y, w, h) = { h: h, w: w, x: x, y: y };

// Queries: a time series with a legend, or an instant value for tables and stats.
local series(exprs) = [
  { datasource: ds, expr: exprs[i][0] % vars, refId: refId(i), legendFormat: exprs[i][1], range: true }
  for i in std.range(0, std.length(exprs) - 1)
];
local instant(exprs) = [
  { datasource: ds, expr: exprs[i] % vars, refId: refId(i), instant: true, range: false, format: 'table' }
  for i in std.range(0, std.length(exprs) - 1)
];

local row(id, title, y) = {
  type: 'row', title: title, id: id, collapsed: false, gridPos: grid(0, y, 24, 1), panels: [],
};

local panel(type, id, title, description, gridPos, targets) = {
  type: type,
  title: title,
  description: description,
  id: id,
  datasource: ds,
  gridPos: gridPos,
  targets: targets,
};

// Overrides of series picked by a legend regex.
local dashed(regex) = {
  matcher: { id: 'byRegexp', options: regex },
  properties: [
    { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
    { id: 'custom.fillOpacity', value: 0 },
  ],
};
local barsOnRight(regex) = {
  matcher: { id: 'byRegexp', options: regex },
  properties: [
    { id: 'custom.axisPlacement', value: 'right' },
    { id: 'unit', value: 'short' },
    { id: 'custom.drawStyle', value: 'bars' },
  ],
};

local timeseries(id, title, description, gridPos, unit, targets,
                 overrides=[], custom={}, defaults={ min: 0 }) =
  panel('timeseries', id, title, description, gridPos, targets) {
    fieldConfig: {
      defaults: {
        unit: unit,
        custom: {
          drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false,
        } + custom,
      } + defaults,
      overrides: overrides,
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull'], showLegend: true },
      tooltip: { mode: 'multi', sort: 'none' },
    },
  };

local thresholds(steps) = {
  mode: 'absolute',
  steps: [{ color: s[0], value: s[1] } for s in steps],
};

local stat(id, title, description, gridPos, unit, targets, steps) =
  panel('stat', id, title, description, gridPos, targets) {
    fieldConfig: {
      defaults: { unit: unit, mappings: [], thresholds: thresholds(steps) },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'background',
      graphMode: 'none',
      textMode: 'auto',
      orientation: 'auto',
      justifyMode: 'auto',
    },
  };

// Table columns: the instant query `ref` shown as `name`, with more properties.
local column(ref, name, properties=[]) = {
  matcher: { id: 'byName', options: 'Value #' + ref },
  properties: [{ id: 'displayName', value: name }] + properties,
};
local unit(u) = { id: 'unit', value: u };
local colored = { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } };
local mapping(zero, one) = {
  id: 'mappings',
  value: [{
    type: 'value',
    options: {
      '0': { text: zero[0], color: zero[1], index: 0 },
      '1': { text: one[0], color: one[1], index: 1 },
    },
  }],
};
local okFailed = [mapping(['FAILED', 'red'], ['OK', 'green']), colored];

local table(id, title, description, gridPos, targets, overrides=[], hidden={}) =
  panel('table', id, title, description, gridPos, targets) {
    transformations: [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true, job: true, __name__: true } + hidden,
          indexByName: {},
          renameByName: {},
        },
      },
    ],
    fieldConfig: {
      defaults: { unit: 'none', custom: { align: 'auto' }, thresholds: thresholds([['green', null]]) },
      overrides: overrides,
    },
    options: {
      showHeader: true,
      footer: { show: false },
      sortBy: [{ displayName: 'target', desc: false }],
    },
  };

local variable(name, label, query, all) = {
  name: name,
  label: label,
  type: 'query',
  datasource: ds,
  definition: query,
  query: { query: query, refId: name + '-query' },
  refresh: 2,
  sort: 1,
  includeAll: all,
  multi: all,
  current: {},
  options: [],
  hide: 0,
  regex: '',
} + (if all then { allValue: '.*' } else {});

local age(metric) =
  '(time() - %(metric)s{%%(t)s}) and on (job, instance, target) %(metric)s{%%(t)s} > 0' % { metric: metric };

{
  grafanaDashboards+:: {
    local c = $._config,
    local staleAfter = 'clamp_min(%g * pgbackup_backup_schedule_interval_seconds{%%(t)s}, %d * 3600)'
                       % [c.backupStaleFactor, c.backupMaxAgeHours],

    'pgbackup-overview.json': {
      uid: c.dashboardUid,
      title: 'pgbackup / Overview',
      description: 'PostgreSQL backups taken by pgbackup-agent: freshness, size, retention, repository space, restore tests and off-site copies.',
      tags: ['pgbackup', 'postgresql', 'backup'],
      timezone: 'utc',
      editable: true,
      graphTooltip: 1,
      refresh: '1m',
      schemaVersion: 38,
      version: 1,
      time: { from: 'now-7d', to: 'now' },
      timepicker: {},
      fiscalYearStartMonth: 0,
      liveNow: false,
      id: null,
      links: [{ title: 'Runbooks', type: 'link', icon: 'doc', targetBlank: true, url: c.runbookUrl }],
      annotations: {
        list: [{
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        }],
      },
      templating: {
        list: [
          {
            name: 'datasource',
            label: 'Data source',
            type: 'datasource',
            query: 'prometheus',
            current: {},
            hide: 0,
            includeAll: false,
            multi: false,
            options: [],
            refresh: 1,
            regex: '',
          },
          variable('job', 'Job', 'label_values(pgbackup_backup_last_success_timestamp_seconds{%s}, job)' % c.pgbackupSelector, false),
          variable('instance', 'Instance', 'label_values(pgbackup_backup_last_success_timestamp_seconds{job=~"$job"}, instance)', true),
          variable('target', 'Target', 'label_values(pgbackup_backup_last_success_timestamp_seconds{job=~"$job", instance=~"$instance"}, target)', true),
        ],
      },
      panels: [
        row(1, 'Overview', 0),
        table(2, 'Targets', 'One row per target: age of the newest good backup, result of the last backup, its size and whether the agent flagged the size as anomalous, the last restore test\'s result and its measured RTO (restore duration) against the target, backups owed off-site, whether a backup is running now, when the next one is due the age of the oldest backup kept and whether the newest good backup is encrypted. Empty age: never backed up.',
              grid(0, 1, 24, 8), instant([
                age('pgbackup_backup_last_success_timestamp_seconds'),
                'pgbackup_backup_last_run_success{%(t)s}',
                'pgbackup_backup_last_size_bytes{%(t)s}',
                'pgbackup_backup_size_anomaly{%(t)s}',
                'pgbackup_backup_shrunk_tables{%(t)s}',
                'pgbackup_restore_test_last_run_success{%(t)s}',
                'pgbackup_restore_test_last_duration_seconds{%(t)s}',
                'pgbackup_restore_test_rto_target_seconds{%(t)s}',
                'pgbackup_offsite_pending_backups{%(t)s}',
                'pgbackup_backup_in_progress{%(t)s}',
                'pgbackup_backup_next_run_timestamp_seconds{%(t)s} - time()',
                age('pgbackup_backup_oldest_timestamp_seconds'),
                'pgbackup_backup_encrypted{%(t)s}',
              ]), [
                column('A', 'Backup age', [unit('s')]),
                column('B', 'Last backup', okFailed),
                column('C', 'Size', [unit('bytes')]),
                column('D', 'Size check', [mapping(['normal', 'green'], ['ANOMALY', 'red']), colored]),
                column('E', 'Shrunk tables', [unit('short'), colored,
                                              { id: 'thresholds', value: thresholds([['green', null], ['red', 1]]) }]),
                column('F', 'Restore test', okFailed),
                column('G', 'Measured RTO', [unit('s')]),
                column('H', 'RTO target', [unit('s')]),
                column('I', 'Pending off-site', [unit('short')]),
                column('J', 'Backup now', [mapping(['idle', 'transparent'], ['RUNNING', 'blue']), colored]),
                column('K', 'Next backup in', [unit('s')]),
                column('L', 'Oldest kept', [unit('s')]),
                column('M', 'Encrypted', [mapping(['no', 'transparent'], ['age', 'green']), colored]),
              ]),

        row(3, 'Backups', 9),
        timeseries(4, 'Backup age', 'Time since the newest good backup finished, per target. The dashed line is the PgBackupTooOld threshold: the larger of %d h and %g x the schedule interval.' % [c.backupMaxAgeHours, c.backupStaleFactor],
                   grid(0, 10, 12, 8), 's', series([
                     [age('pgbackup_backup_last_success_timestamp_seconds'), '{{target}}'],
                     [staleAfter, '{{target}} stale after'],
                   ]), [dashed('.* stale after')]),
        timeseries(5, 'Backup size vs baseline', 'Size of the newest good backup against its baseline (median of the previous anomaly.window good backups of the same type). A sudden drop may mean an incomplete backup. Restore set: what a restore of it reads, with the backups a diff or incr builds on.',
                   grid(12, 10, 12, 8), 'bytes', series([
                     ['pgbackup_backup_last_size_bytes{%(t)s}', '{{target}} size'],
                     ['pgbackup_backup_size_baseline_bytes{%(t)s}', '{{target}} baseline'],
                     ['pgbackup_database_size_bytes{%(t)s}', '{{target}} database'],
                     ['pgbackup_backup_last_restore_set_bytes{%(t)s}', '{{target}} restore set'],
                   ]), [dashed('.* baseline')]),
        timeseries(6, 'Rows and shrunk tables', "Rows in the newest good backup (exact counts from the dump's snapshot) and, as bars on the right axis, tables that lost more than anomaly.table_drop_ratio of their rows since the previous backup (possible accidental deletion).",
                   grid(0, 18, 12, 8), 'short', series([
                     ['pgbackup_backup_rows{%(t)s}', '{{target}} rows'],
                     ['pgbackup_backup_shrunk_tables{%(t)s}', '{{target}} shrunk tables'],
                   ]), [barsOnRight('.* shrunk tables')]),
        timeseries(7, 'Backups kept by tier', 'Good backups kept on local storage by tier (daily, weekly, monthly) after retention.',
                   grid(12, 18, 6, 8), 'short', series([
                     ['sum by (target, tier) (pgbackup_backups{%(t)s})', '{{target}} {{tier}}'],
                   ]), custom={ stacking: { mode: 'normal', group: 'A' } }, defaults={ min: 0, decimals: 0 }),
        timeseries(8, 'Backup duration', 'How long the last backup took (dump, checksums, pg_restore --list, row counts).',
                   grid(18, 18, 6, 8), 's', series([
                     ['pgbackup_backup_last_duration_seconds{%(t)s}', '{{target}}'],
                   ])),
        timeseries(9, 'Failures', 'Failed backups, restore tests and off-site uploads per hour (counters reset when the agent restarts; increase() accounts for that).',
                   grid(0, 26, 12, 8), 'short', series([
                     ['increase(pgbackup_backup_failures_total{%(t)s}[1h])', '{{target}} backup'],
                     ['increase(pgbackup_restore_test_failures_total{%(t)s}[1h])', '{{target}} restore test'],
                     ['increase(pgbackup_offsite_upload_failures_total{%(t)s}[1h])', '{{target}} off-site upload'],
                   ]), custom={ drawStyle: 'bars', fillOpacity: 80 }, defaults={ min: 0, decimals: 0 }),
        timeseries(23, 'Schema changes', 'Schema objects (tables, columns, constraints, indexes, views, functions, sequences, extensions, hypertables) added, dropped or altered in the newest good backup since the one before it, from the schema fingerprint each manifest records; dropped objects as bars (alert PgBackupSchemaObjectsDropped). `pgbackup-agent diff` names them.',
                   grid(12, 26, 12, 8), 'short', series([
                     ['pgbackup_backup_schema_changes{%(t)s}', '{{target}} changed'],
                     ['pgbackup_backup_schema_dropped_objects{%(t)s}', '{{target}} dropped'],
                   ]), [{
                     matcher: { id: 'byRegexp', options: '.* dropped' },
                     properties: [{ id: 'custom.drawStyle', value: 'bars' }],
                   }], defaults={ min: 0, decimals: 0 }),
        timeseries(24, 'Runs', 'Backups and restore tests started per hour, whatever their outcome (the Failures panel shows those that failed). No bars for a day: the schedule is not running.',
                   grid(0, 34, 12, 8), 'short', series([
                     ['increase(pgbackup_backups_total{%(t)s}[1h])', '{{target}} backups'],
                     ['increase(pgbackup_restore_tests_total{%(t)s}[1h])', '{{target}} restore tests'],
                   ]), custom={ drawStyle: 'bars', fillOpacity: 80 }, defaults={ min: 0, decimals: 0 }),
        timeseries(25, 'Retention', 'Backups that retention deleted per hour, and local or off-site retention runs that deleted nothing because the clock looked wrong (bars, the clock guard of docs/backups.md, step 5); the log and the audit log say why.',
                   grid(12, 34, 12, 8), 'short', series([
                     ['increase(pgbackup_retention_deleted_total{%(t)s}[1h])', '{{target}} deleted'],
                     ['increase(pgbackup_retention_refusals_total{%(t)s}[1h])', '{{target}} refused by the clock guard'],
                   ]), [barsOnRight('.* refused by the clock guard')], defaults={ min: 0, decimals: 0 }),

        row(10, 'Repository', 42),
        timeseries(11, 'Free space and forecast', "Free bytes on the file system holding backup.dir, with a linear forecast of where they will be in 24 h (from the last day's trend, as PgBackupRepositoryFillingUp does). Below zero means full within a day.",
                   grid(0, 43, 16, 8), 'bytes', series([
                     ['pgbackup_repository_avail_bytes{%(t)s}', '{{target}} free'],
                     ['predict_linear(pgbackup_repository_avail_bytes{%(t)s}[1d], 24 * 3600)', '{{target}} free in 24h (forecast)'],
                     ['pgbackup_backups_stored_bytes{%(t)s}', '{{target}} used by backups'],
                   ]), [dashed('.* forecast.*')], defaults={}),
        stat(12, 'Free space', 'Share of the backup file system that is free. PgBackupRepositorySpaceLow warns under %d %% and pages under %d %%.' % [c.spaceWarningPercent, c.spaceCriticalPercent],
             grid(16, 43, 8, 8), 'percent', series([
               ['100 * pgbackup_repository_avail_bytes{%(t)s} / on (job, instance, target) pgbackup_repository_size_bytes{%(t)s}', '{{target}}'],
             ]), [['red', null], ['orange', c.spaceCriticalPercent], ['green', c.spaceWarningPercent]]),

        row(13, 'Restore tests', 51),
        timeseries(14, 'Restore-test duration vs RTO target', 'Duration of the last automated restore test (the measured RTO) against the configured restore_test.rto_target (dashed). Above the line: PgBackupRestoreTooSlow.',
                   grid(0, 52, 12, 8), 's', series([
                     ['pgbackup_restore_test_last_duration_seconds{%(t)s}', '{{target}} measured'],
                     ['pgbackup_restore_test_rto_target_seconds{%(t)s} > 0', '{{target}} RTO target'],
                   ]), [dashed('.* RTO target')]),
        timeseries(15, 'Restore-test findings', 'Tables whose restored row count differed from the manifest and failed check queries in the last restore test. Anything above zero means the backup did not restore faithfully.',
                   grid(12, 52, 6, 8), 'short', series([
                     ['pgbackup_restore_test_last_mismatched_tables{%(t)s}', '{{target}} mismatched tables'],
                     ['pgbackup_restore_test_last_failed_checks{%(t)s}', '{{target}} failed checks'],
                   ]), defaults={ min: 0, decimals: 0 }),
        stat(16, 'Last successful restore test', 'When each target last passed a restore test (empty: never).',
             grid(18, 52, 6, 8), 'dateTimeFromNow', [
               {
                 datasource: ds,
                 expr: '1000 * (pgbackup_restore_test_last_success_timestamp_seconds{%(t)s} > 0)' % vars,
                 refId: 'A',
                 legendFormat: '{{target}}',
                 instant: true,
                 range: false,
               },
             ], [['green', null]]),

        row(29, 'WAL archive and recovery point', 60),
        timeseries(30, 'RPO exposure vs target', 'Estimated age of the oldest change not yet in the backup repository (targets with a WAL archive; docs/monitoring.md says how it is estimated) against rpo_target (dashed). Above the line: PgBackupRpoExceeded. archive_timeout bounds it while archiving is healthy.',
                   grid(0, 61, 12, 8), 's', series([
                     ['pgbackup_rpo_exposure_seconds{%(t)s}', '{{target}} exposure'],
                     ['pgbackup_rpo_target_seconds{%(t)s} > 0', '{{target}} RPO target'],
                   ]), [dashed('.* RPO target')]),
        timeseries(31, 'Recovery window', 'How far back the earliest point a restore can reach lies (window start) and how old the latest one is (window end: the newest good backup, or with a WAL archive the newest archived segment).',
                   grid(12, 61, 12, 8), 's', series([
                     [age('pgbackup_recovery_window_start_timestamp_seconds'), '{{target}} earliest point'],
                     [age('pgbackup_recovery_window_end_timestamp_seconds'), '{{target}} latest point'],
                   ]), [dashed('.* latest point')]),
        timeseries(32, 'WAL archiving', 'Time since PostgreSQL last archived a WAL segment (pg_stat_archiver; the repository when the database is down) and, as bars on the right axis, failed archive attempts per hour (PgBackupWalArchivingFailing).',
                   grid(0, 69, 12, 8), 's', series([
                     [age('pgbackup_wal_archive_last_success_timestamp_seconds'), '{{target}} since last archived'],
                     ['increase(pgbackup_wal_archive_failures_total{%(t)s}[1h])', '{{target}} failures'],
                   ]), [barsOnRight('.* failures')]),
        timeseries(33, 'Unarchived WAL and gaps', 'WAL written after the end of the last archived segment (at risk until archived) and, as bars on the right axis, segments missing from the repository inside the recovery window (PgBackupWalGap).',
                   grid(12, 69, 12, 8), 'bytes', series([
                     ['pgbackup_wal_unarchived_bytes{%(t)s}', '{{target}} unarchived'],
                     ['pgbackup_wal_archive_gaps{%(t)s}', '{{target}} missing segments'],
                   ]), [barsOnRight('.* missing segments')]),
        timeseries(34, 'Backups by type', 'Time since the newest good backup of each type (full, diff, incr) finished; a pg_dump target has full backups only.',
                   grid(0, 77, 12, 8), 's', series([
                     ['(time() - pgbackup_backup_type_last_success_timestamp_seconds{%(t)s}) and on (job, instance, target, type) pgbackup_backup_type_last_success_timestamp_seconds{%(t)s} > 0', '{{target}} {{type}}'],
                   ])),
        table(35, 'Engine, verify and stanza', "Per target: its backup engine, the newest verify run's result and the files it found invalid, the age of the last passed verify run (PgBackupVerifyFailed, PgBackupVerifyOverdue), and pgBackRest's stanza status (0 ok; PgBackupStanzaUnhealthy).",
              grid(12, 77, 12, 8), instant([
                'pgbackup_target_info{%(t)s}',
                'pgbackup_verify_last_run_success{%(t)s}',
                'pgbackup_verify_last_invalid_files{%(t)s}',
                age('pgbackup_verify_last_success_timestamp_seconds'),
                'pgbackup_pgbackrest_stanza_status{%(t)s}',
              ]), [
                column('B', 'Last verify', okFailed),
                column('C', 'Invalid files', [unit('short'), colored,
                                              { id: 'thresholds', value: thresholds([['green', null], ['red', 1]]) }]),
                column('D', 'Last passed', [unit('s')]),
                column('E', 'Stanza status', [unit('short'), colored,
                                              { id: 'thresholds', value: thresholds([['green', null], ['red', 1]]) }]),
              ], hidden={ 'Value #A': true }),

        row(17, 'Off-site', 85),
        table(18, 'Off-site state', 'Per target: result of the last upload run, backups that should be off-site but are not, and the age of the last successful upload (empty: never).',
              grid(0, 86, 10, 8), instant([
                'pgbackup_offsite_last_run_success{%(t)s}',
                'pgbackup_offsite_pending_backups{%(t)s}',
                age('pgbackup_offsite_last_success_timestamp_seconds'),
              ]), [
                column('A', 'Last upload', okFailed),
                column('B', 'Pending', [unit('short')]),
                column('C', 'Last success', [unit('s')]),
              ]),
        timeseries(19, 'Off-site uploads', 'Bytes uploaded to S3 per hour, and backups waiting to be copied off-site (bars, right axis).',
                   grid(10, 86, 14, 8), 'bytes', series([
                     ['increase(pgbackup_offsite_uploaded_bytes_total{%(t)s}[1h])', '{{target}} uploaded'],
                     ['pgbackup_offsite_pending_backups{%(t)s}', '{{target}} pending backups'],
                   ]), [barsOnRight('.* pending backups')]),
        timeseries(26, 'S3 retries by reason', 'S3 requests tried again per hour, by why the attempt before failed: network (refused, reset, cut off), timeout (no answer, or a stalled transfer), throttled (429, SlowDown) or server_error (other 5xx). A steady stream without failed uploads is a flaky link or a busy endpoint; the upload still succeeded.',
                   grid(0, 94, 24, 8), 'short', series([
                     ['sum by (target, reason) (increase(pgbackup_offsite_retries_total{%(t)s}[1h]))', '{{target}} {{reason}}'],
                   ]), custom={ drawStyle: 'bars', fillOpacity: 80, stacking: { mode: 'normal', group: 'A' } }, defaults={ min: 0, decimals: 0 }),

        row(20, 'Agent', 102),
        panel('state-timeline', 21, 'Agent, database and collectors', 'Whether Prometheus can scrape the agent (up), whether the agent can connect to each target\'s database (cached probe), and whether each metrics collector succeeds.',
              grid(0, 103, 16, 8), series([
                ['up{%(a)s}', 'scrape {{instance}}'],
                ['pgbackup_database_up{%(t)s}', 'database {{target}}'],
                ['pgbackup_collector_success{%(a)s}', 'collector {{collector}} {{target}}'],
              ])) {
          fieldConfig: {
            defaults: {
              unit: 'none',
              mappings: mapping(['DOWN', 'red'], ['UP', 'green']).value,
              color: { mode: 'thresholds' },
              thresholds: thresholds([['red', null], ['green', 1]]),
            },
            overrides: [],
          },
          options: {
            showValue: 'never',
            mergeValues: true,
            rowHeight: 0.8,
            legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
          },
        },
        table(22, 'Agent build', 'Version and revision of each pgbackup agent.',
              grid(16, 103, 8, 8), instant(['pgbackup_build_info{%(a)s}']),
              hidden={ Value: true, 'Value #A': true }),
        timeseries(27, 'Collector duration', 'How long each metrics collector took on the last scrape. Collectors read what the jobs left on disk; a slow one usually means a slow backup directory (network file system, many files).',
                   grid(0, 111, 16, 8), 's', series([
                     ['pgbackup_collector_duration_seconds{%(a)s}', '{{instance}} {{collector}}'],
                   ])),
        stat(28, 'Web config reload', 'With --web.config.file: whether the newest web config file on disk is the one serving (OK), or a changed one was refused (REFUSED: the log says why, the previous TLS and basic-auth settings still serve). No value: the agent runs without a web config file.',
             grid(16, 111, 8, 8), 'none', series([
               ['pgbackup_web_config_last_reload_successful{%(a)s}', '{{instance}}'],
             ]), [['red', null], ['green', 1]]) {
          fieldConfig+: { defaults+: { mappings: mapping(['REFUSED', 'red'], ['OK', 'green']).value } },
        },
      ],
    },
  },
}
