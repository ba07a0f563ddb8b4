#!/usr/bin/env python3
"""The dashboard lint's coverage rule, run for real on the committed dashboard and rules:

  1. they cover every DESIGN metric the golden expositions export (the lint passes);
  2. with one panel taken out (S3 retries by reason, Retention, Web config reload, Schema
     changes), the lint fails and names the metric only that panel showed;
  3. a metric an alert uses needs no panel: without the panel "Last successful restore test"
     the lint passes, and fails once the rules do not mention the metric either;
  4. a DESIGN metric no exposition has is not required, and is the moment one has it.

Runs tests/monitoring/lint_dashboard.py as CTest does (a child process), from the source tree.
python3 stdlib only. Exit status 0 when every case holds.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

LINT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lint_dashboard.py")
DASHBOARD = "grafana/pgbackup-overview.json"
RULES = "alerts/pgbackup.rules.yml"
DESIGN = "tests/monitoring/design_metrics.prom"
EXPORTED = sorted(glob.glob("tests/fixtures/metrics/*.prom"))

# Panel title -> the metric that no other panel and no alert uses.
ONLY_PANEL_OF = {
    "S3 retries by reason": "pgbackup_offsite_retries_total",
    "Retention": "pgbackup_retention_refusals_total",
    "Web config reload": "pgbackup_web_config_last_reload_successful",
    "Schema changes": "pgbackup_backup_schema_changes",
}


def lint(dashboard, design=DESIGN, exported=EXPORTED, rules=RULES):
    argv = [sys.executable, LINT, dashboard, "--rules", rules, "--design", design]
    for path in exported:
        argv += ["--exported", path]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.returncode, done.stderr


def without_panel(dashboard, title, out_path):
    panels = [p for p in dashboard["panels"] if p.get("title") != title]
    if len(panels) != len(dashboard["panels"]) - 1:
        raise AssertionError(f"the dashboard has no single panel titled {title!r}")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(dict(dashboard, panels=panels), f)


def main():
    failures = []

    def expect(ok, what, detail=""):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what + ("\n" + detail if detail else ""))

    if not EXPORTED:
        print("no golden expositions under tests/fixtures/metrics (run from the source tree)")
        return 1
    code, err = lint(DASHBOARD)
    expect(code == 0, "the committed dashboard and rules cover every exported DESIGN metric",
           err)

    with open(DASHBOARD, encoding="utf-8") as f:
        dashboard = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        for title, metric in ONLY_PANEL_OF.items():
            path = os.path.join(tmp, "dashboard.json")
            without_panel(dashboard, title, path)
            code, err = lint(path)
            wanted = f"metric {metric} is exported but in neither a panel nor an alert"
            expect(code == 1 and wanted in err,
                   f"without the panel {title!r} the lint fails naming {metric}",
                   f"exit {code}, stderr:\n{err}")

        # A metric an alert uses (PgBackupRestoreTestOverdue) is covered without its panel...
        alerted = "pgbackup_restore_test_last_success_timestamp_seconds"
        path = os.path.join(tmp, "dashboard.json")
        without_panel(dashboard, "Last successful restore test", path)
        code, err = lint(path)
        expect(code == 0, f"without its panel, {alerted} is covered by an alert", err)
        # ...and not once the rules leave it out.
        rules = os.path.join(tmp, "rules.yml")
        with open(RULES, encoding="utf-8") as f:
            kept = [line for line in f if alerted not in line]
        with open(rules, "w", encoding="utf-8") as f:
            f.writelines(kept)
        code, err = lint(path, rules=rules)
        expect(code == 1 and f"metric {alerted} is exported but in neither" in err,
               f"without its panel and its alert lines the lint fails naming {alerted}",
               f"exit {code}, stderr:\n{err}")

        # A DESIGN metric that nothing exports yet (as the §11 ones were) is not required...
        design = os.path.join(tmp, "design.prom")
        with open(DESIGN, encoding="utf-8") as f:
            text = f.read()
        with open(design, "w", encoding="utf-8") as f:
            f.write(text + "# TYPE pgbackup_future_gauge gauge\npgbackup_future_gauge 0\n")
        code, err = lint(DASHBOARD, design=design)
        expect(code == 0, "a DESIGN metric no exposition has is not required", err)
        # ...until a target exports it.
        scrape = os.path.join(tmp, "scrape.prom")
        with open(scrape, "w", encoding="utf-8") as f:
            f.write('# TYPE pgbackup_future_gauge gauge\npgbackup_future_gauge{target="t"} 1\n')
        code, err = lint(DASHBOARD, design=design, exported=EXPORTED + [scrape])
        expect(code == 1 and "metric pgbackup_future_gauge is exported but in neither" in err,
               "the same metric is required once an exposition has it",
               f"exit {code}, stderr:\n{err}")

    for f in failures:
        print("\n" + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
