#include "agent/web/status_page.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "agent/core/units.h"
#include "agent/rules/schema_diff.h"
#include "version.h"

namespace pgbackup {
namespace {

std::string escape_html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A time in the future (clock skew) reads "0s ago".
std::string age(SysTime t, SysTime now) { return format_age(std::min(t, now), now) + " ago"; }

// Sizes of the good backups over time, the anomaly baseline as a dashed line, anomalies in red.
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
std::string offsite_cell(const BackupEntry& b) {
  if (!b.good() || b.manifest->offsite.empty()) return "-";
  const OffsiteCopy& c = b.manifest->offsite.back();
  return escape_html(c.url) +
         (c.storage_class.empty() ? "" : " (" + escape_html(c.storage_class) + ")");
}

std::string size_chart(const TargetStatus& t) {
  const auto good = t.good();
  if (good.size() < 2) return "<p class=muted>The size chart appears after two backups.</p>";
  const double w = 640, h = 160, pad = 30;
  const double t0 = to_unix_seconds(good.front()->started_at);
  const double t1 = std::max(to_unix_seconds(good.back()->started_at), t0 + 1);
  double max_size = 1;
  for (const BackupEntry* b : good) {
    max_size =
        std::max({max_size, double(b->manifest->size_bytes), b->manifest->size_baseline_bytes});
  }
  auto x = [&](SysTime at) { return pad + (to_unix_seconds(at) - t0) / (t1 - t0) * (w - 2 * pad); };
  auto y = [&](double v) { return h - pad - v / max_size * (h - 2 * pad); };
  std::ostringstream svg;
  svg << "<svg viewBox='0 0 " << w << " " << h << "' width='" << w << "' height='" << h
      << "' role='img' aria-label='backup sizes over time'>";
  svg << "<line x1='" << pad << "' y1='" << h - pad << "' x2='" << w - pad << "' y2='" << h - pad
      << "' stroke='#999'/>";
  std::string sizes, baseline;
  for (const BackupEntry* b : good) {
    char pt[64];
    std::snprintf(pt, sizeof pt, "%.1f,%.1f ", x(b->started_at),
                  y(double(b->manifest->size_bytes)));
    sizes += pt;
    if (b->manifest->size_baseline_bytes > 0) {
      std::snprintf(pt, sizeof pt, "%.1f,%.1f ", x(b->started_at),
                    y(b->manifest->size_baseline_bytes));
      baseline += pt;
    }
  }
  svg << "<polyline fill='none' stroke='#2b6cb0' stroke-width='2' points='" << sizes << "'/>";
  if (!baseline.empty()) {
    svg << "<polyline fill='none' stroke='#888' stroke-dasharray='4 3' points='" << baseline
        << "'/>";
  }
  for (const BackupEntry* b : good) {
    const bool bad = b->manifest->size_anomaly || !b->manifest->shrunk_tables.empty();
    svg << "<circle cx='" << x(b->started_at) << "' cy='" << y(double(b->manifest->size_bytes))
        << "' r='" << (bad ? 5 : 3) << "' fill='" << (bad ? "#c53030" : "#2b6cb0") << "'><title>"
        << escape_html(b->dump.filename().string()) << ": " << format_bytes(b->manifest->size_bytes)
        << (b->manifest->size_anomaly ? " — size anomaly" : "")
        << (b->manifest->shrunk_tables.empty() ? "" : " — shrunk tables") << "</title></circle>";
  }
  svg << "<text x='" << pad << "' y='14' font-size='11'>max "
      << format_bytes(std::uint64_t(max_size))
      << " — solid: size, dashed: baseline, red: anomaly or shrunk tables</text></svg>";
  return svg.str();
}

// "12m 30s of 30m" with the class saying whether the measured RTO met its target.
std::string rto_cell(const RestoreTestReport& r) {
  char text[96];
  std::snprintf(text, sizeof text, "%.1fs of %.0fs", r.duration_seconds, r.rto_target_seconds);
  const bool met = r.duration_seconds <= r.rto_target_seconds;
  return std::string("<td class='") + (met ? "ok" : "bad") + "'>" + text +
         (met ? "" : " (over target)") + "</td>";
}

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
         << escape_html(r.backup.empty() ? "-" : r.backup) << "</td><td>"
         << (r.success ? "<span class=ok>passed</span>" : "<span class=bad>failed</span>")
         << "</td>" << rto_cell(r) << "<td>" << (findings.empty() ? "-" : findings) << "</td></tr>";
  }
  html << "</table>";
  return html.str();
}

