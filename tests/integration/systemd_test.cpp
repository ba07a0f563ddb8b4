// The agent under systemd: sd_notify readiness, reload and stop notifications on
// $NOTIFY_SOCKET (Type=notify in the unit), and text logs without a timestamp when stderr is the
// journal ($JOURNAL_STREAM).
#include <signal.h>

#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "agent/core/subprocess.h"
#include "tests/support/daemon.h"
#include "tests/support/notify_socket.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

TEST_CASE(
    "under Type=notify the daemon says READY once it serves HTTP, RELOADING then READY around a "
    "SIGHUP, and STOPPING on SIGTERM",
    "[daemon]") {
  TestTarget t("notify", 10);
  const fs::path socket_path = t.root / "notify.sock";
  const NotifySocket notify(socket_path.string());
  const int port = free_port();
  Daemon daemon(t.config, port, "", "http", {{"NOTIFY_SOCKET", socket_path.string()}});

  const std::string ready = notify.receive(60s);
  INFO(daemon.log());
  REQUIRE(ready == "READY=1");
  // Ready means listening: the first request after READY=1 is answered.
  CHECK(http_get(daemon.url("/-/healthy")).status == 200);
  CHECK(http_get(daemon.url("/-/ready")).status == 200);

  daemon.signal(SIGHUP);
  const std::string reloading = notify.receive(30s);
  CHECK(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  CHECK(notify.receive(30s) == "READY=1");

  daemon.signal(SIGTERM);
  CHECK(notify.receive(30s) == "STOPPING=1");
  CHECK(daemon.wait_exit(30s) == 0);
  // Nothing more once stopped.
  CHECK(notify.receive(1s).empty());
  CHECK_THAT(daemon.log(), Catch::Contains("config reloaded: 1 target(s)"));
}

TEST_CASE("text logs drop their timestamp when stderr is the journal, and only then", "[daemon]") {
  const fs::path dir = make_temp_dir("journal");
  const fs::path bad = dir / "bad.yml";
  write_text(bad, "targets: [\n");
  // The shell points stderr at a file and, for the first run, JOURNAL_STREAM at that file's
  // device and inode, as systemd does for a service whose output goes to the journal.
  const auto run = [&](const std::string& journal_stream) {
    pgbackup::ProcessSpec spec;
    spec.argv = {"sh",
                 "-c",
                 "exec 2>\"$0\"; " + journal_stream + "exec \"$1\" --config \"$2\" config-check",
                 (dir / "stderr.log").string(),
                 PGBACKUP_AGENT_BINARY,
                 bad.string()};
    spec.timeout = 30s;
    const auto r = pgbackup::run_process(spec);
    CHECK(r.exit_code == 2);
    return read_text_file(dir / "stderr.log");
  };
  const std::string journal = run("export JOURNAL_STREAM=$(stat -c %d:%i \"$0\"); ");
  INFO(journal);
  CHECK(journal.rfind("error " + bad.string() + ":", 0) == 0);

  const std::string inherited = run("export JOURNAL_STREAM=1:2; ");
  INFO(inherited);
  CHECK(std::regex_search(inherited,
                          std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error )")));

  const std::string plain = run("unset JOURNAL_STREAM; ");
  INFO(plain);
  CHECK(std::regex_search(plain, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error )")));
}
