#include "agent/cli/commands.h"

#include <spdlog/spdlog.h>

#include <cassert>
#include <cstdio>
#include <iostream>

#include "agent/catalog/audit_log.h"
#include "agent/core/errors.h"
#include "agent/core/text.h"
#include "agent/core/units.h"
#include "agent/crypto/age.h"
#include "agent/engines/engine.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/engines/setup_check.h"
#include "agent/jobs/backup.h"
#include "agent/jobs/offsite.h"
#include "agent/jobs/prune.h"
#include "agent/jobs/restore.h"
#include "agent/jobs/restore_drill.h"
#include "agent/jobs/verify.h"
#include "agent/rules/schema_diff.h"
#include "agent/schedule/backup_types.h"
#include "agent/schedule/cron.h"

namespace pgbackup {
namespace {

JobContext context_of(const CommandOptions& options) {
  assert(options.clock);
  return JobContext{*options.clock, options.cancel, options.progress};
}

// The target's catalogue, through its engine.
std::vector<CatalogEntry> catalog_of(const TargetConfig& t) { return make_engine(t)->catalog(); }

// "2 hypertables (21 chunks, 11 compressed)" for a TimescaleDB backup.
std::string hypertables_text(const Manifest& m) {
  std::int64_t chunks = 0, compressed = 0;
  for (const TableRows& t : m.tables) {
    chunks += t.chunks;
    compressed += t.compressed_chunks;
  }
  return std::to_string(m.hypertable_count()) + " hypertables (" + std::to_string(chunks) +
         " chunks, " + std::to_string(compressed) + " compressed)";
}

// "ok", "size anomaly", "2 shrunk tables", "restore test failed", "no manifest"...
std::string checks_text(const CatalogEntry& b) {
  if (!b.good()) return b.problem();
  const Manifest& m = *b.manifest;
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  if (m.size_anomaly) add("size anomaly");
  if (!m.shrunk_tables.empty()) add(std::to_string(m.shrunk_tables.size()) + " shrunk tables");
  if (m.restore_test) add(m.restore_test->success ? "restore tested" : "restore test failed");
  if (!m.offsite.empty()) add("off-site");
  if (!m.schema_changes.empty()) add(summarize_changes(count_changes(m.schema_changes)));
  if (out.empty()) out = "ok";
  if (b.encrypted()) out += ", encrypted (" + encryption_summary(b) + ")";
  if (m.hypertable_count() > 0) out += "; " + hypertables_text(m);
  return out;
}

nlohmann::json entry_to_json(const CatalogEntry& b) {
  nlohmann::json j = {{"file", b.dump.string()},
                      {"started_at", format_iso8601(b.started_at)},
                      {"type", backup_type_name(b.type)},
                      {"size_bytes", b.file_size},
                      {"restore_set_bytes", b.restore_set_bytes()},
                      {"good", b.good()}};
  if (b.good()) {
    j["encrypted"] = b.encrypted();
    j["manifest"] = manifest_to_json(*b.manifest);
  } else {
    j["problem"] = b.problem();
  }
  return j;
}

// The backups `diff` compares: OLD and NEW as given (file names as `list` shows them, or
// paths), else NEW the newest good backup and OLD the good one before NEW.
std::pair<const CatalogEntry*, const CatalogEntry*> backups_to_diff(
    const std::vector<CatalogEntry>& entries, const CommandOptions& options, const fs::path& dir) {
  const auto named = [&](const std::string& file) {
    fs::path p = file;
    if (!p.has_parent_path()) p = dir / p;
    const CatalogEntry& b = select_backup(entries, p, dir);
    if (!b.good()) {
      throw OperationError(file + " is not a good backup: " + b.problem() +
                           " (hint: pgbackup-agent list shows the good ones)");
    }
    return &b;
  };
  std::vector<const CatalogEntry*> good;
  for (const CatalogEntry& b : entries) {
    if (b.good()) good.push_back(&b);
  }
  const CatalogEntry* newer = options.second_file ? named(*options.second_file) : nullptr;
  const CatalogEntry* older = options.file ? named(*options.file) : nullptr;
  if (!newer) {
    if (good.empty() || (older && good.back() == older)) {
      throw OperationError("there is no newer good backup to compare with in " + dir.string() +
                           " (hint: take one with pgbackup-agent backup)");
    }
    newer = good.back();
  }
  if (!older) {
    for (const CatalogEntry* b : good) {
      if (b->started_at < newer->started_at) older = b;
    }
    if (!older) {
      throw OperationError("diff needs two good backups, and " + dir.string() +
                           " has no good backup older than " + newer->name() +
                           " (hint: take another with pgbackup-agent backup)");
    }
  }
  return {older, newer};
}

std::string row_count_text(const std::optional<std::int64_t>& rows) {
  return rows ? std::to_string(*rows) : "-";
}

void print_offsite_deletion(const TargetConfig& t, const std::string& key, const char* verb) {
  std::printf("%s %s (off-site retention)\n", verb,
              format_s3_url(t.offsite_s3->bucket, key).c_str());
}

}  // namespace

int command_backup(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  BackupOptions backup;
  backup.type = options.type;
  const BackupResult r = take_backup(config, target, context_of(options), backup);
  const Manifest& m = r.manifest;
  if (!m.tables.empty()) {
    std::printf("backup %s: %s, %zu tables, %lld rows, tier %s, %.1fs\n", r.file.c_str(),
                format_bytes(m.size_bytes).c_str(), m.tables.size(),
                static_cast<long long>(m.total_rows()), tier_name(m.tier), m.duration_seconds);
  } else {  // a backup without row counts (a physical one): its type and restore set instead
    std::printf("backup %s: %s, %s (restore set %s), tier %s, %.1fs\n", m.file.c_str(),
                backup_type_name(r.type), format_bytes(m.size_bytes).c_str(),
                format_bytes(r.restore_set_bytes).c_str(), tier_name(m.tier), m.duration_seconds);
  }
  if (m.size_anomaly) spdlog::warn("size anomaly: {}", m.size_anomaly_reason);
  for (const ShrunkTable& t : m.shrunk_tables) {
    spdlog::warn(
        "table {}.{} shrank from {} to {} rows since the previous backup (accidental "
        "deletion?)",
        t.schema, t.name, t.previous_rows, t.rows);
  }
  if (!m.schema_changes.empty()) {
    spdlog::warn("{} since {} (pgbackup-agent diff shows them):",
                 summarize_changes(count_changes(m.schema_changes)), m.schema_compared_with);
    for (const SchemaChange& c : m.schema_changes) spdlog::warn("  {}", describe_change(c));
  }
  if (!r.prune.skipped_reason.empty())
    spdlog::warn("retention skipped: {}", r.prune.skipped_reason);
  for (const auto& p : r.prune.deleted) std::printf("pruned %s\n", p.c_str());
  return 0;
}

int command_list(const Config& config, const CommandOptions& options) {
  const SysTime now = options.clock->now();
  std::vector<const TargetConfig*> targets;
  if (options.target.empty() && config.targets.size() > 1) {
    for (const TargetConfig& t : config.targets) targets.push_back(&t);
  } else {
    targets.push_back(&config.find_target(options.target));
  }
  nlohmann::json json = nlohmann::json::array();
  for (const TargetConfig* t : targets) {
    const std::vector<CatalogEntry> entries = catalog_of(*t);
    if (options.output == "json") {
      for (const CatalogEntry& b : entries) {
        nlohmann::json j = entry_to_json(b);
        j["target"] = t->name;
        json.push_back(j);
      }
      continue;
    }
    std::printf("%s (%s)\n", t->name.c_str(), t->backup.dir.c_str());
    if (entries.empty()) {
      std::printf("  no backups yet (hint: pgbackup-agent backup --target %s)\n", t->name.c_str());
      continue;
    }
    std::printf("  %-40s %-4s %-8s %10s %10s %12s  %s\n", "FILE", "TYPE", "TIER", "SIZE", "AGE",
                "ROWS", "CHECKS");
    for (const CatalogEntry& b : entries) {
      const bool counted = b.good() && !b.manifest->tables.empty();
      std::printf("  %-40s %-4s %-8s %10s %10s %12s  %s\n", b.name().c_str(),
                  backup_type_name(b.type), b.good() ? tier_name(b.tier()) : "-",
                  format_bytes(b.file_size).c_str(), format_age(b.started_at, now).c_str(),
                  counted ? std::to_string(b.manifest->total_rows()).c_str() : "-",
                  checks_text(b).c_str());
    }
  }
  if (options.output == "json") std::cout << json.dump(2) << "\n";
  return 0;
}

int command_verify(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  const VerifyJobResult r =
      run_verify_job(config, target, options.file, context_of(options), options.deep);
  for (const VerifyCheck& c : r.report.checks) {
    std::printf("%-18s %s  %s\n", c.name.c_str(), c.passed ? "ok  " : "FAIL", c.detail.c_str());
  }
  if (!r.report.ok()) {
    spdlog::error("{} failed verification: {}", r.path.string(), r.report.first_problem());
    return 1;
  }
  std::printf("%s is good\n", r.path.c_str());
  return 0;
}

int command_restore_test(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  const RestoreTestReport report = run_restore_test(
      config, target, options.file ? std::optional<fs::path>(*options.file) : std::nullopt,
      context_of(options));
  std::printf("%s", summarize(report).c_str());
  return report.success ? 0 : 1;
}

int command_check(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  const std::vector<CatalogEntry> entries = catalog_of(target);
  const CatalogEntry* newest = newest_good(entries);
  const SysTime now = options.clock->now();
  if (!newest) {
    std::printf("CRITICAL: %s has no good backup in %s\n", target.name.c_str(),
                target.backup.dir.c_str());
    return 1;
  }
  const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - newest->finished_at());
  if (age >= options.max_age) {
    std::printf("CRITICAL: the newest good backup of %s is %s old (more than %s): %s\n",
                target.name.c_str(), format_duration(age).c_str(),
                format_duration(options.max_age).c_str(), newest->name().c_str());
    return 1;
  }
  std::printf("OK: the newest good backup of %s is %s old: %s\n", target.name.c_str(),
              format_age(newest->finished_at(), now).c_str(), newest->name().c_str());
  return 0;
}