// The newest good backup's TimescaleDB hypertables (rows, chunks, compressed chunks) and
// continuous aggregates; nothing for a database without them.
std::string hypertables_table(const TargetStatus& t) {
  const BackupEntry* newest = t.newest_good();
  if (!newest || newest->manifest->hypertable_count() == 0) return "";
  std::ostringstream html;
  html << "<table><tr><th>hypertable (newest backup)</th><th>rows</th><th>chunks</th>"
          "<th>compressed</th></tr>";
  for (const TableRows& h : newest->manifest->tables) {
    if (h.kind != RelationKind::hypertable) continue;
    html << "<tr><td>" << escape_html(h.schema + "." + h.name) << "</td><td>" << h.rows
         << "</td><td>" << h.chunks << "</td><td>" << h.compressed_chunks << "</td></tr>";
  }
  for (const TableRows& a : newest->manifest->continuous_aggregates) {
    html << "<tr><td>" << escape_html(a.schema + "." + a.name) << " (continuous aggregate of "
         << escape_html(a.hypertable) << ")</td><td>" << a.rows << "</td><td></td><td></td></tr>";
  }
  html << "</table>";
  return html.str();
}

// The schema changes of the newest good backup against the good backup before it.
std::string schema_changes_section(const TargetStatus& t) {
  const BackupEntry* newest = t.newest_good();
  if (!newest) return "";
  const Manifest& m = *newest->manifest;
  std::ostringstream html;
  html << "<h3>Schema changes (newest backup)</h3>";
  if (!m.schema) {
    html << "<p class=muted>The newest backup has no schema fingerprint.</p>";
    return html.str();
  }
  if (m.schema_compared_with.empty()) {
    html << "<p class=muted>Nothing to compare with: no earlier backup with a schema "
            "fingerprint.</p>";
    return html.str();
  }
  const SchemaChangeCounts counts = count_changes(m.schema_changes);
  html << "<p" << (counts.dropped ? " class=bad" : "") << ">"
       << escape_html(summarize_changes(counts)) << " since " << escape_html(m.schema_compared_with)
       << "</p>";
  if (m.schema_changes.empty()) return html.str();
  html << "<table><tr><th>change</th><th>object</th><th>detail</th></tr>";
  for (const SchemaChange& c : m.schema_changes) {
    html << "<tr><td" << (c.change == SchemaChangeType::dropped ? " class=bad" : "") << ">"
         << schema_change_type_name(c.change) << "</td><td>" << escape_html(c.kind + " " + c.name)
         << "</td><td>" << escape_html(c.detail) << "</td></tr>";
  }
  html << "</table>";
  return html.str();
}

}  // namespace

