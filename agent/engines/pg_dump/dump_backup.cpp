#include "agent/engines/pg_dump/dump_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include "agent/catalog/backup_dir.h"
#include "agent/catalog/globals_file.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/progress.h"
#include "agent/core/sha256.h"
#include "agent/core/subprocess.h"
#include "agent/core/units.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/engines/pg_dump/dump_crypto.h"
#include "agent/engines/pg_dump/toc.h"
#include "agent/postgres/postgres.h"
#include "agent/rules/anomaly.h"
#include "agent/rules/retention.h"
#include "agent/rules/schema_diff.h"

namespace pgbackup {
namespace {

constexpr fs::perms kPrivateFile = fs::perms::owner_read | fs::perms::owner_write;

double seconds_between(SysTime a, SysTime b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string pg_dump_version(const std::string& program) {
  ProcessSpec spec;
  spec.argv = {program, "--version"};
  spec.timeout = std::chrono::seconds(30);
  const ProcessResult r = run_process(spec);
  if (!r.ok()) throw OperationError(describe_failure(spec, r));
  std::string v = r.out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

// The .partial file being written: removed unless committed, so a failure never leaves a
// file that looks like a backup.
class PartialFile {
 public:
  explicit PartialFile(fs::path path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      throw OperationError("cannot create " + path_.string() + ": " + std::strerror(errno));
    }
  }
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void write(const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        throw OperationError("cannot write " + path_.string() + ": " + std::strerror(e) +
                             (e == ENOSPC || e == EFBIG || e == EDQUOT
                                  ? " (hint: the backup disk is full; free space in " +
                                        path_.parent_path().string() +
                                        " or lower retention; earlier backups are untouched)"
                                  : ""));
      }
      data += n;
      size -= static_cast<std::size_t>(n);
      written_ += static_cast<std::uint64_t>(n);
    }
  }

  void sync_and_close() {
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      throw OperationError("cannot flush " + path_.string() + " to disk: " + std::strerror(errno));
    }
    fd_ = -1;
  }

  void commit_as(const fs::path& final_path) {
    if (::rename(path_.c_str(), final_path.c_str()) != 0) {
      throw OperationError("cannot rename " + path_.string() + ": " + std::strerror(errno));
    }
    committed_ = true;
    fsync_path(final_path.parent_path());
  }

  const fs::path& path() const { return path_; }
  std::uint64_t written() const { return written_; }

 private:
  fs::path path_;
  int fd_ = -1;
  bool committed_ = false;
  std::uint64_t written_ = 0;
};

// `pg_dump | age -r ...` into `write_out`, the plaintext shown to `tap` and read by
// `pg_restore --list` as it passes (so the table of contents is checked with no plaintext on
// disk). Sets `failure` when a child failed; the TOC is what pg_restore listed.
TocSummary run_encrypted_dump(const ProcessSpec& dump, const std::vector<std::string>& recipients,
                              const std::function<void(const char*, std::size_t)>& write_out,
                              const std::function<void(const char*, std::size_t)>& tap,
                              std::string& failure) {
  ProcessSpec age = age_encrypt_spec(recipients);
  age.on_stdout = write_out;
  ProcessSpec list;
  list.argv = {client_program("pg_restore"), "--list"};
  list.cancel = dump.cancel;
  FedProcess toc_reader(list);
  const PipelineResult r = run_pipeline(dump, age, [&](const char* data, std::size_t size) {
    tap(data, size);
    toc_reader.write(data, size);
  });
  const ProcessResult listed = toc_reader.finish();
  if (!r.ok()) {
    failure = describe_failure(dump, age, r);
  } else if (!listed.ok()) {
    failure =
        "pg_restore cannot read the dump as it was written: " + describe_failure(list, listed);
  }
  return parse_toc_list(listed.out);
}

void check_free_space(const DumpCatalog& repo, const std::vector<CatalogEntry>& good) {
  if (good.empty()) return;
  const std::uint64_t previous = good.back().file_size;
  const std::uint64_t needed = previous + previous / 2;
  const FilesystemStats fsst = filesystem_of(repo.dir());
  if (fsst.size_bytes > 0 && fsst.avail_bytes < needed) {
    throw OperationError("not enough free space in " + repo.dir().string() + ": " +
                         format_bytes(fsst.avail_bytes) + " available, the previous backup was " +
                         format_bytes(previous) + " and a new one needs about " +
                         format_bytes(needed) +
                         " (hint: free space on that filesystem or shorten retention)");
  }
}

