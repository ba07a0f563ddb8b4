#include "agent/web/status_recovery.h"

#include <algorithm>

#include "agent/core/text.h"
#include "agent/core/units.h"

namespace pgbackup {
namespace {

constexpr BackupType kTypes[] = {BackupType::full, BackupType::diff, BackupType::incr};

std::string age(SysTime t, SysTime now) { return format_age(std::min(t, now), now) + " ago"; }

std::string row(const char* name, const std::string& cell, const std::string& id = "") {
  return std::string("<tr") + (id.empty() ? "" : " id='" + escape_html(id) + "'") + "><th>" + name +
         "</th><td>" + cell + "</td></tr>";
}

// The newest good backup of `type`, or nullptr.
const CatalogEntry* newest_of_type(const TargetStatus& t, BackupType type) {
  const CatalogEntry* newest = nullptr;
  for (const CatalogEntry* b : t.good()) {
    if (b->type == type && (!newest || b->finished_at() > newest->finished_at())) newest = b;
  }
  return newest;
}

std::string window_cell(const TargetStatus& t, SysTime now) {
  const RecoveryWindow& w = t.recovery_window;
  if (!w.start || !w.end) return "<span class=bad>none: no good backup</span>";
  return format_iso8601(*w.start) + " → " + format_iso8601(*w.end) + " · latest point " +
         age(*w.end, now);
}

// "4m 10s of 5m" against rpo_target, or unknown, with the archive's state after it.
std::string exposure_cell(const TargetStatus& t, const ArchiveStatus& a, SysTime now) {
  std::string cell;
  if (!a.rpo_exposure) {
    cell = "<span class=bad>unknown: no archived WAL segment dates it</span>";
  } else {
    const bool over = t.rpo_target && *a.rpo_exposure > *t.rpo_target;
    cell =
        std::string("<span class=") + (over ? "bad" : "ok") + ">" +
        format_duration(*a.rpo_exposure) +
        (t.rpo_target ? " of " + format_duration(*t.rpo_target) : std::string(" (no rpo_target)")) +
        (over ? " (over target)" : "") + "</span>";
  }
  cell += a.from_database ? "" : " · <span class=muted>database down: from the repository</span>";
  cell += " · last archived " + (a.last_archived ? age(*a.last_archived, now) : "never");
  if (a.failing) {
    cell += " · <span class=bad>archiving failing</span>";
  }
  cell += " · " + std::to_string(a.failed_count) + " failure(s)";
  if (a.unarchived_bytes) cell += " · " + format_bytes(*a.unarchived_bytes) + " unarchived";
  if (a.health.wal_gaps) {
    cell +=
        " · <span class=bad>" + std::to_string(a.health.wal_gaps) + " missing segment(s)</span>";
  }
  cell += a.health.stanza_status == 0
              ? " · stanza ok"
              : " · <span class=bad>stanza: " + escape_html(a.health.stanza_message) + " (" +
                    std::to_string(a.health.stanza_status) + ")</span>";
  return cell;
}

std::string types_cell(const TargetStatus& t, SysTime now) {
  std::string cell;
  for (const BackupType type : kTypes) {
    const CatalogEntry* b = newest_of_type(t, type);
    if (!b) continue;
    if (!cell.empty()) cell += " · ";
    cell += std::string(backup_type_name(type)) + " " + age(b->finished_at(), now) + " (" +
            format_bytes(b->size_bytes()) + ", restore reads " +
            format_bytes(b->restore_set_bytes()) + ")";
  }
  return cell.empty() ? "<span class=muted>none</span>" : cell;
}

std::string verify_cell(const TargetStatus& t, SysTime now) {
  const auto& v = t.state.verify;
  if (!v) return "<span class=muted>never run</span>";
  std::string cell = v->success ? "<span class=ok>passed</span>"
                                : "<span class=bad>failed</span>: " + escape_html(v->error);
  if (v->invalid_files) cell += " · " + std::to_string(v->invalid_files) + " invalid file(s)";
  cell += " · " + age(v->finished_at, now);
  if (!v->success) {
    cell += " · last passed " +
            (t.state.verify_last_success ? age(*t.state.verify_last_success, now) : "never");
  }
  return cell;
}

nlohmann::json time_or_null(const std::optional<SysTime>& t) {
  return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json();
}

}  // namespace

std::string recovery_rows(const TargetStatus& t, SysTime now) {
  std::string html = row("engine", escape_html(t.engine));
  html += row("recovery window", window_cell(t, now));
  if (const ArchiveStatus* a = t.archive()) {
    html += row("RPO exposure", exposure_cell(t, *a, now), "rpo-" + t.name);
  }
  html += row("backups by type", types_cell(t, now));
  html += row("verify", verify_cell(t, now));
  return html;
}

nlohmann::json recovery_json(const TargetStatus& t) {
  nlohmann::json out = {{"engine", t.engine},
                        {"recovery_window",
                         {{"start", time_or_null(t.recovery_window.start)},
                          {"end", time_or_null(t.recovery_window.end)}}}};
  nlohmann::json types = nlohmann::json::object();
  for (const BackupType type : kTypes) {
    if (const CatalogEntry* b = newest_of_type(t, type)) {
      types[backup_type_name(type)] = {{"backup", b->name()},
                                       {"finished_at", format_iso8601(b->finished_at())},
                                       {"size_bytes", b->size_bytes()},
                                       {"restore_set_bytes", b->restore_set_bytes()}};
    }
  }
  out["backups_by_type"] = types;
  if (t.state.verify) {
    out["verify"] = {{"finished_at", format_iso8601(t.state.verify->finished_at)},
                     {"success", t.state.verify->success},
                     {"error", t.state.verify->error},
                     {"invalid_files", t.state.verify->invalid_files},
                     {"last_success", time_or_null(t.state.verify_last_success)}};
  }
  if (const ArchiveStatus* a = t.archive()) {
    out["archive"] = {
        {"from_database", a->from_database},
        {"last_archived", time_or_null(a->last_archived)},
        {"failed_count", a->failed_count},
        {"failing", a->failing},
        {"unarchived_bytes",
         a->unarchived_bytes ? nlohmann::json(*a->unarchived_bytes) : nlohmann::json()},
        {"rpo_exposure_seconds",
         a->rpo_exposure ? nlohmann::json(a->rpo_exposure->count()) : nlohmann::json()},
        {"rpo_target_seconds",
         t.rpo_target ? nlohmann::json(t.rpo_target->count()) : nlohmann::json()},
        {"wal_gaps", a->health.wal_gaps},
        {"stanza_status", a->health.stanza_status},
        {"stanza_message", a->health.stanza_message}};
  }
  return out;
}

}  // namespace pgbackup