std::string render_status_page(const std::vector<TargetStatus>& targets, SysTime now) {
  std::ostringstream html;
  html
      << "<!doctype html><html lang=en><head><meta charset=utf-8>"
         "<meta http-equiv=refresh content=30><title>pgbackup-agent</title><style>"
         "body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:1000px}"
         "table{border-collapse:collapse;width:100%;margin:.5em 0}"
         "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}"
         "th{background:#f4f4f4}.ok{color:#2f855a}.bad{color:#c53030;font-weight:600}"
         ".muted{color:#888}.card{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}"
         "</style></head><body><h1>pgbackup-agent</h1><p class=muted>version "
      << kVersion << " (" << kRevision << ") · " << format_iso8601(now)
      << " · <a href='/metrics'>metrics</a> · <a href='/api/v1/status'>status JSON</a></p>";
  for (const TargetStatus& t : targets) {
    const BackupEntry* newest = t.newest_good();
    const bool last_ok = t.state.backup ? t.state.backup->success : newest != nullptr;
    html << "<div class=card><h2>" << escape_html(t.name) << "</h2><table>";
    html << "<tr><th>newest good backup</th><td>"
         << (newest ? escape_html(newest->dump.filename().string()) + " · " +
                          age(newest->manifest->finished_at, now) + " · " +
                          format_bytes(newest->manifest->size_bytes)
                    : "<span class=bad>none</span>")
         << "</td></tr>";
    html << "<tr><th>last attempt</th><td>";
    if (t.state.backup) {
      html << (t.state.backup->success
                   ? "<span class=ok>succeeded</span>"
                   : "<span class=bad>failed</span>: " + escape_html(t.state.backup->error))
           << " · " << age(t.state.backup->finished_at, now);
    } else {
      html << (last_ok ? "" : "<span class=muted>never</span>");
    }
    if (t.backup_in_progress()) html << " · <b>backup running</b>";
    html << "</td></tr><tr><th>next run</th><td>"
         << (t.runtime.next_backup ? format_iso8601(*t.runtime.next_backup) : "-") << "</td></tr>";
    html << "<tr><th>database</th><td>"
         << (!t.runtime.database_up   ? "<span class=muted>not probed yet</span>"
             : *t.runtime.database_up ? "<span class=ok>up</span>"
                                      : "<span class=bad>down</span>")
         << "</td></tr>";
    const double free_ratio =
        t.filesystem.size_bytes ? double(t.filesystem.avail_bytes) / double(t.filesystem.size_bytes)
                                : 0;
    html << "<tr><th>free space</th><td class='" << (free_ratio < 0.2 ? "bad" : "") << "'>"
         << format_bytes(t.filesystem.avail_bytes) << " of "
         << format_bytes(t.filesystem.size_bytes) << " (" << int(free_ratio * 100) << "%) in "
         << escape_html(t.backup_dir) << "</td></tr>";
    html << offsite_row(t, now);
    html << "</table>" << size_chart(t);
    html << "<table><tr><th>backup</th><th>tier</th><th>size</th><th>age</th><th>rows</th>"
            "<th>checks</th><th>off-site</th></tr>";
    int shown = 0;
    for (auto it = t.backups.rbegin(); it != t.backups.rend() && shown < 15; ++it, ++shown) {
      const BackupEntry& b = *it;
      std::string checks = "<span class=ok>ok</span>";
      if (!b.good()) {
        checks = "<span class=bad>" + escape_html(b.manifest_error) + "</span>";
      } else if (b.manifest->size_anomaly || !b.manifest->shrunk_tables.empty()) {
        checks = "<span class=bad>";
        if (b.manifest->size_anomaly) checks += escape_html(b.manifest->size_anomaly_reason) + " ";
        for (const ShrunkTable& s : b.manifest->shrunk_tables) {
          checks += escape_html(s.schema + "." + s.name) + " " + std::to_string(s.previous_rows) +
                    "→" + std::to_string(s.rows) + " ";
        }
        checks += "</span>";
      }
      html << "<tr><td>" << escape_html(b.dump.filename().string()) << "</td><td>"
           << (b.good() ? tier_name(b.manifest->tier) : "-") << "</td><td>"
           << format_bytes(b.file_size) << "</td><td>" << age(b.started_at, now) << "</td><td>"
           << (b.good() ? std::to_string(b.manifest->total_rows()) : "-") << "</td><td>" << checks
           << "</td><td>" << offsite_cell(b) << "</td></tr>";
    }
    html << "</table>" << hypertables_table(t) << schema_changes_section(t)
         << restore_test_history(t) << "</div>";
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
    for (const BackupEntry& b : t.backups) {
      nlohmann::json j = {{"file", b.dump.filename().string()},
                          {"started_at", format_iso8601(b.started_at)},
                          {"size_bytes", b.file_size},
                          {"good", b.good()}};
      if (b.good()) {
        j["tier"] = tier_name(b.manifest->tier);
        j["rows"] = b.manifest->total_rows();
        j["size_anomaly"] = b.manifest->size_anomaly;
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
