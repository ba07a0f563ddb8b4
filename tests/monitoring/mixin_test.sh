#!/usr/bin/env bash
# The mixin's _config reaches what it generates: a custom job selector and thresholds appear
# in the rules and the dashboard (and the default ones do not), and the result still passes
# promtool and the dashboard lint.   tests/monitoring/mixin_test.sh PROMTOOL PYTHON3
set -euo pipefail
promtool="$1" python3="$2"
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "mixin test: $*" >&2; exit 1; }

mixin/generate --out "$out" --config \
  '{pgbackupSelector: "job=\"backups\"", spaceWarningPercent: 25, backupMaxAgeHours: 50}'
rules="$out/pgbackup.rules.yml" dashboard="$out/pgbackup-overview.json"
grep -q 'job="backups"' "$rules" || fail "the custom selector is not in the rules"
! grep -q 'job="pgbackup"' "$rules" || fail "the default selector is still in the rules"
grep -q '^          < 25$' "$rules" || fail "spaceWarningPercent 25 is not the warning threshold"
grep -q 'less than 25 % free space' "$rules" || fail "the summary does not say 25 %"
grep -q ', 50 \* 3600)' "$rules" || fail "backupMaxAgeHours 50 is not in PgBackupTooOld"
grep -q 'pgbackup_backup_last_success_timestamp_seconds{job=\\"backups\\"}, job)' "$dashboard" ||
  fail "the dashboard's job variable does not use the custom selector"
grep -q '"value": 25' "$dashboard" || fail "the free-space stat does not turn green at 25 %"
"$promtool" check rules "$rules"
"$python3" tests/monitoring/lint_dashboard.py "$dashboard" >/dev/null
echo "mixin test: custom _config reaches rules and dashboard"