int command_prune(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  const PruneReport r = run_prune_job(config, target, context_of(options), options.dry_run);
  if (!r.local.skipped_reason.empty()) {
    std::printf("retention not applied: %s\n", r.local.skipped_reason.c_str());
    return 1;
  }
  const char* verb = options.dry_run ? "would delete" : "deleted";
  const char* outcome = options.dry_run ? "would be deleted (dry run)" : "deleted";
  for (std::size_t i = 0; i < r.local.deleted.size(); ++i) {
    const std::vector<std::string>& with = r.local.deleted_with[i];
    std::printf("%s %s%s\n", verb, r.local.deleted[i].filename().c_str(),
                with.empty() ? "" : (" with " + join(with, ", ")).c_str());
  }
  std::printf("%zu kept, %zu %s\n", r.local.kept.size(), r.local.deleted.size(), outcome);
  if (r.offsite_error) std::rethrow_exception(r.offsite_error);
  if (!r.offsite) return 0;
  if (!r.offsite->skipped_reason.empty()) {
    std::printf("off-site retention not applied: %s\n", r.offsite->skipped_reason.c_str());
    return 1;
  }
  for (const std::string& key : r.offsite->deleted) print_offsite_deletion(target, key, verb);
  std::printf("off-site: %zu kept, %zu %s\n", r.offsite->kept.size(), r.offsite->deleted.size(),
              outcome);
  return 0;
}

