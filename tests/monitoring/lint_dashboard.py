#!/usr/bin/env python3
"""Lints a Grafana dashboard for pgbackup-agent (python3 standard library only).

Checks: valid JSON; uid "pgbackup-overview"; templating variables datasource (type datasource,
query prometheus), job, instance and target (query variables using label_values on pgbackup_*
metrics); every panel (rows excepted) has a title, a description, a unit
(fieldConfig.defaults.unit), the ${datasource} datasource and non-empty targets, each with an
expr using only metric names that start with pgbackup_ or are `up`.

Prints the pgbackup_* metric names the dashboard queries, one a line (with --rules FILE, also
those the alerting rules file mentions outside comments). With --metrics FILE (a Prometheus text
exposition, e.g. `curl -s localhost:10115/metrics > FILE`), also fails when one of those
pgbackup_* names is absent from it.

Coverage (--design FILE --exported FILE...): fails when a metric of DESIGN.md (§9 and §11, listed
in the --design exposition, tests/monitoring/design_metrics.prom) that the agent exports appears
in neither a panel nor, with --rules, an alert. What the agent exports is read from --exported
expositions: CTest passes the golden files of tests/fixtures/metrics/*.prom, which
metrics_golden_test compares byte for byte with what the real collectors serve (a live scrape
works as well). A DESIGN metric no collector exports yet (the §11 pgBackRest ones, today) is not
required; the day a collector exports it, its golden file shows it and the lint requires a panel
or an alert for it.

Exit status: 0 clean, 1 lint errors, 2 usage or unreadable input.
"""

import argparse
import json
import re
import sys

EXPECTED_UID = "pgbackup-overview"
DATASOURCE_REF = "${datasource}"
SCHEMA_VERSIONS = range(36, 40)  # Grafana 9.x-10.x

# Words that look like identifiers in PromQL but are not metric names.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "atan2", "inf", "nan", "start", "end",
}
# Aggregations, functions and modifiers whose parenthesised argument is a label list.
LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
IDENT = re.compile(r"(?<![\w.$:])([A-Za-z_:][\w:]*)")


def metric_names(expr):
    """Returns the metric names a PromQL expression selects (a tokenizer, not a parser)."""
    text = STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries ([1d], [$__rate_interval])
    text = LABEL_LIST.sub(" ", text)
    names = set()
    for match in IDENT.finditer(text):
        word = match.group(1)
        rest = text[match.end():].lstrip()
        if rest.startswith("("):  # function or aggregation call
            continue
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def exposition_names(path):
    """Metric names in a Prometheus text exposition (samples and # TYPE/# HELP lines)."""
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                parts = line.split()
                if len(parts) >= 3 and parts[1] in ("TYPE", "HELP"):
                    names.add(parts[2])
                continue
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names


def rules_names(path):
    """pgbackup_* names in an alerting rules file, outside comments (no YAML parser needed:
    expressions and the query templates in annotations are all that mention them)."""
    names = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.lstrip().startswith("#"):
                continue
            names.update(re.findall(r"(?<![\w:])pgbackup_[a-z0-9_]+", line))
    return names


def uncovered(design, exported, covered):
    """DESIGN metrics that the agent exports but no panel or alert mentions, sorted."""
    return sorted((design & exported) - covered)


def iter_panels(panels):
    for panel in panels or []:
        yield panel
        yield from iter_panels(panel.get("panels"))  # collapsed rows hold their panels


def check_variables(dashboard, errors):
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if ds is None:
        errors.append("templating: missing variable 'datasource'")
    elif ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append("templating: 'datasource' must be type datasource with query prometheus")
    for name in ("job", "instance", "target"):
        var = variables.get(name)
        if var is None:
            errors.append(f"templating: missing variable '{name}'")
            continue
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        if var.get("type") != "query":
            errors.append(f"templating: '{name}' must be a query variable")
        if not re.search(r"label_values\(\s*pgbackup_\w+", query or ""):
            errors.append(f"templating: '{name}' must use label_values on a pgbackup_ metric, "
                          f"got {query!r}")
        if (var.get("datasource") or {}).get("uid") != DATASOURCE_REF:
            errors.append(f"templating: '{name}' must use datasource {DATASOURCE_REF}")


