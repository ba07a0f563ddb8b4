// The status page's restore tests: their history and the measured-RTO chart.
#include <cstdio>
#include <sstream>

#include "agent/core/text.h"
#include "agent/web/status_sections.h"

namespace pgbackup {
namespace {

// "12m 30s of 30m" with the class saying whether the measured RTO met its target.
std::string rto_cell(const RestoreTestReport& r) {
  char text[96];
  std::snprintf(text, sizeof text, "%.1fs of %.0fs", r.duration_seconds, r.rto_target_seconds);
  const bool met = r.duration_seconds <= r.rto_target_seconds;
  char split[128] = "";
  if (r.restore_seconds && r.replay_seconds && r.checks_seconds) {
    std::snprintf(split, sizeof split, "<br>restore %.1fs, replay %.1fs, checks %.1fs",
                  *r.restore_seconds, *r.replay_seconds, *r.checks_seconds);
  }
  return std::string("<td class='") + (met ? "ok" : "bad") + "'>" + text +
         (met ? "" : " (over target)") + split + "</td>";
}

}  // namespace

// The restore-test history, newest first: when, which backup, the result, the measured RTO
// against its target, and what went wrong.
std::string restore_test_history(const TargetStatus& t) {
  std::ostringstream html;
  html << "<h3>Restore tests</h3>";
  if (t.runtime.restore_test_in_progress) html << "<p><b>restore test running</b></p>";
  if (t.runtime.next_restore_test) {
    html << "<p class=muted>next: " << format_iso8601(*t.runtime.next_restore_test) << "</p>";
  }
  if (t.restore_tests.empty()) {
    html << "<p class=muted>No restore test has run yet"
         << (t.restore_test_rto_target_seconds > 0 ? "." : " (no restore_test configured).")
         << "</p>";
    return html.str();
  }
  html << "<table><tr><th>finished</th><th>backup</th><th>result</th><th>measured RTO</th>"
          "<th>findings</th></tr>";
  for (const RestoreTestReport& r : t.restore_tests) {
    std::string findings;
    if (!r.error.empty()) findings += escape_html(r.error) + "<br>";
    for (const std::string& m : r.mismatched_tables) findings += escape_html(m) + "<br>";
    for (const std::string& d : r.schema_differences) {
      findings += "schema: " + escape_html(d) + "<br>";
    }
    for (const std::string& c : r.failed_checks) findings += "check " + escape_html(c) + "<br>";
    html << "<tr><td>" << format_iso8601(r.finished_at) << "</td><td>"
         << escape_html(r.backup.empty() ? "-" : r.backup)
         << (r.recovery_target.empty() ? "" : "<br>to " + escape_html(r.recovery_target))
         << "</td><td>"
         << (r.success ? "<span class=ok>passed</span>" : "<span class=bad>failed</span>")
         << "</td>" << rto_cell(r) << "<td>" << (findings.empty() ? "-" : findings) << "</td></tr>";
  }
  html << "</table>";
  return html.str();
}

// Measured recovery times against the RTO target; failed or too slow tests flagged.
Chart restore_chart(const TargetStatus& t) {
  Chart c{part_id("restore", t),
          "Restore-test duration (measured RTO)",
          ChartUnit::seconds,
          {},
          {},
          {}};
  ChartSeries d{"restore-test duration", "#6b46c1", {}, false, true};
  for (auto it = t.restore_tests.rbegin(); it != t.restore_tests.rend(); ++it) {
    const RestoreTestReport& r = *it;
    const bool slow = r.rto_target_seconds > 0 && r.duration_seconds > r.rto_target_seconds;
    std::string label = format_iso8601(r.finished_at) + " " + (r.backup.empty() ? "-" : r.backup) +
                        ": " + format_chart_value(r.duration_seconds, ChartUnit::seconds) +
                        (r.success ? ", passed" : ", failed");
    if (!r.error.empty()) label += ": " + r.error;
    if (slow) label += " — over the RTO target";
    d.points.push_back({r.finished_at, r.duration_seconds, label, !r.success || slow});
  }
  c.series = {d};
  if (t.restore_test_rto_target_seconds > 0) {
    c.thresholds.push_back({"RTO target", t.restore_test_rto_target_seconds});
  }
  return c;
}

}  // namespace pgbackup
