# Shared by the benchmarks (sourced, not run): a throwaway PostgreSQL 15 cluster in a temporary
# directory removed on exit (Ctrl-C included), and pNode Pulse-like data of a chosen size.
# Needs: $root (the repository), $bin (PostgreSQL's bin directory); optional $BENCH_PG_OPTS adds
# server options (e.g. shared_preload_libraries for TimescaleDB). Sets: $work, $port,
# BENCH_PGPASSWORD and the PG* variables psql/pg_dump/pg_restore use; defines as_postgres, log,
# q and load_db.

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d "${TMPDIR:-/tmp}/pgbackup-bench.XXXXXX")
chmod 755 "$work"
mkdir -p "$work/pg"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work/pg"; fi
chmod 700 "$work/pg"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -f "$work/pg/data/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$work/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "bench: $*" >&2; }

# --- PostgreSQL ------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export BENCH_PGPASSWORD="bench-$RANDOM-$RANDOM"
echo "$BENCH_PGPASSWORD" > "$work/pg/pwfile"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$work/pg/pwfile"; fi
as_postgres "$bin/initdb" -D "$work/pg/data" -U postgres --auth=scram-sha-256 \
  --pwfile="$work/pg/pwfile" --no-sync -E UTF8 --locale=C >/dev/null
as_postgres "$bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work/pg -c fsync=off ${BENCH_PG_OPTS:-}" start >/dev/null
log "PostgreSQL 15 on 127.0.0.1:$port (data in $work/pg)"

export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$BENCH_PGPASSWORD
q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }

# Loads pnode_pulse.sql into database $1 until it is about $2 MiB. The script's node_metrics
# partitions only reach back to the start of the month three months ago (10-minute steps), so a
# larger pnode.scale is loaded in several passes of at most that many rows per node.
load_db() {
  local db=$1 mib=$2
  q -c "CREATE DATABASE $db" postgres >/dev/null
  local want=$((mib * 1024 * 1024))
  local base per_pass size rows scale bpr remaining passes=0 total_scale=0
  base=$(q -c "SELECT pg_database_size(current_database())" "$db")
  per_pass=$(q -c "SELECT floor(extract(epoch FROM now() - date_trunc('month', now() - interval '3 months')) / 600)::int - 6" "$db")
  bpr=128   # first guess of database bytes per metric row (heap + index), refined after pass 1
  size=$base
  rows=0
  while :; do
    remaining=$(( (want - size) / bpr / 50 ))
    [ "$remaining" -ge 10 ] || break
    scale=$(( remaining < per_pass ? remaining : per_pass ))
    { echo "SET client_min_messages = warning; SET pnode.scale = $scale;"; cat scripts/sql/pnode_pulse.sql; } |
      q -q "$db" >/dev/null
    passes=$((passes + 1))
    total_scale=$((total_scale + scale))
    size=$(q -c "SELECT pg_database_size(current_database())" "$db")
    rows=$(q -c "SELECT count(*) FROM node_metrics" "$db")
    bpr=$(( (size - base) / rows ))
    [ "$bpr" -gt 0 ] || bpr=128
  done
  q -c "VACUUM ANALYZE" "$db" >/dev/null
  size=$(q -c "SELECT pg_database_size(current_database())" "$db")
  echo "$db $size $(awk -v b="$size" 'BEGIN { printf "%.1fMiB", b / 1048576 }') $total_scale $passes $rows"
}