def check_panels(dashboard, errors):
    used = set()
    ids = set()
    panels = list(iter_panels(dashboard.get("panels")))
    if not panels:
        errors.append("dashboard has no panels")
    for panel in panels:
        title = panel.get("title") or ""
        where = f"panel {panel.get('id')} {title!r}"
        if panel.get("id") in ids:
            errors.append(f"{where}: duplicate panel id")
        ids.add(panel.get("id"))
        if panel.get("type") == "row":
            continue
        if not title.strip():
            errors.append(f"{where}: missing title")
        if not (panel.get("description") or "").strip():
            errors.append(f"{where}: missing description")
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            errors.append(f"{where}: missing fieldConfig.defaults.unit")
        if (panel.get("datasource") or {}).get("uid") != DATASOURCE_REF:
            errors.append(f"{where}: datasource must be {DATASOURCE_REF}")
        targets = panel.get("targets") or []
        if not targets:
            errors.append(f"{where}: no targets")
        for t in targets:
            expr = (t.get("expr") or "").strip()
            ref = t.get("refId", "?")
            if not expr:
                errors.append(f"{where} target {ref}: empty expr")
                continue
            ds = t.get("datasource")
            if ds is not None and ds.get("uid") != DATASOURCE_REF:
                errors.append(f"{where} target {ref}: datasource must be {DATASOURCE_REF}")
            for name in sorted(metric_names(expr)):
                if name != "up" and not name.startswith("pgbackup_"):
                    errors.append(f"{where} target {ref}: metric {name!r} is neither "
                                  f"pgbackup_* nor up")
                else:
                    used.add(name)
    return used


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dashboard", help="dashboard JSON file")
    parser.add_argument("--metrics", metavar="FILE",
                        help="Prometheus exposition text; fail if a queried name is absent")
    parser.add_argument("--rules", metavar="FILE",
                        help="alerting rules file whose pgbackup_* names are listed and checked "
                             "too")
    parser.add_argument("--design", metavar="FILE",
                        help="exposition listing the DESIGN metrics; with --exported, fail when "
                             "one that is exported is in neither a panel nor an alert")
    parser.add_argument("--exported", metavar="FILE", action="append", default=[],
                        help="exposition of what the agent exports (repeatable)")
    args = parser.parse_args(argv)
    if bool(args.design) != bool(args.exported):
        parser.error("--design and --exported go together")

    try:
        with open(args.dashboard, encoding="utf-8") as f:
            dashboard = json.load(f)
    except (OSError, ValueError) as e:
        print(f"lint_dashboard: cannot read {args.dashboard}: {e}", file=sys.stderr)
        return 2
    rule_names = set()
    if args.rules:
        try:
            rule_names = rules_names(args.rules)
        except OSError as e:
            print(f"lint_dashboard: cannot read {args.rules}: {e}", file=sys.stderr)
            return 2
    try:
        exposed = exposition_names(args.metrics) if args.metrics else None
        design = exposition_names(args.design) if args.design else set()
        exported = set()
        for path in args.exported:
            exported |= exposition_names(path)
    except OSError as e:
        print(f"lint_dashboard: cannot read {e.filename}: {e.strerror}", file=sys.stderr)
        return 2

    errors = []
    if not isinstance(dashboard, dict):
        errors.append("top level is not a JSON object")
        dashboard = {}
    if dashboard.get("uid") != EXPECTED_UID:
        errors.append(f"uid must be {EXPECTED_UID!r}, got {dashboard.get('uid')!r}")
    if dashboard.get("schemaVersion") not in SCHEMA_VERSIONS:
        errors.append(f"schemaVersion {dashboard.get('schemaVersion')!r} is outside "
                      f"{SCHEMA_VERSIONS.start}..{SCHEMA_VERSIONS.stop - 1}")
    check_variables(dashboard, errors)
    used = check_panels(dashboard, errors)

    pgbackup_names = sorted(n for n in used | rule_names if n.startswith("pgbackup_"))
    for name in pgbackup_names:
        print(name)
    if exposed is not None:
        for name in pgbackup_names:
            if name not in exposed:
                errors.append(f"metric {name} is used but absent from {args.metrics}")

    for name in uncovered(design, exported, used | rule_names):
        errors.append(f"metric {name} is exported but in neither a panel nor an alert (hint: "
                      f"add a panel in mixin/dashboards.libsonnet, then run mixin/generate)")

    for error in errors:
        print(f"lint_dashboard: {args.dashboard}: {error}", file=sys.stderr)
    if errors:
        print(f"lint_dashboard: {len(errors)} error(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
