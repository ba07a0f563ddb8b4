-- pNode Pulse-like demo data: nodes, node_metrics (partitioned by time, standing in for the
-- TimescaleDB hypertable) and network_stats. Scale with `SET pnode.scale = N;` first
-- (N metric rows per node; default 200).
SELECT set_config('pnode.scale', coalesce(current_setting('pnode.scale', true), '200'), false);

CREATE TABLE IF NOT EXISTS nodes (
  id          serial PRIMARY KEY,
  pubkey      text NOT NULL UNIQUE,
  address     inet NOT NULL,
  version     text NOT NULL,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  is_public   boolean NOT NULL DEFAULT true
);

CREATE TABLE IF NOT EXISTS node_metrics (
  node_id     integer NOT NULL REFERENCES nodes(id),
  time        timestamptz NOT NULL,
  cpu_percent double precision NOT NULL,
  ram_used    bigint NOT NULL,
  storage_committed bigint NOT NULL,
  uptime_seconds bigint NOT NULL,
  packets_in  bigint NOT NULL,
  packets_out bigint NOT NULL
) PARTITION BY RANGE (time);

DO $$
DECLARE
  m date;
BEGIN
  FOR m IN SELECT generate_series(date_trunc('month', now() - interval '3 months'),
                                   date_trunc('month', now() + interval '1 month'),
                                   interval '1 month')::date
  LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF node_metrics '
                   'FOR VALUES FROM (%L) TO (%L)',
                   'node_metrics_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
  END LOOP;
END $$;

CREATE INDEX IF NOT EXISTS node_metrics_node_time ON node_metrics (node_id, time DESC);

CREATE TABLE IF NOT EXISTS network_stats (
  time          timestamptz PRIMARY KEY,
  total_nodes   integer NOT NULL,
  public_nodes  integer NOT NULL,
  total_storage bigint NOT NULL,
  avg_cpu       double precision NOT NULL
);

INSERT INTO nodes (pubkey, address, version, first_seen, is_public)
SELECT md5('node' || g), ('10.0.' || (g / 250) || '.' || (g % 250 + 1))::inet,
       '0.7.' || (g % 4), now() - (g || ' days')::interval, g % 5 <> 0
FROM generate_series(1, 50) AS g
ON CONFLICT (pubkey) DO NOTHING;

INSERT INTO node_metrics
SELECT n.id, now() - (s * interval '10 minutes'),
       (n.id * 7 + s) % 100 + random(), (n.id * 1000003 + s * 17) % 8000000000,
       n.id * 1000000000::bigint, s * 600, (s * 31 + n.id) % 1000000, (s * 17 + n.id) % 1000000
FROM nodes n, generate_series(1, current_setting('pnode.scale')::int) AS s;

INSERT INTO network_stats
SELECT now() - (s * interval '1 hour'), 50, 40, 50000000000, random() * 100
FROM generate_series(1, greatest(current_setting('pnode.scale')::int / 6, 1)) AS s
ON CONFLICT (time) DO NOTHING;

ANALYZE;
