-- pNode Pulse on real TimescaleDB: nodes, the hypertables node_metrics (2-day chunks, chunks
-- older than 7 days compressed, by a policy and right away) and network_stats (with a retention
-- policy), and the continuous aggregate node_metrics_hourly with its refresh policy. Needs a
-- server with shared_preload_libraries = 'timescaledb'. Scale with `SET pnode.scale = N;`
-- first (N metric rows per node over 30 days; default 200). One statement per line end (the
-- test harness runs them one by one: refreshing a continuous aggregate cannot run inside a
-- transaction block).
SELECT set_config('pnode.scale', coalesce(current_setting('pnode.scale', true), '200'), false);
CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE nodes (
  id          serial PRIMARY KEY,
  pubkey      text NOT NULL UNIQUE,
  address     inet NOT NULL,
  version     text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  is_public   boolean NOT NULL DEFAULT true
);

CREATE TABLE node_metrics (
  node_id     integer NOT NULL REFERENCES nodes(id),
  time        timestamptz NOT NULL,
  cpu_percent double precision NOT NULL,
  ram_used    bigint NOT NULL,
  storage_committed bigint NOT NULL,
  uptime_seconds bigint NOT NULL,
  packets_in  bigint NOT NULL,
  packets_out bigint NOT NULL
);
SELECT create_hypertable('node_metrics', 'time', chunk_time_interval => INTERVAL '2 days');
CREATE INDEX node_metrics_node_time ON node_metrics (node_id, time DESC);

CREATE TABLE network_stats (
  time          timestamptz PRIMARY KEY,
  total_nodes   integer NOT NULL,
  public_nodes  integer NOT NULL,
  total_storage bigint NOT NULL,
  avg_cpu       double precision NOT NULL
);
SELECT create_hypertable('network_stats', 'time', chunk_time_interval => INTERVAL '7 days');

INSERT INTO nodes (pubkey, address, version, first_seen, is_public)
SELECT md5('node' || g), ('10.0.' || (g / 250) || '.' || (g % 250 + 1))::inet,
       '0.7.' || (g % 4), now() - (g || ' days')::interval, g % 5 <> 0
FROM generate_series(1, 50) AS g;

INSERT INTO node_metrics
SELECT n.id, now() - s * (INTERVAL '30 days' / current_setting('pnode.scale')::int),
       (n.id * 7 + s) % 100 + (s % 10) / 10.0, (n.id * 1000003 + s * 17) % 8000000000,
       n.id * 1000000000::bigint, s * 600, (s * 31 + n.id) % 1000000, (s * 17 + n.id) % 1000000
FROM nodes n, generate_series(1, current_setting('pnode.scale')::int) AS s;

INSERT INTO network_stats
SELECT now() - s * INTERVAL '1 hour', 50, 40, 50000000000, s % 100
FROM generate_series(1, 24 * 30) AS s;

ALTER TABLE node_metrics SET (timescaledb.compress, timescaledb.compress_segmentby = 'node_id',
                              timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('node_metrics', INTERVAL '7 days');
SELECT count(compress_chunk(c)) FROM show_chunks('node_metrics', older_than => INTERVAL '7 days') c;
SELECT add_retention_policy('network_stats', INTERVAL '365 days');

CREATE MATERIALIZED VIEW node_metrics_hourly WITH (timescaledb.continuous) AS
SELECT node_id, time_bucket(INTERVAL '1 hour', time) AS bucket, avg(cpu_percent) AS cpu,
       count(*) AS samples
FROM node_metrics GROUP BY node_id, bucket WITH NO DATA;
CALL refresh_continuous_aggregate('node_metrics_hourly', NULL, now() - INTERVAL '1 hour');
SELECT add_continuous_aggregate_policy('node_metrics_hourly', start_offset => INTERVAL '3 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour');
ANALYZE;
