// The status page's tables of the newest backup: its tables' rows, hypertables, schema changes.
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "agent/core/text.h"
#include "agent/rules/schema_diff.h"
#include "agent/web/status_sections.h"

namespace pgbackup {

// The newest good backup's tables with their rows and the change since the good backup
// before it; tables gone since then are listed too.
std::string tables_table(const TargetStatus& t) {
  const auto good = t.good();
  if (good.empty()) return "";
  const Manifest& newest = *good.back()->manifest;
  const Manifest* previous = good.size() > 1 ? &*good[good.size() - 2]->manifest : nullptr;
  std::map<std::string, std::int64_t> before;
  if (previous) {
    for (const TableRows& r : previous->tables) before[r.schema + "." + r.name] = r.rows;
  }
  std::set<std::string> shrunk;
  for (const ShrunkTable& st : newest.shrunk_tables) shrunk.insert(st.schema + "." + st.name);
  constexpr std::size_t kShown = 200;
  std::ostringstream html;
  html << "<h3>Tables (newest backup)</h3><div class=scroll><table id='"
       << escape_html(part_id("tables", t)) << "'><tr><th>table</th><th>rows</th><th>change since "
       << (previous ? escape_html(previous->file) : "the previous backup") << "</th></tr>";
  std::size_t shown = 0;
  for (const TableRows& r : newest.tables) {
    const std::string name = r.schema + "." + r.name;
    if (shown++ == kShown) {
      html << "<tr><td colspan=3 class=muted>and " << newest.tables.size() - kShown
           << " more (see /api/v1/status)</td></tr>";
      break;
    }
    std::string change = "<td class=muted>-";
    if (const auto it = before.find(name); it != before.end()) {
      const std::int64_t delta = r.rows - it->second;
      char pct[32] = "";
      if (it->second > 0 && delta != 0) {
        std::snprintf(pct, sizeof pct, " (%+.1f %%)", 100.0 * double(delta) / double(it->second));
      }
      change = std::string(shrunk.count(name) ? "<td class=bad>" : "<td>") +
               (delta > 0 ? "+" : "") + std::to_string(delta) + pct;
      before.erase(it);
    } else if (previous) {
      change = "<td>new";
    }
    html << "<tr><td>" << escape_html(name) << "</td><td>" << r.rows << "</td>" << change
         << "</td></tr>";
  }
  for (const auto& [name, rows] : before) {
    html << "<tr><td>" << escape_html(name) << "</td><td>-</td><td class=bad>gone (had " << rows
         << ")</td></tr>";
  }
  html << "</table></div>";
  return html.str();
}

// The newest good backup's TimescaleDB hypertables (rows, chunks, compressed chunks) and
// continuous aggregates; nothing for a database without them.
std::string hypertables_table(const TargetStatus& t) {
  const CatalogEntry* newest = t.newest_good();
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
  const CatalogEntry* newest = t.newest_good();
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

}  // namespace pgbackup
