// pgbackup-agent's monitoring mixin: prometheusAlerts and grafanaDashboards, configured by
// _config (config.libsonnet). `mixin/generate` writes alerts/pgbackup.rules.yml and
// grafana/pgbackup-overview.json from it.
(import 'config.libsonnet') +
(import 'alerts.libsonnet') +
(import 'dashboards.libsonnet')