int command_upload(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  const UploadReport r = run_offsite_job(config, target, context_of(options), options.file);
  for (const OffsiteCopy& c : r.uploaded) {
    std::printf("uploaded %s (%s)\n", c.url.c_str(),
                c.storage_class.empty() ? "default storage class" : c.storage_class.c_str());
  }
  for (const std::string& key : r.prune.deleted) print_offsite_deletion(target, key, "deleted");
  // The job stops between files when the agent is asked to stop: that is not "all done".
  if (options.cancel && options.cancel->load()) {
    spdlog::error("upload stopped before it finished (signal); run it again to copy the rest");
    return 1;
  }
  if (r.uploaded.empty())
    std::printf("nothing to upload: every backup that should be off-site is\n");
  return 0;
}

int command_restore(const Config& config, const CommandOptions& options) {
  RestoreRequest request;
  request.file = options.file;
  request.tables = options.tables;
  request.dbname = options.dbname;
  request.jobs = options.jobs;
  request.assume_yes = options.assume_yes;
  request.safety_backup = options.safety_backup;
  request.create_roles = options.create_roles;
  request.recovery_target = options.recovery_target;
  if (!options.pg_path.empty()) request.pg_path = options.pg_path;
  return restore_production(config, config.find_target(options.target), request, std::cin,
                            context_of(options));
}

