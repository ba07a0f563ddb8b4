// The status page in a real browser: headless Chromium loads it from the real daemon after
// real backups, with no console errors, charts drawn with a point per backup, a failed
// target shown as critical, and screenshots (desktop and phone) left in the build directory.
#include <catch2/catch.hpp>

#include <regex>

#include "agent/core/subprocess.h"
#include "tests/support/daemon.h"
#include "tests/support/target.h"

using namespace pgtest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

// Headless Chromium on `url` with `args`; console messages go to stderr as "…:CONSOLE…] "text"".
pgbackup::ProcessResult chromium(const std::string& url, std::vector<std::string> args) {
  pgbackup::ProcessSpec spec;
  spec.argv = {kChromium,      "--headless",       "--disable-gpu",
               "--no-sandbox", "--no-first-run",   "--enable-logging=stderr",
               "--v=0",        "--hide-scrollbars"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.argv.push_back(url);
  spec.timeout = 120s;
  return pgbackup::run_process(spec);
}

// The console messages Chromium logged: script errors, CSP violations, bad SVG attributes.
std::vector<std::string> console_messages(const std::string& log) {
  std::vector<std::string> out;
  const std::regex line(R"([^\n]*:CONSOLE[^\n]*)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    out.push_back(it->str());
  }
  return out;
}

// The serialized DOM of the svg element with `id` ("" when absent).
std::string svg_by_id(const std::string& dom, const std::string& id) {
  const auto start = dom.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return dom.substr(start, dom.find("</svg>", start) - start);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("headless Chromium shows the status page's charts and health without console errors",
          "[browser]") {
  if (!fs::exists(kChromium)) FAIL("chromium is missing (hint: run scripts/setup)");
  TestTarget shop("shop", 50);
  // Three backups by hand with data growing between them, so the charts have a history.
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      PgCluster::shared().exec(
          "INSERT INTO node_metrics SELECT n.id, now() - (s * interval '7 minutes'), 1, 1, 1, 1, "
          "1, 1 FROM nodes n, generate_series(1, " +
              std::to_string(200 * i) + ") AS s",
          shop.db);
    }
    const AgentRun run = shop.agent({"backup"});
    REQUIRE(run.exit_code == 0);
  }
  // Two restore tests by hand: points on the restore-test chart, under its RTO line.
  const std::string restore_test_yaml =
      "    restore_test:\n      schedule: \"0 4 * * 0\"\n      pick: latest\n      "
      "rto_target: 10m\n      database: " +
      TestTarget::database_yaml(shop.db + "_rt") + "\n";
  shop.write_config(shop.default_database_yaml(), restore_test_yaml);
  for (int i = 0; i < 2; ++i) {
    const AgentRun run = shop.agent({"restore-test"});
    INFO(run.out << run.err);
    REQUIRE(run.exit_code == 0);
  }
  TestTarget down("down", 0);
  const fs::path config = shop.root / "browser.yml";
  write_text(config,
             "targets:\n  - name: shop\n    database: " + shop.default_database_yaml() +
                 "\n    backup: {dir: " + shop.dir.string() + ", schedule: \"0 2 * * *\"}\n" +
                 restore_test_yaml +
                 "  - name: down\n    database: {host: 127.0.0.1, "
                 "port: " +
                 std::to_string(free_port()) +
                 ", user: postgres, dbname: x, password_env: PGTEST_PASSWORD, connect_timeout: "
                 "2s}\n    backup: {dir: " +
                 down.dir.string() + ", schedule: \"0 2 * * *\"}\n");
  Daemon daemon(config, free_port());
  // shop's next backup is due tomorrow; down has none and fails at once.
  daemon.wait_for_metric(R"(pgbackup_backup_failures_total\{target="down"\} [1-9])");
  daemon.wait_for_metric(R"(pgbackup_database_up\{target="down"\} 0)");
  daemon.wait_for_metric(R"(pgbackup_backup_last_run_success\{target="shop"\} 1)");
  const std::size_t backups = shop.dumps().size();
  REQUIRE(backups == 3);

  const fs::path build_dir = fs::path(PGBACKUP_AGENT_BINARY).parent_path();
  const auto page = chromium(daemon.url("/"), {"--dump-dom"});
  INFO(page.err);
  REQUIRE(page.exit_code == 0);
  const std::string& dom = page.out;

  SECTION("the page loads without console errors (no script errors, no CSP violations)") {
    CHECK(console_messages(page.err).empty());
    CHECK_THAT(dom, Catch::Contains("<h1>pgbackup-agent</h1>"));
  }
  SECTION("each chart has a point per backup; the failed target is critical") {
    CHECK(count(svg_by_id(dom, "size-shop"), "<circle") == backups);
    CHECK(count(svg_by_id(dom, "duration-shop"), "<circle") == backups);
    // Free space: what each backup recorded, and now.
    CHECK(count(svg_by_id(dom, "space-shop"), "<circle") == backups + 1);
    const std::string restore = svg_by_id(dom, "restore-shop");
    CHECK(count(restore, "<circle") == 2);
    CHECK_THAT(restore, Catch::Contains("RTO target 10m"));
    CHECK(count(svg_by_id(dom, "size-down"), "<circle") == 0);
    CHECK_THAT(dom, Catch::Contains("<tr id=\"health-down\" data-level=\"critical\">") &&
                        Catch::Contains("no good backup yet") &&
                        Catch::Contains("the agent cannot connect to the database"));
    const std::regex shop_row(R"re(<tr id="health-shop" data-level="(ok|warning)">)re");
    CHECK(std::regex_search(dom, shop_row));
    // The newest backup's tables with their growth since the one before.
    CHECK(std::regex_search(dom, std::regex(R"(<td>public\.nodes</td><td>50</td><td>0</td>)")));
  }
  SECTION("the console check sees what a broken page logs") {
    const auto broken =
        chromium("data:text/html,<svg><circle r='3/'/></svg><script>console.error('boom')</script>",
                 {"--dump-dom"});
    CHECK(console_messages(broken.err).size() == 2);
  }
  SECTION("screenshots on a desktop and a phone are written to the build directory") {
    for (const auto& [file, size] :
         {std::pair<std::string, std::string>{"status-page.png", "1280,2000"},
          {"status-page-phone.png", "412,2400"}}) {
      const fs::path png = build_dir / file;
      fs::remove(png);
      const auto shot =
          chromium(daemon.url("/"), {"--screenshot=" + png.string(), "--window-size=" + size});
      INFO(shot.err);
      CHECK(shot.exit_code == 0);
      CHECK(console_messages(shot.err).empty());
      REQUIRE(fs::exists(png));
      CHECK(fs::file_size(png) > 20000);
    }
  }
}
