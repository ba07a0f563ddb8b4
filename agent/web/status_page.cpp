#include "agent/web/status_page.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/rules/health.h"
#include "agent/rules/schema_diff.h"
#include "agent/web/status_recovery.h"
#include "agent/web/status_sections.h"
#include "agent/web/svg_chart.h"
#include "version.h"

namespace pgbackup {
namespace {

// A time in the future (clock skew) reads "0s ago".
std::string age(SysTime t, SysTime now) { return format_age(std::min(t, now), now) + " ago"; }

// The off-site row: the last upload attempt and what is still waiting to be copied.
std::string offsite_row(const TargetStatus& t, SysTime now) {
  std::string cell;
  if (!t.offsite_configured) {
    cell = "<span class=muted>not configured</span>";
  } else {
    const auto& a = t.state.offsite;
    cell = !a ? "<span class=muted>no upload yet</span>"
           : a->success
               ? "<span class=ok>last upload succeeded</span> · " + age(a->finished_at, now)
               : "<span class=bad>last upload failed</span>: " + escape_html(a->error) + " · " +
                     age(a->finished_at, now);
    cell += t.offsite_pending
                ? " · <span class=bad>" + std::to_string(t.offsite_pending) + " pending</span>"
                : " · nothing pending";
  }
  return "<tr><th>off-site (S3)</th><td>" + cell + "</td></tr>";
}

// Where a backup's off-site copy is, for the backups table.
std::string offsite_cell(const CatalogEntry& b) {
  if (!b.good() || b.manifest->offsite.empty()) return "-";
  const OffsiteCopy& c = b.manifest->offsite.back();
  return escape_html(c.url) +
         (c.storage_class.empty() ? "" : " (" + escape_html(c.storage_class) + ")");
}

std::string badge(HealthLevel level) {
  const char* name = health_level_name(level);
  return std::string("<span class='badge ") + name + "'>" + name + "</span>";
}

std::string backup_label(const CatalogEntry& b) {
  return b.name() + " (" + format_iso8601(b.started_at) + ")";
}

// Dumps without a readable manifest and a failed last attempt: the failures the charts mark.
std::vector<ChartEvent> backup_failures(const TargetStatus& t) {
  std::vector<ChartEvent> out;
  for (const CatalogEntry& b : t.backups) {
    if (!b.good()) out.push_back({b.started_at, backup_label(b) + ": " + b.problem()});
  }
  if (t.state.backup && !t.state.backup->success) {
    out.push_back({t.state.backup->finished_at, "backup failed at " +
                                                    format_iso8601(t.state.backup->finished_at) +
                                                    ": " + t.state.backup->error});
  }
  return out;
}

// Sizes of the good backups against the anomaly baseline; anomalies and shrunk tables flagged.
Chart size_chart(const TargetStatus& t) {
  Chart c{part_id("size", t), "Backup size and anomaly baseline", ChartUnit::bytes, {}, {}, {}};
  ChartSeries sizes{"backup size", "#2b6cb0", {}, false, true};
  ChartSeries baseline{"anomaly baseline (median)", "#718096", {}, true, false};
  for (const CatalogEntry* b : t.good()) {
    const Manifest& m = *b->manifest;
    std::string label = backup_label(*b) + ": " + format_bytes(b->size_bytes());
    if (m.size_baseline_bytes > 0) label += ", baseline " + format_bytes(m.size_baseline_bytes);
    if (m.size_anomaly) label += " — size anomaly: " + m.size_anomaly_reason;
    if (!m.shrunk_tables.empty()) {
      label += " — " + std::to_string(m.shrunk_tables.size()) + " shrunk table(s)";
    }
    sizes.points.push_back({b->started_at, double(b->size_bytes()), label,
                            m.size_anomaly || !m.shrunk_tables.empty()});
    if (m.size_baseline_bytes > 0) {
      baseline.points.push_back({b->started_at, m.size_baseline_bytes,
                                 "baseline " + format_bytes(m.size_baseline_bytes), false});
    }
  }
  c.series = {sizes, baseline};
  c.failures = backup_failures(t);
  return c;
}

Chart duration_chart(const TargetStatus& t) {
  Chart c{part_id("duration", t), "Backup duration", ChartUnit::seconds, {}, {}, {}};
  ChartSeries d{"backup duration", "#2f855a", {}, false, true};
  for (const CatalogEntry* b : t.good()) {
    const double seconds = b->manifest->duration_seconds;
    d.points.push_back({b->started_at, seconds,
                        backup_label(*b) + ": " + format_chart_value(seconds, ChartUnit::seconds),
                        false});
  }
  c.series = {d};
  c.failures = backup_failures(t);
  return c;
}

// How far back the free-space forecast looks.
constexpr std::chrono::hours kForecastWindow{7 * 24};

// Free space at each backup and now (`history`: space_history), the trend continued towards
// the predicted fill date.
Chart space_chart(const TargetStatus& t, const std::vector<SpaceSample>& history, SysTime now) {
  Chart c{part_id("space", t), "Free space in the backup directory", ChartUnit::bytes, {}, {}, {}};
  ChartSeries avail{"free space", "#dd6b20", {}, false, true};
  for (const SpaceSample& s : history) {
    const bool low =
        t.filesystem.size_bytes > 0 && s.avail_bytes < 0.2 * double(t.filesystem.size_bytes);
    avail.points.push_back({s.at, s.avail_bytes,
                            format_iso8601(s.at) + (s.at == now ? " (now)" : "") + ": " +
                                format_bytes(std::uint64_t(s.avail_bytes)) + " free",
                            low});
  }
  c.series = {avail};
  // The trend drawn ahead for as long as the history reaches back, at most to the fill date.
  if (history.size() >= 2 && history.front().at < now) {
    const auto full = predict_full(history, now, kForecastWindow);
    const auto ahead = std::chrono::duration_cast<std::chrono::seconds>(now - history.front().at);
    const SysTime end = full ? std::min(*full, now + ahead) : now + ahead;
    const auto value = predict_linear(history, now, kForecastWindow,
                                      std::chrono::duration_cast<std::chrono::seconds>(end - now));
    if (value) {
      ChartSeries trend{"trend", "#a0aec0", {}, true, false};
      trend.points = {{now, history.back().avail_bytes, "now", false},
                      {end, std::max(0.0, *value), "trend", false}};
      c.series.push_back(trend);
    }
  }
  if (t.filesystem.size_bytes > 0) {
    c.thresholds.push_back({"20 % free", 0.2 * double(t.filesystem.size_bytes)});
  }
  return c;
}

// "full around 2026-12-20T…" or why there is no date.
std::string fill_forecast(const TargetStatus& t, const std::vector<SpaceSample>& history,
                          SysTime now) {
  const auto full = predict_full(history, now, kForecastWindow);
  if (full) {
    return "<p id='" + escape_html(part_id("fill", t)) +
           "'>At the trend of the last 7 days the backup directory is full around <b>" +
           format_iso8601(*full) + "</b> (in " + format_age(now, *full) + ").</p>";
  }
  return "<p class=muted id='" + escape_html(part_id("fill", t)) + "'>" +
         (predict_linear(history, now, kForecastWindow, std::chrono::seconds(0))
              ? "Free space is not shrinking: no fill date."
              : "No fill date yet: the forecast needs backups that recorded the free space "
                "over at least 42 hours of the last 7 days.") +
         "</p>";
}

// The health summary: one row per target (`health` in the same order), the worst first within
// each row's reasons.
std::string health_summary(const std::vector<TargetStatus>& targets,
                           const std::vector<Health>& health) {
  std::ostringstream html;
  html << "<section id=health><h2>Health</h2><table class=health>"
          "<tr><th>target</th><th>status</th><th>why</th></tr>";
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const TargetStatus& t = targets[i];
    const Health& h = health[i];
    html << "<tr id='" << escape_html(part_id("health", t)) << "' data-level='"
         << health_level_name(h.level) << "'><td><a href='#" << escape_html(part_id("target", t))
         << "'>" << escape_html(t.name) << "</a></td><td>" << badge(h.level) << "</td><td>";
    if (h.findings.empty()) html << "all checks pass";
    for (const HealthFinding& f : h.findings) {
      html << "<div class='" << health_level_name(f.level) << "'>" << escape_html(f.reason)
           << " <span class=muted>(" << escape_html(f.alert) << ")</span></div>";
    }
    html << "</td></tr>";
  }
  html << "</table></section>";
  return html.str();
}

// A backup's restore-test mark, for the backups table.
std::string restore_test_cell(const CatalogEntry& b) {
  if (!b.good() || !b.manifest->restore_test) return "-";
  const RestoreTestMark& r = *b.manifest->restore_test;
  return r.success ? "<span class=ok>passed</span>"
                   : "<span class=bad>failed</span>" +
                         (r.error.empty() ? std::string() : ": " + escape_html(r.error));
}

// Every backup, newest first (at most 30): tier, size, rows, shrunk tables, off-site copy,
// restore-test result and the checks made when it was taken; `keys` flags the encrypted ones no
// key of the identity file opens.
std::string backups_table(const TargetStatus& t, const KeyCoverage& keys, SysTime now) {
  std::ostringstream html;
  html << "<h3>Backups</h3><div class=scroll><table id='" << escape_html(part_id("backups", t))
       << "' "
          "class=wide><tr><th>backup</th><th>taken</th><th>tier</th><th>size</th><th>encrypted</th>"
          "<th>duration</th><th>rows</th><th>shrunk tables</th><th>off-site</th><th>restore "
          "test</th>"
          "<th>checks</th></tr>";
  int shown = 0;
  for (auto it = t.backups.rbegin(); it != t.backups.rend() && shown < 30; ++it, ++shown) {
    const CatalogEntry& b = *it;
    html << "<tr><td>" << escape_html(b.name()) << "</td><td>" << age(b.started_at, now) << "</td>";
    if (!b.good()) {
      html << "<td>-</td><td>" << format_bytes(b.file_size)
           << "</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td class=bad>"
           << escape_html(b.problem()) << "</td></tr>";
      continue;
    }
    const Manifest& m = *b.manifest;
    std::string shrunk;
    for (const ShrunkTable& st : m.shrunk_tables) {
      shrunk += escape_html(st.schema + "." + st.name) + " " + std::to_string(st.previous_rows) +
                " → " + std::to_string(st.rows) + "<br>";
    }
    html << "<td>" << tier_name(b.tier()) << "</td><td>" << format_bytes(b.size_bytes())
         << "</td><td>" << (b.encrypted() ? escape_html(encryption_summary(b)) : std::string("no"))
         << (unopenable(keys, b.name()) ? " <span class=bad>(no key here opens it)</span>" : "")
         << "</td><td>" << format_chart_value(m.duration_seconds, ChartUnit::seconds) << "</td><td>"
         << m.total_rows() << "</td><td" << (shrunk.empty() ? ">-" : " class=bad>" + shrunk)
         << "</td><td>" << offsite_cell(b) << "</td><td>" << restore_test_cell(b) << "</td>"
         << (m.size_anomaly ? "<td class=bad>" + escape_html(m.size_anomaly_reason)
                            : std::string("<td class=ok>ok"))
         << "</td></tr>";
  }
  html << "</table></div>";
  return html.str();
}

// Page-wide styles: readable from a phone up, no external assets.
constexpr char kStyle[] =
    "*{box-sizing:border-box}"
    "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:1em;color:#1a202c;"
    "max-width:1200px}"
    "h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:.3em 0}h3{font-size:1.05em}"
    "table{border-collapse:collapse;width:100%;margin:.5em 0}"
    "td,th{padding:4px 8px;border-bottom:1px solid #e2e8f0;text-align:left;vertical-align:top}"
    "th{background:#f7fafc;font-weight:600}"
    ".scroll{overflow-x:auto}table.wide{min-width:640px}"
    ".facts td{overflow-wrap:anywhere}.health td:nth-child(-n+2){width:1%;white-space:nowrap}"
    ".ok{color:#2f855a}.bad,.critical{color:#c53030;font-weight:600}.warning{color:#b7791f}"
    ".muted{color:#718096}"
    ".badge{display:inline-block;white-space:nowrap;padding:1px "
    "10px;border-radius:10px;color:#fff;font-weight:600}"
    ".badge.ok{background:#2f855a}.badge.warning{background:#d69e2e}"
    ".badge.critical{background:#c53030}"
    ".card{border:1px solid #e2e8f0;border-radius:8px;padding:1em;margin:1em 0}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));"
    "gap:1em}"
    "figure.chart{margin:0;border:1px solid #edf2f7;border-radius:6px;padding:.5em}"
    "figcaption{font-weight:600;margin-bottom:.3em}"
    "svg{width:100%;height:auto;display:block;font-size:11px;fill:#4a5568}"
    "svg .grid{stroke:#edf2f7}svg .threshold line{stroke:#c53030;stroke-dasharray:6 4}"
    "svg .threshold text{fill:#c53030}svg text.muted{fill:#718096}"
    ".legend{font-size:.85em;color:#4a5568}.legend span{margin-right:1em;white-space:nowrap}"
    ".legend i{display:inline-block;width:18px;border-top:3px solid;margin-right:4px;"
    "vertical-align:middle}.legend i.dashed{border-top-style:dashed}"
    ".legend i.threshold{border-top:2px dashed #c53030}"
    ".legend i.flag{width:10px;height:10px;border:0;border-radius:5px;background:#c53030}"
    "@media (max-width:600px){body{padding:.5em;font-size:14px}td,th{padding:3px 5px}"
    "svg{font-size:15px}}";

}  // namespace

