// The status page's inline SVG charts.
#include <catch2/catch.hpp>

#include <regex>

#include "agent/web/svg_chart.h"

using namespace pgbackup;
using namespace std::chrono_literals;

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

const SysTime kStart = *parse_iso8601("2026-02-01T02:00:00Z");

}  // namespace

TEST_CASE("a chart draws one titled circle per point, flagged points in red") {
  Chart c{"size-shop", "Backup size", ChartUnit::bytes, {}, {}, {}};
  ChartSeries s{"size", "#2b6cb0", {}, false, true};
  for (int day = 0; day < 5; ++day) {
    s.points.push_back({kStart + std::chrono::hours(24 * day), 1048576.0 * (10 + day),
                        "backup " + std::to_string(day), day == 3});
  }
  ChartSeries baseline{"baseline", "#718096", {}, true, false};
  baseline.points = {{kStart + 24h, 10485760, "10 MiB"}, {kStart + 96h, 11534336, "11 MiB"}};
  c.series = {s, baseline};
  c.failures = {{kStart + 120h, "backup failed: pg_dump exited with status 1"}};
  const std::string svg = render_chart(c);
  CHECK(count(svg, "<circle") == 5);
  CHECK(count(svg, "class='point flagged'") == 1);
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(svg, "stroke-dasharray='5 4'") == 1);
  CHECK(count(svg, "<g class=failure>") == 1);
  CHECK_THAT(svg,
             Catch::Contains("<title>backup 3</title>") &&
                 Catch::Contains("<title>backup failed: pg_dump exited with status 1</title>") &&
                 Catch::Contains("id='size-shop'"));
  SECTION("the axes are labelled: dates over six days, sizes in MiB") {
    CHECK_THAT(svg, Catch::Contains(">02-01<") && Catch::Contains(" MiB</text>") &&
                        Catch::Contains("time (UTC), 2026-02-01 to 2026-02-06"));
    // Ticks from 0 to at least the largest value: 14 MiB under a round top of 15 or 16.
    CHECK_THAT(svg, Catch::Contains(">0 MiB</text>"));
    CHECK(std::regex_search(svg, std::regex(">1[56] MiB</text>")));
  }
}

TEST_CASE("a chart's threshold is drawn and labelled, and the value axis reaches it") {
  Chart c{"restore-shop", "Restore tests", ChartUnit::seconds, {}, {}, {}};
  ChartSeries s{"restore", "#6b46c1", {}, false, true};
  s.points = {{kStart, 600, "a"}, {kStart + 1h, 700, "b"}};
  c.series = {s};
  c.thresholds = {{"RTO target", 1800}};
  const std::string svg = render_chart(c);
  CHECK_THAT(svg, Catch::Contains("RTO target 30m") && Catch::Contains(">30 min</text>") &&
                      Catch::Contains(">02:00<"));
}

TEST_CASE("a chart escapes every text it prints") {
  Chart c{"x'><script>", "<b>title</b>", ChartUnit::bytes, {}, {}, {}};
  ChartSeries s{"<i>name</i>", "red' onload='x", {}, false, true};
  s.points = {{kStart, 5, "</title><script>alert(1)</script>"}};
  c.series = {s};
  c.thresholds = {{"<u>limit</u>", 10}};
  c.failures = {{kStart, "<img src=x onerror=alert(1)>"}};
  const std::string svg = render_chart(c);
  CHECK_THAT(svg, !Catch::Contains("<script>") && !Catch::Contains("<b>") &&
                      !Catch::Contains("<i>name") && !Catch::Contains("<u>") &&
                      !Catch::Contains("<img") && !Catch::Contains("' onload='") &&
                      Catch::Contains("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
}

TEST_CASE("a chart without points says there is no data yet") {
  Chart c{"space-shop", "Free space", ChartUnit::bytes, {}, {}, {}};
  c.series = {{"free", "#dd6b20", {}, false, true}};
  const std::string html = render_chart(c);
  CHECK_THAT(html, Catch::Contains("No data yet") && !Catch::Contains("<svg"));
}