Manifest dump_database(const TargetConfig& target, const DumpCatalog& repo,
                       const std::vector<CatalogEntry>& good, const JobContext& ctx) {
  const DatabaseEndpoint endpoint(target.database);
  const std::vector<std::string> recipients = backup_recipients(target);
  const bool encrypted = !recipients.empty();
  SysTime started = ctx.now();
  // File names have one-second resolution: a second backup within the same second waits.
  const auto taken = [&](SysTime t) {
    return fs::exists(repo.dump_path(t, false)) || fs::exists(repo.dump_path(t, true));
  };
  for (int i = 0; i < 3 && taken(started); ++i) {
    ctx.clock.sleep_for(std::chrono::seconds(1));
    started = ctx.now();
  }
  const fs::path final_path = repo.dump_path(started, encrypted);
  if (fs::exists(final_path)) {
    throw OperationError("a backup named " + final_path.filename().string() + " already exists");
  }

  Manifest m;
  m.target = target.name;
  m.file = final_path.filename().string();
  m.started_at = started;
  m.compression = target.backup.compression;
  m.row_counts_exact = target.backup.row_counts;
  if (encrypted) m.encryption = encryption_info(recipients);

  SnapshotSession session(endpoint, target.backup.timeout);
  m.database = session.database_info();
  const std::string pg_dump = client_program("pg_dump", m.database.server_version);
  m.pg_dump_version = pg_dump_version(pg_dump);

  PartialFile partial(fs::path(final_path.string() + ".partial"));
  Sha256 hash;            // of what is written: the dump, or its ciphertext
  Sha256 plaintext_hash;  // encrypted: of pg_dump's output
  std::uint64_t plaintext_size = 0;

  // The schema fingerprint, the cluster globals, then the row counts, run on the snapshot's own
  // connection while pg_dump reads the same snapshot. The catalog queries go first: they are
  // quick, while the counts read every table.
  std::optional<ClusterGlobals> globals;
  double globals_seconds = 0;
  std::exception_ptr count_error;
  std::atomic<bool> counting_done{false};
  std::thread counter([&] {
    try {
      // A fingerprint that cannot be read costs the backup only its drift check: the dump
      // and the counts are unaffected (its savepoint keeps the snapshot usable). The manifest
      // then has no "schema", which list, diff and the status page show as not compared.
      try {
        const SteadyTime fingerprint_start = ctx.clock.steady_now();
        m.schema = session.schema_fingerprint();
        m.schema_seconds =
            std::chrono::duration<double>(ctx.clock.steady_now() - fingerprint_start).count();
      } catch (const OperationError& e) {
        spdlog::warn("backup of {} without a schema fingerprint: {}", target.name, e.what());
      }
      // The same for the roles and the database's settings: without them the backup restores
      // as before, only not onto a server that lacks them.
      try {
        const SteadyTime globals_start = ctx.clock.steady_now();
        globals = session.cluster_globals();
        globals_seconds =
            std::chrono::duration<double>(ctx.clock.steady_now() - globals_start).count();
      } catch (const OperationError& e) {
        spdlog::warn("backup of {} without its roles and database settings: {}", target.name,
                     e.what());
      }
      if (target.backup.row_counts) {
        RowCounts counts = session.count_rows();
        m.tables = std::move(counts.tables);
        m.continuous_aggregates = std::move(counts.continuous_aggregates);
      }
    } catch (...) {
      count_error = std::current_exception();
    }
    counting_done = true;
  });

  ProcessSpec dump;
  dump.argv = {pg_dump, "--format=custom",
               "--compress=" + std::to_string(target.backup.compression),
               "--snapshot=" + session.snapshot_id()};
  for (const std::string& arg : endpoint.client_args()) dump.argv.push_back(arg);
  dump.argv.push_back("--dbname=" + target.database.dbname);
  dump.env = endpoint.client_env();
  dump.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(target.backup.timeout);
  dump.cancel = ctx.cancel;
  // The compressed dump's bytes against the database's size: only a rough guide.
  ProgressLine progress(ctx.progress, "backup " + target.name, ProgressUnit::bytes,
                        m.database.size_bytes, true);
  const auto write_out = [&](const char* data, std::size_t size) {
    partial.write(data, size);
    hash.update(data, size);
  };
  std::string dump_failure;  // empty: pg_dump (and age) succeeded
  std::exception_ptr dump_error;
  std::optional<TocSummary> streamed_toc;  // encrypted: pg_restore --list of the plaintext
  try {
    if (!encrypted) {
      dump.on_stdout = [&](const char* data, std::size_t size) {
        write_out(data, size);
        progress.update(partial.written());
      };
      const ProcessResult r = run_process(dump);
      if (!r.ok()) dump_failure = describe_failure(dump, r);
    } else {
      streamed_toc = run_encrypted_dump(
          dump, recipients, write_out,
          [&](const char* d, std::size_t n) {
            plaintext_hash.update(d, n);
            plaintext_size += n;
            progress.update(plaintext_size);
          },
          dump_failure);
    }
  } catch (...) {
    dump_error = std::current_exception();
  }
  progress.finish();
  if (counter.joinable()) {
    // A failed dump makes the counts pointless; do not wait for them (they may be blocked on
    // the same lock that held pg_dump up).
    while ((dump_error || !dump_failure.empty()) && !counting_done) {
      session.cancel_query();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    counter.join();
  }
  session.finish();
  if (dump_error) std::rethrow_exception(dump_error);
  if (!dump_failure.empty()) throw OperationError(endpoint.explain_error(dump_failure));
  if (count_error) {
    try {
      std::rethrow_exception(count_error);
    } catch (const OperationError&) {
      throw;  // names the relation and the server's error already
    } catch (const std::exception& e) {
      throw OperationError(std::string("cannot count rows: ") + e.what());
    }
  }
  if (partial.written() == 0 || (encrypted && plaintext_size == 0)) {
    throw OperationError(
        "pg_dump wrote an empty dump (hint: check the PostgreSQL log, that the "
        "database is accessible and the credentials)");
  }
  partial.sync_and_close();
  m.size_bytes = partial.written();
  m.sha256 = hash.hex_digest();
  if (encrypted) {
    m.encryption->plaintext_size_bytes = plaintext_size;
    m.encryption->plaintext_sha256 = plaintext_hash.hex_digest();
  }

  const TocSummary toc = encrypted ? *streamed_toc : read_toc(partial.path().string());
  const std::vector<std::string> missing = tables_missing_data(toc, m.tables);
  if (!missing.empty()) {
    throw OperationError("the dump has no data for " + std::to_string(missing.size()) +
                         " counted table(s), e.g. " + missing.front() +
                         " (hint: does the role have SELECT on every table?)");
  }
  m.toc_entries = toc.entries;
  partial.commit_as(final_path);
  // Between the dump and its manifest: until the manifest is written, neither is a backup.
  if (globals) {
    for (const std::string& warning : globals->warnings) {
      spdlog::warn("backup of {}: {}", target.name, warning);
    }
    TextCipher seal;
    if (encrypted) {
      seal = [&](const std::string& text) {
        Sha256 digest;
        digest.update(text.data(), text.size());
        m.encryption->globals_plaintext_size_bytes = text.size();
        m.encryption->globals_plaintext_sha256 = digest.hex_digest();
        return age_encrypt_text(recipients, text);
      };
    }
    m.globals = write_globals_file(fs::path(final_path.string() + kGlobalsSuffix), *globals, seal);
    m.globals->seconds = globals_seconds;
  }

  m.finished_at = ctx.now();
  m.duration_seconds = seconds_between(m.started_at, m.finished_at);

  std::vector<SysTime> earlier;
  for (const CatalogEntry& b : good) earlier.push_back(b.started_at);
  const SizeVerdict verdict =
      judge_size(m.size_bytes, sizes_of_type(good, BackupType::full), target.anomaly);
  m.size_baseline_bytes = verdict.baseline_bytes;
  m.size_anomaly = verdict.anomaly;
  m.size_anomaly_reason = verdict.reason;
  if (!good.empty() && good.back().manifest->row_counts_exact && m.row_counts_exact) {
    m.shrunk_tables =
        find_shrunk_tables(good.back().manifest->tables, m.tables, target.anomaly.table_drop_ratio);
  }
  // Schema drift against the previous good backup, when both have a fingerprint.
  if (!good.empty() && good.back().manifest->schema && m.schema) {
    m.schema_compared_with = good.back().manifest->file;
    m.schema_changes = diff_schemas(*good.back().manifest->schema, *m.schema);
  }
  m.tier = assign_tier(m.started_at, earlier);
  const FilesystemStats space = filesystem_of(repo.dir());
  m.repository_avail_bytes = space.avail_bytes;
  m.repository_size_bytes = space.size_bytes;
  write_file_atomic(fs::path(final_path.string() + kManifestSuffix),
                    manifest_to_json(m).dump(2) + "\n", kPrivateFile);
  return m;
}

}  // namespace

Manifest take_dump(const TargetConfig& target, const DumpCatalog& catalog, const JobContext& ctx) {
  std::vector<CatalogEntry> good;
  for (CatalogEntry& b : catalog.scan()) {
    if (b.good()) good.push_back(std::move(b));
  }
  check_free_space(catalog, good);
  return dump_database(target, catalog, good, ctx);
}

}  // namespace pgbackup
