// The pure parts of a restore test's scratch cluster: its settings, the refusal of a scratch
// directory inside PGDATA, the disk-space check and what the postmaster's log says.
#include <catch2/catch.hpp>

#include <string>

#include "agent/engines/pgbackrest/scratch_cluster.h"

using namespace pgbackup::pgbackrest;

TEST_CASE("the scratch cluster listens on 127.0.0.1 only, never archives, runs no job") {
  ScratchSettings s;
  s.port = 54321;
  s.socket_dir = "/scratch/it's";
  s.source = {{"shared_preload_libraries", "timescaledb"}, {"max_connections", "200"}};
  s.configured = {{"shared_buffers", "128MB"}};
  const std::string conf = scratch_conf(s);
  for (const char* line :
       {"listen_addresses = '127.0.0.1'\n", "port = 54321\n",
        "unix_socket_directories = '/scratch/it''s'\n", "archive_mode = off\n",
        "archive_command = ''\n", "jit = off\n", "recovery_init_sync_method = syncfs\n",
        "full_page_writes = off\n", "timescaledb.max_background_workers = 0\n",
        "shared_preload_libraries = 'timescaledb'\n", "max_connections = '200'\n",
        "shared_buffers = '128MB'\n"}) {
    INFO(line);
    CHECK(conf.find(line) != std::string::npos);
  }
  // The configured settings come last, so they win.
  CHECK(conf.find("shared_buffers") > conf.find("max_connections"));
}

TEST_CASE("a scratch directory equal to or inside PGDATA is refused") {
  CHECK(scratch_dir_refusal("/var/lib/pgbackup/scratch", "/var/lib/postgresql/15/main") == "");
  CHECK(scratch_dir_refusal("/var/lib/postgresql/15/main2", "/var/lib/postgresql/15/main") == "");
  CHECK(scratch_dir_refusal("/x", "") == "");
  CHECK_THAT(scratch_dir_refusal("/var/lib/postgresql/15/main/", "/var/lib/postgresql/15/main"),
             Catch::Contains("is the source's data directory"));
  CHECK_THAT(scratch_dir_refusal("/var/lib/postgresql/15/main/../main/scratch",
                                 "/var/lib/postgresql/15/main"),
             Catch::Contains("is inside the source's data directory /var/lib/postgresql/15/main"));
}

TEST_CASE("a restore that does not fit the scratch filesystem fails with the numbers") {
  CHECK(space_refusal("/s", 100, 100) == "");
  CHECK_THAT(space_refusal("/s", 99, 100),
             Catch::Contains("the backup's database is 100 bytes, 99 bytes are free"));
}

TEST_CASE("the postmaster's log: where recovery stopped, and why it died") {
  const std::string log =
      "LOG:  starting point-in-time recovery to 2026-12-06 14:04:00+00\n"
      "FATAL:  the database system is starting up\n"
      "LOG:  recovery stopping before commit of transaction 745, time 2026-12-06 14:04:00.5+00\n"
      "LOG:  redo done at 0/3000060\n";
  CHECK(recovery_stopping_point(log) ==
        "recovery stopping before commit of transaction 745, time 2026-12-06 14:04:00.5+00");
  CHECK(recovery_stopping_point("LOG:  redo done\n") == "");
  CHECK(fatal_lines(log) == "LOG:  redo done at 0/3000060");
  CHECK(fatal_lines("FATAL:  recovery ended before configured recovery target was reached\n") ==
        "FATAL:  recovery ended before configured recovery target was reached");
  CHECK(fatal_lines("") == "(nothing in its log)");
}

TEST_CASE("the postmaster's status line in postmaster.pid") {
  const std::string head = "4140\n/s/data\n1765160484\n41761\n/s\n127.0.0.1\n  1234  5678\n";
  struct Case {
    std::string file;
    std::string status;
  };
  for (const Case& c : std::vector<Case>{
           {head + "starting\n", "starting"},
           {head + "ready   \n", "ready"},
           {head + "standby ", "standby"},
           {head + "stopping\n", "stopping"},
           {head, ""},
           {"4140\n/s/data\n", ""},
           {"", ""},
       }) {
    INFO(c.file);
    CHECK(postmaster_status(c.file) == c.status);
  }
}