std::string render_status_page(const std::vector<TargetStatus>& targets, SysTime now) {
  std::ostringstream html;
  // The policy makes the page's promise checkable: no script and nothing fetched from
  // elsewhere (a browser reports any attempt as a console error).
  html << "<!doctype html><html lang=en><head><meta charset=utf-8>"
          "<meta name=viewport content='width=device-width,initial-scale=1'>"
          "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\"><link rel=icon href='data:,'>"
          "<meta http-equiv=refresh content=60><title>pgbackup-agent</title><style>"
       << kStyle << "</style></head><body><h1>pgbackup-agent</h1><p class=muted>version "
       << escape_html(kVersion) << " (" << escape_html(kRevision) << ") · " << format_iso8601(now)
       << " · <a href='/metrics'>metrics</a> · <a href='/api/v1/status'>status JSON</a></p>";
  std::vector<Health> healths;
  for (const TargetStatus& t : targets)
    healths.push_back(assess_health(health_signals(t, now), now));
  html << health_summary(targets, healths);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const TargetStatus& t = targets[i];
    const CatalogEntry* newest = t.newest_good();
    const Health& health = healths[i];
    const std::vector<SpaceSample> space = space_history(t, now);
    const KeyCoverage keys = assess_key_coverage(t.backups, t.identity);
    html << "<section class=card id='" << escape_html(part_id("target", t)) << "'><h2>"
         << escape_html(t.name) << " " << badge(health.level)
         << "</h2><div class=scroll><table class=facts>";
    html << "<tr><th>newest good backup</th><td>"
         << (newest ? escape_html(newest->name()) + " · " + age(newest->finished_at(), now) +
                          " · " + format_bytes(newest->size_bytes())
                    : "<span class=bad>none</span>")
         << "</td></tr>";
    html << "<tr><th>last attempt</th><td>";
    if (t.state.backup) {
      html << (t.state.backup->success
                   ? "<span class=ok>succeeded</span>"
                   : "<span class=bad>failed</span>: " + escape_html(t.state.backup->error))
           << " · " << age(t.state.backup->finished_at, now);
    } else {
      html << (newest ? "" : "<span class=muted>never</span>");
    }
    if (t.backup_in_progress()) html << " · <b>backup running</b>";
    html << "</td></tr><tr><th>next run</th><td>"
         << (t.runtime.next_backup ? format_iso8601(*t.runtime.next_backup) : "-") << "</td></tr>";
    html << "<tr><th>database</th><td>"
         << (!t.runtime.database_up   ? "<span class=muted>not probed yet</span>"
             : *t.runtime.database_up ? "<span class=ok>up</span>"
                                      : "<span class=bad>down</span>")
         << "</td></tr>";
    html << recovery_rows(t, now);
    const double free_ratio =
        t.filesystem.size_bytes ? double(t.filesystem.avail_bytes) / double(t.filesystem.size_bytes)
                                : 0;
    html << "<tr><th>free space</th><td class='" << (free_ratio < 0.2 ? "bad" : "") << "'>"
         << format_bytes(t.filesystem.avail_bytes) << " of "
         << format_bytes(t.filesystem.size_bytes) << " (" << int(free_ratio * 100) << "%) in "
         << escape_html(t.backup_dir) << "</td></tr>";
    html << offsite_row(t, now) << encryption_keys_row(keys) << "</table></div>";
    html << "<div class=charts>" << render_chart(size_chart(t)) << render_chart(duration_chart(t))
         << render_chart(restore_chart(t)) << render_chart(space_chart(t, space, now)) << "</div>"
         << fill_forecast(t, space, now);
    html << backups_table(t, keys, now) << tables_table(t) << hypertables_table(t)
         << schema_changes_section(t) << restore_test_history(t) << "</section>";
  }
  html << "</body></html>\n";
  return html.str();
}

