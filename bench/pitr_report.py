#!/usr/bin/env python3
"""The report of bench/pitr_bench, from its runs file ($BENCH_RUNS: one line per run, "bare I
WALL RESTORE_S START_TO_PROMOTED_S", "agent I WALL" or "dump I WALL"), the agent's restore-test
reports ($BENCH_PITR_REPORTS, $BENCH_DUMP_REPORTS: restore-tests.jsonl) and the environment it
exports."""
import json
import os
import statistics as st

e = os.environ
rows = [line.split() for line in open(e["BENCH_RUNS"]) if line.strip()]
bare = [tuple(float(x) for x in r[2:5]) for r in rows if r[0] == "bare"]
agent = [float(r[2]) for r in rows if r[0] == "agent"]
dump = [float(r[2]) for r in rows if r[0] == "dump"]


def reports(path):
    """A restore-tests.jsonl, or nothing when no test ran (BENCH_DUMP_RUNS=0)."""
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


pitr = reports(e["BENCH_PITR_REPORTS"])
dump_reports = reports(e["BENCH_DUMP_REPORTS"])
med = st.median

print(f"pgbackup-agent PITR restore-test benchmark, {e['BENCH_STAMP']}")
print()
print(f"machine    : {e['BENCH_NPROC']} CPUs, shared; load average {e['BENCH_LOAD']} (before / after)")
print(f"software   : PostgreSQL {e['BENCH_PG']}, TimescaleDB {e['BENCH_TS']}, {e['BENCH_PGBR']}; git {e['BENCH_GIT']}")
print(f"data       : {e['BENCH_DATA']}")
print("pgBackRest : posix repository, compress-type=zst, process-max=2; every restore to latest")
print("  (a) bare : pgbackrest restore --set --type=default --archive-mode=off, the agent's scratch")
print("             postgresql.auto.conf lines, pg_ctl -w start, psql until pg_is_in_recovery() is f")
print("  (b) agent: pgbackup-agent restore-test (info, restore, start, promotion, system id, timeline,")
print("             count(*) of every table, 1 check, stop, log kept, scratch dir removed)")
print()
print("  pair   bare s (restore + start-to-promoted)   agent s (report: restore + replay + checks; rest)   ratio")
for i, (b, a) in enumerate(zip(bare, agent)):
    r = pitr[i]
    rest = a - r["restore_seconds"] - r["replay_seconds"] - r["checks_seconds"]
    print(f"  {i + 1:>4}   {b[0]:7.2f} ({b[1]:6.2f} + {b[2]:6.2f})              "
          f"{a:7.2f} ({r['restore_seconds']:6.2f} + {r['replay_seconds']:6.2f} + {r['checks_seconds']:6.2f};"
          f" {rest:5.2f})      {a / b[0]:5.3f}x")
mb, ma = med(b[0] for b in bare), med(agent)
ratio = ma / mb
print()
print(f"median bare restore-and-start : {mb:7.2f} s  (restore {med(b[1] for b in bare):.2f}, "
      f"start to promoted {med(b[2] for b in bare):.2f})")
n = len(agent)
print(f"median agent restore-test     : {ma:7.2f} s  (restore {med(r['restore_seconds'] for r in pitr[:n]):.2f}, "
      f"replay {med(r['replay_seconds'] for r in pitr[:n]):.2f}, checks {med(r['checks_seconds'] for r in pitr[:n]):.2f}, "
      f"rest {med(a - r['restore_seconds'] - r['replay_seconds'] - r['checks_seconds'] for a, r in zip(agent, pitr)):.2f}; "
      f"report duration {med(r['duration_seconds'] for r in pitr[:n]):.2f})")
print(f"ratio of medians              : {ratio:.3f}x   (target <= 1.25x: {'PASS' if ratio <= 1.25 else 'FAIL'})")
print(f"median of pair ratios         : {med(a / b[0] for b, a in zip(bare, agent)):.3f}x")
print(f"tables read in full           : {len(pitr[0].get('table_counts', {}))} "
      f"({sum(pitr[0].get('table_counts', {}).values())} rows)")
print(f"all PITR restore tests passed : {all(r['success'] for r in pitr)}")
print()
for i, (w, r) in enumerate(zip(dump, dump_reports)):
    print(f"pg_dump restore test {i + 1}        : {w:7.2f} s wall, RTO in its report {r['duration_seconds']:.2f} s, "
          f"passed {r['success']}")
if dump:
    print(f"pg_dump RTO / agent PITR RTO  : {med(r['duration_seconds'] for r in dump_reports) / med(r['duration_seconds'] for r in pitr):.2f}x"
          " (report durations)")
print()
print("per run (kind run wall_s [restore_s start_to_promoted_s]):")
for line in open(e["BENCH_RUNS"]):
    print("  " + line.rstrip())