int command_diff(const Config& config, const CommandOptions& options) {
  const TargetConfig& target = config.find_target(options.target);
  // pg_dump only (row counts and schema fingerprints from its manifests).
  const std::vector<CatalogEntry> entries =
      DumpCatalog(target.backup.dir, target.backup.file_prefix).scan();
  const auto [older, newer] = backups_to_diff(entries, options, target.backup.dir);
  const Manifest& a = *older->manifest;
  const Manifest& b = *newer->manifest;
  const bool schemas = a.schema && b.schema;
  const std::vector<SchemaChange> changes =
      schemas ? diff_schemas(*a.schema, *b.schema) : std::vector<SchemaChange>{};
  const SchemaChangeCounts counts = count_changes(changes);
  const bool rows = a.row_counts_exact && b.row_counts_exact;
  std::vector<TableRows> rows_a = a.tables, rows_b = b.tables;
  rows_a.insert(rows_a.end(), a.continuous_aggregates.begin(), a.continuous_aggregates.end());
  rows_b.insert(rows_b.end(), b.continuous_aggregates.begin(), b.continuous_aggregates.end());
  const RowChanges row_changes = rows ? diff_row_counts(rows_a, rows_b) : RowChanges{};
  const std::string missing = !a.schema ? a.file : b.file;

  if (options.output == "json") {
    nlohmann::json changed = nlohmann::json::array();
    for (const RowChange& r : row_changes.changed) {
      changed.push_back({{"table", r.table},
                         {"before", r.before ? nlohmann::json(*r.before) : nlohmann::json()},
                         {"after", r.after ? nlohmann::json(*r.after) : nlohmann::json()}});
    }
    nlohmann::json out = {
        {"target", target.name},
        {"old", a.file},
        {"new", b.file},
        {"schema",
         {{"compared", schemas},
          {"changes", schema_changes_to_json(changes)},
          {"added", counts.added},
          {"dropped", counts.dropped},
          {"altered", counts.altered}}},
        {"rows", {{"compared", rows}, {"changed", changed}, {"unchanged", row_changes.unchanged}}}};
    if (!schemas) out["schema"]["reason"] = missing + " has no schema fingerprint";
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::printf("%s: %s → %s\n", target.name.c_str(), a.file.c_str(), b.file.c_str());
  if (!schemas) {
    std::printf("schema: not compared: %s has no schema fingerprint (taken by an older agent)\n",
                missing.c_str());
  } else {
    std::printf("schema: %s\n", summarize_changes(counts).c_str());
    for (const SchemaChange& c : changes) std::printf("  %s\n", describe_change(c).c_str());
  }
  if (!rows) {
    std::printf("rows: not compared (a backup was taken with row_counts: off)\n");
    return 0;
  }
  std::printf("rows: %zu table(s) changed, %zu unchanged\n", row_changes.changed.size(),
              row_changes.unchanged);
  for (const RowChange& r : row_changes.changed) {
    std::string delta;
    if (r.before && r.after) {
      const std::int64_t d = *r.after - *r.before;
      delta = " (" + std::string(d > 0 ? "+" : "") + std::to_string(d) + ")";
    } else {
      delta = r.before ? " (table gone)" : " (new table)";
    }
    std::printf("  %s: %s → %s%s\n", r.table.c_str(), row_count_text(r.before).c_str(),
                row_count_text(r.after).c_str(), delta.c_str());
  }
  return 0;
}

std::string describe_next_runs(const Config& config, SysTime now, int count) {
  const auto times = [](std::string out, const std::vector<SysTime>& runs) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      out += (i == 0 ? " " : ", ") + format_iso8601(runs[i]);
    }
    return out + "\n";
  };
  const auto line = [&](const char* what, const std::string& expression) {
    return times(what, CronSchedule::parse(expression).next_runs(now, count));
  };
  std::string out;
  for (const TargetConfig& t : config.targets) {
    const std::vector<TypeRuns> by_type = next_runs_by_type(t, now, count);
    out += "target " + t.name + ": backup.schedule ";
    if (by_type.size() == 1) {
      out += "\"" + t.backup.schedule + "\"";
    } else {
      for (const TypeSchedule& s : scheduled_types(t)) {
        out += std::string(s.type == BackupType::full ? "" : ", ") + backup_type_name(s.type) +
               " \"" + s.schedule + "\"";
      }
    }
    if (t.restore_test) out += ", restore_test.schedule \"" + t.restore_test->schedule + "\"";
    if (t.verify) out += ", verify.schedule \"" + t.verify->schedule + "\"";
    out += " (UTC)\n";
    if (by_type.size() == 1) {
      out += times("next backups:", by_type.front().runs);
    } else {
      for (const TypeRuns& r : by_type) {
        out += times("next " + std::string(backup_type_name(r.type)) + ":", r.runs);
      }
    }
    if (t.restore_test) out += line("next restore tests:", t.restore_test->schedule);
    if (t.verify) out += line("next verify runs:", t.verify->schedule);
  }
  return out;
}