nlohmann::json status_json(const std::vector<TargetStatus>& targets, SysTime now) {
  nlohmann::json out = {{"version", kVersion},
                        {"revision", kRevision},
                        {"time", format_iso8601(now)},
                        {"targets", nlohmann::json::array()}};
  for (const TargetStatus& t : targets) {
    nlohmann::json backups = nlohmann::json::array();
    for (const CatalogEntry& b : t.backups) {
      nlohmann::json j = {{"file", b.name()},
                          {"started_at", format_iso8601(b.started_at)},
                          {"size_bytes", b.file_size},
                          {"good", b.good()}};
      if (b.good()) {
        j["tier"] = tier_name(b.tier());
        j["rows"] = b.manifest->total_rows();
        j["duration_seconds"] = b.manifest->duration_seconds;
        j["size_anomaly"] = b.manifest->size_anomaly;
        j["encrypted"] = b.encrypted();
        j["shrunk_tables"] = b.manifest->shrunk_tables.size();
        j["schema_changes"] = schema_changes_to_json(b.manifest->schema_changes);
        j["hypertables"] = nlohmann::json::array();
        for (const TableRows& h : b.manifest->tables) {
          if (h.kind != RelationKind::hypertable) continue;
          j["hypertables"].push_back({{"name", h.schema + "." + h.name},
                                      {"rows", h.rows},
                                      {"chunks", h.chunks},
                                      {"compressed_chunks", h.compressed_chunks}});
        }
        j["offsite"] = nlohmann::json::array();
        for (const OffsiteCopy& c : b.manifest->offsite) j["offsite"].push_back(c.url);
      }
      backups.push_back(j);
    }
    nlohmann::json target = {
        {"name", t.name},
        {"backup_dir", t.backup_dir},
        {"backup_in_progress", t.backup_in_progress()},
        {"next_backup", t.runtime.next_backup ? format_iso8601(*t.runtime.next_backup) : ""},
        {"database_up", t.runtime.database_up.value_or(false)},
        {"repository",
         {{"avail_bytes", t.filesystem.avail_bytes}, {"size_bytes", t.filesystem.size_bytes}}},
        {"backups", backups}};
    target.update(recovery_json(t));
    target["encryption_keys"] = key_coverage_json(assess_key_coverage(t.backups, t.identity));
    const Health health = assess_health(health_signals(t, now), now);
    target["health"] = {{"level", health_level_name(health.level)},
                        {"findings", nlohmann::json::array()}};
    for (const HealthFinding& f : health.findings) {
      target["health"]["findings"].push_back(
          {{"alert", f.alert}, {"severity", health_level_name(f.level)}, {"reason", f.reason}});
    }
    if (const auto full = predict_full(space_history(t, now), now, kForecastWindow)) {
      target["repository"]["predicted_full_at"] = format_iso8601(*full);
    }
    nlohmann::json restore_tests = nlohmann::json::array();
    for (const RestoreTestReport& r : t.restore_tests) restore_tests.push_back(report_to_json(r));
    target["restore_tests"] = restore_tests;
    target["restore_test_in_progress"] = t.runtime.restore_test_in_progress;
    target["next_restore_test"] =
        t.runtime.next_restore_test ? format_iso8601(*t.runtime.next_restore_test) : "";
    if (t.state.backup) {
      target["last_attempt"] = {{"finished_at", format_iso8601(t.state.backup->finished_at)},
                                {"success", t.state.backup->success},
                                {"error", t.state.backup->error}};
    }
    if (t.offsite_configured) {
      target["offsite"] = {{"pending_backups", t.offsite_pending}};
      if (t.state.offsite) {
        target["offsite"]["last_attempt"] = {
            {"finished_at", format_iso8601(t.state.offsite->finished_at)},
            {"success", t.state.offsite->success},
            {"error", t.state.offsite->error}};
      }
    }
    out["targets"].push_back(target);
  }
  return out;
}

}  // namespace pgbackup
