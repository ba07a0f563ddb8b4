#include "agent/engines/pg_dump/dump_verify.h"

#include <fstream>
#include "agent/catalog/globals_file.h"

#include "agent/core/errors.h"
#include "agent/core/sha256.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/engines/pg_dump/toc.h"

namespace pgbackup {

namespace {

// A TimescaleDB backup is restorable only with its catalog's data (which chunk belongs to which
// hypertable, and where its time range starts and ends); the detail lists the hypertables with
// their rows and chunks, and the continuous aggregates.
VerifyCheck check_hypertables(const TocSummary& toc, const Manifest& m) {
  std::string detail;
  for (const TableRows& t : m.tables) {
    if (t.kind != RelationKind::hypertable) continue;
    detail += (detail.empty() ? "" : "; ") + t.schema + "." + t.name + " " +
              std::to_string(t.rows) + " rows in " + std::to_string(t.chunks) + " chunks (" +
              std::to_string(t.compressed_chunks) + " compressed)";
  }
  for (const TableRows& t : m.continuous_aggregates) {
    detail += "; continuous aggregate " + t.schema + "." + t.name + " " + std::to_string(t.rows) +
              " rows";
  }
  for (const char* table : {"hypertable", "chunk", "dimension", "dimension_slice"}) {
    if (!toc.table_data.count({"_timescaledb_catalog", table})) {
      return {"hypertables", false,
              "the archive has no data for TimescaleDB's catalog table _timescaledb_catalog." +
                  std::string(table) + ", so its hypertables cannot be restored"};
    }
  }
  return {"hypertables", true, detail};
}

// pg_restore --list of a plaintext dump: its entries and every counted table's data.
void check_archive(const CatalogEntry& entry, const Manifest& m, VerifyReport& report) {
  try {
    const TocSummary toc = read_toc(entry.dump.string());
    report.checks.push_back(
        {"pg_restore --list", toc.entries == m.toc_entries,
         std::to_string(toc.entries) + " entries, manifest says " + std::to_string(m.toc_entries)});
    const auto missing = tables_missing_data(toc, m.tables);
    report.checks.push_back({"table data", missing.empty(),
                             missing.empty() ? std::to_string(m.tables.size()) + " tables"
                                             : "no data for " + missing.front()});
    if (m.hypertable_count() > 0) report.checks.push_back(check_hypertables(toc, m));
  } catch (const OperationError& e) {
    report.checks.push_back({"pg_restore --list", false, e.what()});
  }
}

// Without a key, an encrypted dump can be checked only as age's file: its checksum (above) and
// its header; `verify --deep` decrypts it.
VerifyCheck check_age_header(const fs::path& file, const EncryptionInfo& e) {
  const std::string header = "age-encryption.org/v1\n";
  std::ifstream in(file, std::ios::binary);
  std::string start(header.size(), '\0');
  if (!in.read(start.data(), static_cast<std::streamsize>(start.size()))) {
    return {"age header", false, "cannot read the start of " + file.string()};
  }
  if (start != header) {
    return {"age header", false, "the file does not start with age's header (not an age file)"};
  }
  return {"age header", true,
          "encrypted to " + std::to_string(e.recipients.size()) +
              " recipient(s); verify --deep decrypts it and checks its contents"};
}

}  // namespace

VerifyReport verify_backup(const CatalogEntry& entry, Progress* progress) {
  VerifyReport report;
  report.file = entry.dump;
  if (!entry.manifest) {
    report.checks.push_back({"manifest", false,
                             entry.manifest_error + " (hint: this dump is not a "
                                                    "good backup; take a new one)"});
    return report;
  }
  const Manifest& m = *entry.manifest;
  report.checks.push_back({"manifest", true, manifest_path(entry).filename().string()});

  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(entry.dump, ec);
  report.checks.push_back(
      {"size", !ec && size == m.size_bytes,
       ec ? ec.message()
          : std::to_string(size) + " bytes, manifest says " + std::to_string(m.size_bytes)});
  try {
    ProgressLine line(progress, "verify " + entry.dump.filename().string(), ProgressUnit::bytes,
                      ec ? m.size_bytes : size);
    const std::string digest = sha256_file(entry.dump, [&](std::uint64_t n) { line.update(n); });
    line.finish();
    report.checks.push_back({"sha256", digest == m.sha256,
                             digest == m.sha256 ? digest
                                                : "file has " + digest + ", manifest says " +
                                                      m.sha256 + " (the file changed on disk)"});
  } catch (const OperationError& e) {
    report.checks.push_back({"sha256", false, e.what()});
  }
  if (m.encryption) {
    report.checks.push_back(check_age_header(entry.dump, *m.encryption));
  } else {
    check_archive(entry, m, report);
  }
  if (m.globals) {
    const std::string problem = globals_file_problem(globals_path(entry), *m.globals);
    report.checks.push_back(
        {"companion file", problem.empty(),
         problem.empty() ? std::to_string(m.globals->roles.size()) + " roles" : problem});
  }
  return report;
}

}  // namespace pgbackup