int command_config_check(const Config& config, const CommandOptions& options) {
  assert(options.clock);
  // stdout stays a valid config (the effective one, redacted); what it means goes to stderr.
  std::cout << render_config(config);
  std::cout.flush();
  std::fprintf(stderr, "%s", describe_next_runs(config, options.clock->now()).c_str());
  // The identity is read only where something is decrypted; config-check proves it early.
  for (const TargetConfig& t : config.targets) {
    if (!t.encryption || t.encryption->identity_file.empty()) continue;
    try {
      const IdentityCheck c =
          check_identity_file(t.encryption->identity_file, t.encryption->all_recipients());
      std::fprintf(stderr, "%s: identity file %s holds %d key(s), for %zu of %zu recipient(s)\n",
                   t.name.c_str(), t.encryption->identity_file.c_str(), c.identities,
                   c.matched.size(), c.matched.size() + c.unmatched.size());
    } catch (const AgeKeyError& e) {
      throw ConfigError("targets." + t.name + ".encryption.identity_file: " + e.what());
    }
  }
  // The engines' set-up outside the agent (pgBackRest's preflight): errors fail the check.
  std::size_t errors = 0;
  for (const TargetConfig& t : config.targets) {
    for (const SetupProblem& p : check_engine_setup(t)) {
      std::fprintf(stderr, "target %s: %s\n", t.name.c_str(), describe(p).c_str());
      if (p.error) ++errors;
    }
  }
  if (errors > 0) {
    std::fprintf(stderr, "config not ok: %zu error(s) in the targets' set-up\n", errors);
    return 2;
  }
  std::fprintf(stderr, "config ok: %zu target(s)\n", config.targets.size());
  return 0;
}

}  // namespace pgbackup
