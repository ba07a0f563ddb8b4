# Shared by the benchmarks (sourced, not run): a throwaway PostgreSQL 15 cluster in a temporary
# directory removed on exit (Ctrl-C included), and pNode Pulse-like data of a chosen size.
# Needs: $root (the repository), $bin (PostgreSQL's bin directory); optional $BENCH_PG_OPTS adds
# server options (e.g. shared_preload_libraries for TimescaleDB). Sets: $work, $port,
# BENCH_PGPASSWORD and the PG* variables psql/pg_dump/pg_restore use; defines as_postgres, log,
# q and load_db, and for the pgBackRest benchmarks pgbackrest_stanza, pgbr, metrics_db, grow and grow_gb.

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


# --- pgBackRest (engine_bench, pitr_bench) ---------------------------------------------------
# Makes the cluster archive into a stanza "bench" of its own: posix repository in
# $work/pgbackrest, zst, process-max 2, start-fast, archive-push from the server (a restart).
# pgBackRest runs as the PGDATA owner, over the unix socket with peer authentication. Sets
# $pgbr_dir, $pgbr_prefix (the command, with runuser as root) and $command_yaml (the same as a
# YAML list for the agent's config); defines pgbr.
pgbackrest_stanza() {
  pgbr_dir="$work/pgbackrest"
  mkdir -p "$pgbr_dir"/{repo,lock,log,spool}
  cat > "$pgbr_dir/pgbackrest.conf" <<CONF
[global]
repo1-type=posix
repo1-path=$pgbr_dir/repo
repo1-retention-full=99
compress-type=zst
process-max=2
start-fast=y
lock-path=$pgbr_dir/lock
log-path=$pgbr_dir/log
spool-path=$pgbr_dir/spool
log-level-console=warn

[bench]
pg1-path=$work/pg/data
pg1-port=$port
pg1-socket-path=$work/pg
CONF
  pgbr_prefix=(pgbackrest)
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$pgbr_dir"
    pgbr_prefix=(runuser -u postgres -- pgbackrest)
  fi
  { echo "local all postgres peer"; cat "$work/pg/data/pg_hba.conf"; } > "$work/hba" &&
    cat "$work/hba" > "$work/pg/data/pg_hba.conf"
  q -c "ALTER SYSTEM SET wal_level = replica" postgres >/dev/null
  q -c "ALTER SYSTEM SET archive_mode = on" postgres >/dev/null
  q -c "ALTER SYSTEM SET archive_command = 'pgbackrest --config=$pgbr_dir/pgbackrest.conf --stanza=bench archive-push %p'" postgres >/dev/null
  as_postgres "$bin/pg_ctl" -D "$work/pg/data" -w restart >/dev/null
  pgbr stanza-create
  command_yaml=$(printf '%s, ' "${pgbr_prefix[@]}"); command_yaml="[${command_yaml%, }]"
}
pgbr() { "${pgbr_prefix[@]}" "--config=$pgbr_dir/pgbackrest.conf" --stanza=bench "$@"; }

# --- The seed's metrics workload (engine_bench, pitr_bench; needs TimescaleDB preloaded) -----
# Database $1 with a TimescaleDB hypertable node_metrics (daily chunks of poorly compressible
# rows: random floats and counters, an md5 text) and a plain table node_events.
metrics_db() {
  q -c "CREATE DATABASE $1" postgres >/dev/null
  q -c "CREATE EXTENSION timescaledb" "$1" >/dev/null
  q "$1" >/dev/null <<'SQL'
CREATE TABLE node_metrics (time timestamptz NOT NULL, node_id int NOT NULL, cpu double precision,
  mem double precision, rx_bytes bigint, tx_bytes bigint, status text);
SELECT create_hypertable('node_metrics', 'time', chunk_time_interval => interval '1 day');
CREATE TABLE node_events (id bigserial PRIMARY KEY, node_id int, value double precision, note text);
SQL
}

# Appends rows to database $1's hypertable (${days:-30} days ending today) until it is about $2
# bytes, and to the plain table until it is about $3 bytes. 100 nodes, one row per node every N
# seconds.
grow() {
  local db=$1 want_ts=$2 want_plain=$3 ndays=${days:-30} have
  have=$(q -c "SELECT hypertable_size('node_metrics')" "$db")
  if [ "$have" -lt "$want_ts" ]; then
    # ~150 bytes per row (heap, no index but the time one): rows per day for the rest.
    local per_day=$(( (want_ts - have) / 150 / ndays / 100 ))
    local step=$(( 86400 / (per_day > 0 ? per_day : 1) ))
    [ "$step" -ge 1 ] || step=1
    for d in $(seq "$ndays" -1 1); do
      q -c "INSERT INTO node_metrics SELECT t, n, random() * 100, random() * 64e9,
              (random() * 1e12)::bigint, (random() * 1e12)::bigint, md5(random()::text)
            FROM generate_series(date_trunc('day', now()) - interval '$d days',
                                 date_trunc('day', now()) - interval '$((d - 1)) days' - interval '1 second',
                                 interval '$step seconds') t,
                 generate_series(1, 100) n" "$db" >/dev/null
    done
  fi
  have=$(q -c "SELECT pg_total_relation_size('node_events')" "$db")
  if [ "$have" -lt "$want_plain" ]; then
    q -c "INSERT INTO node_events (node_id, value, note)
          SELECT g % 100, random(), md5(random()::text) || md5(random()::text)
          FROM generate_series(1, ($want_plain - $have) / 130) g" "$db" >/dev/null
  fi
  q -c "VACUUM ANALYZE" "$db" >/dev/null
}

# Grows database $1 to about $2 GB, three quarters hypertable and a quarter plain table. (%.0f:
# Debian's awk, mawk, caps %d at 2^31.)
grow_gb() {
  local bytes
  bytes=$(awk -v s="$2" 'BEGIN { printf "%.0f", s * 1e9 }')
  log "growing $1 to ~$2 GB (hypertable 3/4, plain table 1/4)..."
  grow "$1" $((bytes * 3 / 4)) $((bytes / 4))
}
