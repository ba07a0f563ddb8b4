// The pure parts of a TimescaleDB restore: which archive entries go into the serial stage, and
// which statements of pg_restore's --clean script are its drops.
#include <catch2/catch.hpp>

#include "agent/engines/pg_dump/toc.h"

namespace {

// Abridged from `pg_restore --list` of a pNode Pulse dump on TimescaleDB 2.28.3.
const char* kList = R"(;
; Archive created at 2026-12-01 22:21:12 UTC
2; 3079 16385 EXTENSION - timescaledb
277; 1259 17096 TABLE public node_metrics postgres
279; 1259 17111 TABLE _timescaledb_internal _hyper_1_1_chunk postgres
276; 1259 17084 TABLE public nodes postgres
3849; 0 16410 TABLE DATA _timescaledb_catalog hypertable postgres
3851; 0 16440 TABLE DATA _timescaledb_catalog dimension postgres
3855; 0 16479 TABLE DATA _timescaledb_catalog dimension_slice postgres
4101; 0 17111 TABLE DATA _timescaledb_internal _hyper_1_1_chunk postgres
4245; 0 17096 TABLE DATA public node_metrics postgres
4244; 0 17084 TABLE DATA public nodes postgres
4294; 0 0 SEQUENCE SET _timescaledb_catalog chunk_id_seq postgres
4298; 0 0 SEQUENCE SET public nodes_id_seq postgres
3994; 2606 17093 CONSTRAINT public nodes nodes_pkey postgres
4062; 2606 17099 FK CONSTRAINT public node_metrics node_metrics_node_id_fkey postgres
)";

const char* kPreData = R"(;
; Selected TOC Entries:
2; 3079 16385 EXTENSION - timescaledb
277; 1259 17096 TABLE public node_metrics postgres
279; 1259 17111 TABLE _timescaledb_internal _hyper_1_1_chunk postgres
276; 1259 17084 TABLE public nodes postgres
)";

}  // namespace

TEST_CASE(
    "a TimescaleDB restore puts the schema and the catalog's data, in the archive's order, "
    "into its serial stage and everything else into the parallel one",
    "[timescaledb]") {
  const pgbackup::RestoreStages stages = pgbackup::split_timescaledb_stages(kList, kPreData);
  CHECK(stages.serial ==
        "2; 3079 16385 EXTENSION - timescaledb\n"
        "277; 1259 17096 TABLE public node_metrics postgres\n"
        "279; 1259 17111 TABLE _timescaledb_internal _hyper_1_1_chunk postgres\n"
        "276; 1259 17084 TABLE public nodes postgres\n"
        "3849; 0 16410 TABLE DATA _timescaledb_catalog hypertable postgres\n"
        "3851; 0 16440 TABLE DATA _timescaledb_catalog dimension postgres\n"
        "3855; 0 16479 TABLE DATA _timescaledb_catalog dimension_slice postgres\n"
        "4294; 0 0 SEQUENCE SET _timescaledb_catalog chunk_id_seq postgres\n");
  CHECK(stages.parallel ==
        "4101; 0 17111 TABLE DATA _timescaledb_internal _hyper_1_1_chunk postgres\n"
        "4245; 0 17096 TABLE DATA public node_metrics postgres\n"
        "4244; 0 17084 TABLE DATA public nodes postgres\n"
        "4298; 0 0 SEQUENCE SET public nodes_id_seq postgres\n"
        "3994; 2606 17093 CONSTRAINT public nodes nodes_pkey postgres\n"
        "4062; 2606 17099 FK CONSTRAINT public node_metrics node_metrics_node_id_fkey postgres\n");
}

TEST_CASE("the drops of pg_restore's --clean script are its statements before the first entry",
          "[timescaledb]") {
  const char* script = R"(--
-- PostgreSQL database dump
--

\restrict abc

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

ALTER TABLE IF EXISTS ONLY public.node_metrics DROP CONSTRAINT IF EXISTS node_metrics_node_id_fkey;
DROP INDEX IF EXISTS public.node_metrics_node_time;
ALTER TABLE IF EXISTS public.nodes ALTER COLUMN id DROP DEFAULT;
DROP TABLE IF EXISTS public.nodes;
DROP EXTENSION IF EXISTS timescaledb;
--
-- Name: timescaledb; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public;
ALTER TABLE public.nodes OWNER TO postgres;
)";
  CHECK(pgbackup::drop_statements(script) ==
        "ALTER TABLE IF EXISTS ONLY public.node_metrics DROP CONSTRAINT IF EXISTS "
        "node_metrics_node_id_fkey;\n"
        "DROP INDEX IF EXISTS public.node_metrics_node_time;\n"
        "ALTER TABLE IF EXISTS public.nodes ALTER COLUMN id DROP DEFAULT;\n"
        "DROP TABLE IF EXISTS public.nodes;\n"
        "DROP EXTENSION IF EXISTS timescaledb;\n");
  CHECK(pgbackup::drop_statements("--\n-- Name: x; Type: TABLE\n--\nCREATE TABLE x ();\n").empty());
}
