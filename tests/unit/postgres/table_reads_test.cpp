// The pure part of reading every table on several connections: which queries, in which order.
#include <catch2/catch.hpp>

#include "agent/postgres/table_reads.h"

using pgbackup::plan_table_reads;
using pgbackup::StoredRelation;
using pgbackup::TableRead;

namespace {

std::vector<std::string> sqls(const std::vector<TableRead>& reads) {
  std::vector<std::string> out;
  for (const TableRead& r : reads) out.push_back(r.table + ": " + r.sql);
  return out;
}

}  // namespace

TEST_CASE("each relation is read once, biggest first, a parent's own rows with ONLY",
          "[table_reads]") {
  const std::vector<StoredRelation> relations = {
      {"public.nodes", "public.nodes", false, true, 3},
      {"public.node_metrics", "public.node_metrics", true, false, 0},
      {"public.node_metrics", "_timescaledb_internal._hyper_1_1_chunk", false, false, 40},
      {"public.node_metrics", "_timescaledb_internal._hyper_1_2_chunk", false, false, 7},
      {"public.empty", "public.empty", false, true, 0},
  };
  CHECK(sqls(plan_table_reads(relations, 0)) ==
        std::vector<std::string>{
            "public.node_metrics: SELECT count(*) FROM _timescaledb_internal._hyper_1_1_chunk",
            "public.node_metrics: SELECT count(*) FROM _timescaledb_internal._hyper_1_2_chunk",
            "public.nodes: SELECT count(*) FROM public.nodes",
            "public.empty: SELECT count(*) FROM public.empty",
            "public.node_metrics: SELECT count(*) FROM ONLY public.node_metrics",
        });
}

TEST_CASE("a splittable relation bigger than a piece is read in block ranges, the last open-ended",
          "[table_reads]") {
  struct Case {
    std::uint64_t blocks;
    std::uint64_t piece;
    std::vector<std::string> reads;
  };
  const std::vector<Case> cases = {
      {10, 0, {"SELECT count(*) FROM \"a b\".t"}},
      {10, 10, {"SELECT count(*) FROM \"a b\".t"}},
      {10, 20, {"SELECT count(*) FROM \"a b\".t"}},
      {11,
       10,
       {"SELECT count(*) FROM \"a b\".t WHERE ctid < '(10,0)'",
        "SELECT count(*) FROM \"a b\".t WHERE ctid >= '(10,0)'"}},
      {25,
       10,
       {"SELECT count(*) FROM \"a b\".t WHERE ctid < '(10,0)'",
        "SELECT count(*) FROM \"a b\".t WHERE ctid >= '(10,0)' AND ctid < '(20,0)'",
        "SELECT count(*) FROM \"a b\".t WHERE ctid >= '(20,0)'"}},
      {20,
       10,
       {"SELECT count(*) FROM \"a b\".t WHERE ctid < '(10,0)'",
        "SELECT count(*) FROM \"a b\".t WHERE ctid >= '(10,0)'"}},
  };
  for (const Case& c : cases) {
    INFO(c.blocks << " blocks in pieces of " << c.piece);
    const auto reads = plan_table_reads({{"a b.t", "\"a b\".t", false, true, c.blocks}}, c.piece);
    std::vector<std::string> got;
    std::uint64_t blocks = 0;
    for (const TableRead& r : reads) {
      got.push_back(r.sql);
      blocks += r.blocks;
      CHECK(r.table == "a b.t");
    }
    CHECK(got == c.reads);
    CHECK(blocks == c.blocks);
  }
}

TEST_CASE("a relation that is not splittable is read whole however big", "[table_reads]") {
  const auto reads =
      plan_table_reads({{"public.m", "_timescaledb_internal._hyper_1_1_chunk", false, false, 1000},
                        {"public.e", "public.e", false, true, 300}},
                       100);
  REQUIRE(reads.size() == 4);
  CHECK(reads[0].sql == "SELECT count(*) FROM _timescaledb_internal._hyper_1_1_chunk");
  CHECK(reads[0].blocks == 1000);
  for (std::size_t i = 1; i < 4; ++i) CHECK(reads[i].blocks == 100);
}
