#!/usr/bin/env python3
"""The report of bench/engine_bench, from its runs file ($BENCH_RUNS: one line per run,
"SIZE KIND PAIR WALL_S AGENT_OWN_RSS_KIB REPO_BACKUP_BYTES") and the environment it exports."""
import os
import statistics as st
from collections import defaultdict

e = os.environ
runs = defaultdict(list)  # (size, kind) -> [(wall, rss, repo)]
sizes = []
for line in open(e["BENCH_RUNS"]):
    f = line.split()
    if not f:
        continue
    if f[0] not in sizes:
        sizes.append(f[0])
    runs[(f[0], f[1])].append((float(f[3]), int(f[4]), int(f[5])))


def med(size, kind):
    return st.median(w for w, _, _ in runs[(size, kind)])


def pair_ratio(size, a, b):
    return st.median(y[0] / x[0] for x, y in zip(runs[(size, a)], runs[(size, b)]))


def verdict(ok):
    return "PASS" if ok else "FAIL"


print(f"pgbackup-agent engine benchmark, {e['BENCH_STAMP']}")
print()
print(f"machine    : {e['BENCH_NPROC']} CPUs, shared; load average {e['BENCH_LOAD']} (before / after)")
print(f"software   : PostgreSQL {e['BENCH_PG']}, TimescaleDB {e['BENCH_TS']}, {e['BENCH_PGBR']}, {e['BENCH_AGENT_VERSION']}")
for d in e["BENCH_DATA"].rstrip(";").split(";"):
    print(f"data       : {d.strip()}")
print("pgBackRest : posix repository, compress-type=zst, process-max=2, start-fast=y")
print("pg_dump    : the agent's pg_dump backup with its defaults (-Fc -Z9, exact row counts, TOC, SHA-256)")
print()
print("all times are medians of the pairs (seconds); 'pair' ratios are medians of per-pair ratios")
def has(size, *kinds):
    return all(runs[(size, k)] for k in kinds)


def against_bare(size, label, bare, agent, target=True):
    b, a = med(size, bare), med(size, agent)
    line = (f"  bare {label:<22}{b:8.2f}   agent {a:8.2f}   agent/bare {a / b:5.3f}x"
            f" (pair {pair_ratio(size, bare, agent):5.3f}x")
    line += f"; target <= 1.05x: {verdict(a / b <= 1.05)})" if target else "; no target)"
    print(line)
    before = "before_" + agent.split("_")[1]
    if has(size, before):
        o = med(size, before)
        print(f"  {'':<27}before {o:8.2f}   before/bare {o / b:5.3f}x"
              f" (pair {pair_ratio(size, bare, before):5.3f}x)   agent/before {a / o:5.3f}x"
              f" (pair {pair_ratio(size, before, agent):5.3f}x)")


if e.get("BENCH_BEFORE_VERSION"):
    print(f"before     : {e['BENCH_BEFORE_VERSION']} (BENCH_AGENT_BEFORE), run in the same pairs")
for size in sizes:
    big = float(size) >= 1.5
    print()
    print(f"== {size} GB ==")
    if has(size, "dump", "bare_full", "agent_full"):
        print(f"  agent pg_dump backup       {med(size, 'dump'):8.2f}")
        against_bare(size, "pgbackrest full", "bare_full", "agent_full")
    if has(size, "bare_incr", "agent_incr"):
        against_bare(size, "incr, 1 % appended", "bare_incr", "agent_incr")
    if has(size, "bare_upd", "agent_upd"):
        against_bare(size, "incr, 1 % updated", "bare_upd", "agent_upd", target=False)
    if has(size, "dump", "agent_full"):
        dump, afull = med(size, "dump"), med(size, "agent_full")
        print(f"  pg_dump backup / agent full          {dump / afull:5.2f}x"
              + (f"  (target >= 2x from 1.5 GB: {verdict(dump / afull >= 2)})" if big else "  (target applies from 1.5 GB)"))
        if has(size, "agent_incr"):
            incr_share = med(size, "agent_incr") / afull
            target = 0.10 if float(size) >= 4 else 0.20
            print(f"  append incr / full (agent)           {incr_share * 100:5.1f} %"
                  + (f"  (target <= {target * 100:.0f} %: {verdict(incr_share <= target)})" if big else "  (target applies from 1.5 GB)"))
        if has(size, "agent_upd"):
            print(f"  update incr / full (agent)           {med(size, 'agent_upd') / afull * 100:5.1f} %  (no target: pgBackRest copies whole changed files)")
    rss = max(r for k, v in runs.items() if k[0] == size and k[1].startswith("agent") for _, r, _ in v)
    line = f"  agent peak RSS (own, pgBackRest runs) {rss / 1024:5.1f} MiB  (target < 32 MiB: {verdict(rss < 32 * 1024)})"
    if has(size, "dump"):
        line += f"; pg_dump runs {max(r for _, r, _ in runs[(size, 'dump')]) / 1024:.1f} MiB"
    print(line)
    repo = max(p for k, v in runs.items() if k[0] == size for _, _, p in v)
    print(f"  repository backup/ after this size  {repo / 1e6:8.1f} MB")
print()
print("per run (size kind pair wall_s agent_rss_kib repo_backup_bytes):")
for line in open(e["BENCH_RUNS"]):
    print("  " + line.rstrip())
