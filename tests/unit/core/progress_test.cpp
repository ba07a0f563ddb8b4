#include "agent/core/progress.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/support/terminal_screen.h"

using namespace std::chrono_literals;
using pgbackup::format_progress;
using pgbackup::ManualClock;
using pgbackup::ProgressLine;
using pgbackup::ProgressState;
using pgbackup::ProgressUnit;
using pgbackup::TerminalProgress;
using pgtest::screen_rows;

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

ProgressState state(std::string task, ProgressUnit unit, std::uint64_t done,
                    std::optional<std::uint64_t> total, bool estimate, std::string current,
                    std::chrono::duration<double> elapsed) {
  return {std::move(task), unit, done, total, estimate, std::move(current), elapsed};
}

}  // namespace

TEST_CASE("a progress line says what is done of how much, how fast and for how long") {
  struct Case {
    ProgressState in;
    std::size_t width;
    std::string out;
  };
  const std::vector<Case> cases = {
      // A dump against the database's size: an estimate, so no percentage.
      {state("backup pnode", ProgressUnit::bytes, 12 * kMiB, 1229 * kMiB, true, "", 4s), 0,
       "backup pnode: 12 MiB of ~1.2 GiB, 3.0 MiB/s, 4s"},
      // An upload of a file of known size.
      {state("upload p.dump", ProgressUnit::bytes, 40 * kMiB, 92 * kMiB, false, "", 5s), 0,
       "upload p.dump: 40 MiB of 92 MiB (43%), 8.0 MiB/s, 5s"},
      // Under a second: no rate yet.
      {state("verify p.dump", ProgressUnit::bytes, 512, 2048, false, "", 0.5s), 0,
       "verify p.dump: 512 B of 2.0 KiB (25%), 0s"},
      // A restore counts the archive's items, with what it is working on.
      {state("restore p.dump", ProgressUnit::items, 120, 450, false, "public.node_metrics", 65s), 0,
       "restore p.dump: 120 of 450 items (26%), public.node_metrics, 1m5s"},
      // A partial restore's total is unknown.
      {state("restore p.dump", ProgressUnit::items, 37, std::nullopt, false, "public.nodes", 2s), 0,
       "restore p.dump: 37 items, public.nodes, 2s"},
      // More done than the total says (skipped ACLs counted, say): never above 100%.
      {state("restore p.dump", ProgressUnit::items, 12, 10, false, "", 1s), 0,
       "restore p.dump: 12 of 10 items (100%), 1s"},
      // Too wide: the current item is cut first...
      {state("restore p.dump", ProgressUnit::items, 120, 450, false,
             "public.a_table_with_a_very_long_name", 65s),
       60, "restore p.dump: 120 of 450 items (26%), public.a_ta..., 1m5s"},
      // ...and dropped when there is no room for even a few of its characters...
      {state("restore p.dump", ProgressUnit::items, 120, 450, false, "public.nodes", 65s), 48,
       "restore p.dump: 120 of 450 items (26%), 1m5s"},
      // ...then the line itself is cut.
      {state("restore p.dump", ProgressUnit::items, 120, 450, false, "", 65s), 20,
       "restore p.dump: 1..."},
  };
  for (const Case& c : cases) {
    INFO(c.out);
    const std::string line = format_progress(c.in, c.width);
    CHECK(line == c.out);
    if (c.width > 0) CHECK(line.size() <= c.width);
  }
}

TEST_CASE("the terminal line is redrawn at most once per interval and ended with a newline") {
  ManualClock clock(pgbackup::SysTime{});
  std::string written;
  int writes = 0;
  TerminalProgress progress(
      [&](std::string_view s) {
        written += s;
        ++writes;
      },
      clock, 80, 100ms);
  {
    ProgressLine line(&progress, "backup pnode", ProgressUnit::bytes, 10 * kMiB, true);
    CHECK(writes == 0);  // nothing until something happened
    line.update(1 * kMiB);
    CHECK(writes == 1);  // the first update draws at once
    clock.advance(50ms);
    line.update(2 * kMiB);
    line.update(3 * kMiB);
    CHECK(writes == 1);  // within the interval: remembered, not drawn
    clock.advance(50ms);
    line.update(4 * kMiB);
    CHECK(writes == 2);
    clock.advance(900ms);
    line.add(1 * kMiB);  // 5 MiB
    clock.advance(10ms);
    line.add(1 * kMiB);  // 6 MiB, not drawn yet
  }                      // finish: the last state, then the newline
  CHECK(writes == 5);
  CHECK(written.back() == '\n');
  CHECK(written.find("\r\x1b[K") == std::string::npos);
  const std::vector<std::string> rows = screen_rows(written);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == "backup pnode: 6.0 MiB of ~10 MiB, 5.9 MiB/s, 1s");
  CHECK(rows[1].empty());
}

TEST_CASE("a shorter line erases what the longer one before it left on the row") {
  ManualClock clock(pgbackup::SysTime{});
  std::string written;
  TerminalProgress progress([&](std::string_view s) { written += s; }, clock, 80, 100ms);
  ProgressLine line(&progress, "restore p.dump", ProgressUnit::items, 10);
  line.update(1, "public.a_rather_long_table_name");
  clock.advance(100ms);
  line.update(2, "public.b");
  CHECK(screen_rows(written) ==
        std::vector<std::string>{"restore p.dump: 2 of 10 items (20%), public.b, 0s"});
}

TEST_CASE("a step that reports nothing leaves nothing on the terminal, and no Progress is fine") {
  ManualClock clock(pgbackup::SysTime{});
  std::string written;
  TerminalProgress progress([&](std::string_view s) { written += s; }, clock, 80);
  { ProgressLine line(&progress, "verify p.dump", ProgressUnit::bytes, 100); }
  CHECK(written.empty());
  // An update after the line ended (a late callback) draws nothing either.
  progress.update(5, "");
  CHECK(written.empty());

  ProgressLine none(nullptr, "backup pnode", ProgressUnit::bytes);
  none.add(7);
  none.add(8);
  CHECK(none.done() == 15);
}

TEST_CASE("lines never reach the last column, so the terminal does not wrap them") {
  ManualClock clock(pgbackup::SysTime{});
  std::string written;
  TerminalProgress progress([&](std::string_view s) { written += s; }, clock, 30);
  {
    ProgressLine line(&progress, "restore pnode_20261206_020000.dump", ProgressUnit::items, 450);
    line.update(120, "public.node_metrics");
  }
  const std::vector<std::string> rows = screen_rows(written);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].size() == 29);
  CHECK(rows[0] == "restore pnode_20261206_020...");
}

TEST_CASE("a log message takes the line off its row, and the next update draws it below it") {
  ManualClock clock(pgbackup::SysTime{});
  std::string written;
  TerminalProgress progress([&](std::string_view s) { written += s; }, clock, 80, 100ms);
  {
    ProgressLine line(&progress, "upload p.dump", ProgressUnit::bytes, 100);
    line.update(10);
    progress.clear();
    written += "warning: S3 PUT failed, retrying\n";  // what the log sink writes next
    progress.clear();                                 // a second message: nothing to clear
    line.update(20);  // within the interval, but the row is empty: drawn at once
    progress.clear();
  }  // finish draws the cleared line again before ending it
  CHECK(screen_rows(written) == std::vector<std::string>{"warning: S3 PUT failed, retrying",
                                                         "upload p.dump: 20 B of 100 B (20%), 0s",
                                                         ""});
}
