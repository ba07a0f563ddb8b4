// The pure parts of a partial restore: which archive entries it lists for pg_restore --use-list.
#include <catch2/catch.hpp>

#include "agent/engines/pg_dump/toc.h"

using pgbackup::TableRows;

namespace {

const char* kList = R"(;
; Archive created at 2026-11-25 11:05:55 UTC
222; 1259 16455 TABLE public network_stats postgres
215; 1259 16386 TABLE public nodes postgres
214; 1259 16385 SEQUENCE public nodes_id_seq postgres
3405; 0 0 SEQUENCE OWNED BY public nodes_id_seq postgres
3225; 0 0 TABLE ATTACH public node_metrics_2026_08 postgres
3230; 2604 16389 DEFAULT public nodes id postgres
3398; 0 16455 TABLE DATA public network_stats postgres
3392; 0 16386 TABLE DATA public nodes postgres
3406; 0 0 SEQUENCE SET public nodes_id_seq postgres
3234; 2606 16395 CONSTRAINT public nodes nodes_pkey postgres
3235; 2606 16396 CONSTRAINT public network_stats network_stats_pkey postgres
3237; 1259 16436 INDEX public node_metrics_node_time postgres
3250; 1259 16450 INDEX public nodes_version_idx postgres
3248; 2606 16401 FK CONSTRAINT public node_metrics node_metrics_node_id_fkey postgres
)";

const char* kSchemaSql = R"(--
-- Name: nodes_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public.nodes_id_seq OWNED BY public.nodes.id;

--
-- Name: node_metrics_node_time; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX node_metrics_node_time ON ONLY public.node_metrics USING btree (node_id, "time" DESC);

--
-- Name: nodes_version_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX nodes_version_idx ON public.nodes USING btree (version);
)";

}  // namespace

TEST_CASE(
    "a partial restore of a table lists its definition, data, constraints, default, "
    "indexes and owned sequence, and nothing of other tables") {
  const std::vector<TableRows> nodes = {{"public", "nodes", 50}};
  const auto related = pgbackup::objects_of_tables(kSchemaSql, nodes);
  CHECK(related == std::set<std::pair<std::string, std::string>>{{"public", "nodes_id_seq"},
                                                                 {"public", "nodes_version_idx"}});
  CHECK(pgbackup::select_toc_entries(kList, nodes, related) ==
        "215; 1259 16386 TABLE public nodes postgres\n"
        "214; 1259 16385 SEQUENCE public nodes_id_seq postgres\n"
        "3405; 0 0 SEQUENCE OWNED BY public nodes_id_seq postgres\n"
        "3230; 2604 16389 DEFAULT public nodes id postgres\n"
        "3392; 0 16386 TABLE DATA public nodes postgres\n"
        "3406; 0 0 SEQUENCE SET public nodes_id_seq postgres\n"
        "3234; 2606 16395 CONSTRAINT public nodes nodes_pkey postgres\n"
        "3250; 1259 16450 INDEX public nodes_version_idx postgres\n");
}

TEST_CASE("a table whose name prefixes another's takes only its own entries") {
  const std::vector<TableRows> stats = {{"public", "network_stats", 3}};
  CHECK(pgbackup::select_toc_entries(kList, stats, {}) ==
        "222; 1259 16455 TABLE public network_stats postgres\n"
        "3398; 0 16455 TABLE DATA public network_stats postgres\n"
        "3235; 2606 16396 CONSTRAINT public network_stats network_stats_pkey postgres\n");
  CHECK(pgbackup::select_toc_entries(kList, {{"other", "nodes", 1}}, {}).empty());
}
