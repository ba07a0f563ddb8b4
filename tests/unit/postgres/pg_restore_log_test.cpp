#include "agent/engines/pg_dump/pg_restore_log.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using pgbackup::parse_pg_restore_log_line;

TEST_CASE("pg_restore --verbose lines are told apart: items, other chatter and what to keep") {
  struct Case {
    const char* line;
    bool chatter;
    bool starts_item;
    const char* item;
  };
  // Lines as PostgreSQL 15's pg_restore -v (and -v -j 2) writes them.
  const std::vector<Case> cases = {
      {"pg_restore: creating TABLE \"public.nodes\"", true, true, "TABLE public.nodes"},
      {"pg_restore: creating COMMENT \"public.TABLE a\"", true, true, "COMMENT public.TABLE a"},
      {"pg_restore: creating FK CONSTRAINT \"public.b b_i_fkey\"", true, true,
       "FK CONSTRAINT public.b b_i_fkey"},
      {"pg_restore: processing data for table \"public.node_metrics\"", true, true,
       "public.node_metrics"},
      {"pg_restore: executing SEQUENCE SET nodes_id_seq", true, true, "SEQUENCE SET nodes_id_seq"},
      // Parallel bookkeeping and the rest of the chatter: not items (each entry also has one of
      // the lines above), not worth keeping.
      {"pg_restore: connecting to database for restore", true, false, ""},
      {"pg_restore: processing item 214 TABLE a", true, false, ""},
      {"pg_restore: launching item 3347 TABLE DATA a", true, false, ""},
      {"pg_restore: finished item 3347 TABLE DATA a", true, false, ""},
      {"pg_restore: entering main parallel loop", true, false, ""},
      {"pg_restore: dropping TABLE nodes", true, false, ""},
      // What an error report is made of: kept.
      {"pg_restore: error: could not execute query: ERROR:  relation \"x\" already exists", false,
       false, ""},
      {"pg_restore: warning: errors ignored on restore: 1", false, false, ""},
      {"pg_restore: detail: Key (i)=(1) already exists.", false, false, ""},
      {"pg_restore: hint: Perhaps you meant ...", false, false, ""},
      {"Command was: CREATE TABLE public.x (i integer);", false, false, ""},
      {"", false, false, ""},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    const auto got = parse_pg_restore_log_line(c.line);
    CHECK(got.chatter == c.chatter);
    CHECK(got.starts_item == c.starts_item);
    CHECK(got.item == c.item);
  }
}
