#include "agent/jobs/offsite.h"

#include <stdlib.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

#include "agent/catalog/audit_log.h"
#include "agent/catalog/backup_dir.h"
#include "agent/catalog/directory_lock.h"
#include "agent/catalog/globals_file.h"
#include "agent/catalog/job_state.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/progress.h"
#include "agent/core/sha256.h"
#include "agent/core/text.h"
#include "agent/jobs/job_run.h"
#include "agent/rules/retention.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {
namespace {

constexpr fs::perms kPrivateFile = fs::perms::owner_read | fs::perms::owner_write;
// The manifest rewrite waits this long for a running backup or prune to let go of the lock.
constexpr auto kRecordLockWait = std::chrono::minutes(2);

const S3Config& s3_of(const TargetConfig& target) {
  if (!target.offsite_s3) {
    throw ConfigError("target " + target.name +
                      " has no offsite.s3 section (hint: configure offsite.s3 to copy backups "
                      "to S3)");
  }
  return *target.offsite_s3;
}

S3PutOptions dump_options(const S3Config& s3, const Manifest& m) {
  S3PutOptions o;
  const auto cls = s3.storage_class.find(tier_name(m.tier));
  o.storage_class = cls == s3.storage_class.end() ? "" : cls->second;
  o.server_side_encryption = s3.server_side_encryption;
  o.kms_key_id = s3.kms_key_id;
  o.metadata["sha256"] = m.sha256;
  return o;
}

// Manifests stay in the default storage class whatever the tier: they are tiny, and retention
// and restores must read them without first restoring them from an archive class.
S3PutOptions manifest_options(const S3Config& s3) {
  S3PutOptions o;
  o.server_side_encryption = s3.server_side_encryption;
  o.kms_key_id = s3.kms_key_id;
  return o;
}

// Checks the object S3 now holds against what was sent. SSE-KMS ETags are not MD5s, so there
// only the size and our SHA-256 metadata are compared.
void verify_object(S3Client& client, const std::string& key, const S3Upload& sent,
                   const S3PutOptions& options) {
  const std::optional<S3ObjectInfo> got = client.head(key);
  const std::string url = format_s3_url(client.config().bucket, key);
  if (!got) throw OperationError(url + " is missing right after its upload");
  std::string problem;
  if (got->size != sent.bytes) {
    problem = "size " + std::to_string(got->size) + " instead of " + std::to_string(sent.bytes);
  } else if (options.server_side_encryption != "aws:kms" && got->etag != sent.expected_etag &&
             got->etag != sent.content_md5) {
    problem = "ETag " + got->etag + " instead of " + sent.expected_etag;
  } else if (options.metadata.count("sha256") &&
             got->meta("sha256") != options.metadata.at("sha256")) {
    problem = "sha256 metadata \"" + got->meta("sha256") + "\"";
  }
  if (!problem.empty()) {
    throw OperationError("the copy at " + url + " does not match what was sent (" + problem +
                         "); it will be uploaded again");
  }
}

// A dump already in the bucket with our size and SHA-256 (an earlier run uploaded it but could
// not record it) is not sent again.
// Its HEAD answer, or nullopt.
std::optional<S3ObjectInfo> already_there(S3Client& client, const std::string& key,
                                          const Manifest& m) {
  std::optional<S3ObjectInfo> got = client.head(key);
  if (got && got->size == m.size_bytes && got->meta("sha256") == m.sha256) return got;
  return std::nullopt;
}

void record_copy(const TargetConfig& target, const CatalogEntry& backup, const OffsiteCopy& copy) {
  const DirectoryLock lock(target.state_dir(), kRecordLockWait);
  const fs::path path = manifest_path(backup);
  const std::optional<std::string> text =
      PosixStorage(path.parent_path()).read_if_present(path.filename().string());
  if (!text) {
    throw OperationError(backup.dump.filename().string() +
                         " was pruned while it was being uploaded; the copy is not recorded");
  }
  Manifest m = manifest_from_json(nlohmann::json::parse(*text));
  std::erase_if(m.offsite, [&](const OffsiteCopy& o) { return o.url == copy.url; });
  m.offsite.push_back(copy);
  write_file_atomic(path, manifest_to_json(m).dump(2) + "\n", kPrivateFile);
}

// Makes a mkdtemp directory (0700) under `parent`.
fs::path make_private_temp_dir(const fs::path& parent) {
  create_private_dir(parent);
  std::string pattern = (parent / "s3-download-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw OperationError("cannot create a temporary directory in " + parent.string() + ": " +
                         std::strerror(errno));
  }
  return pattern;
}

}  // namespace

namespace {

// Copies one backup and writes the outcome to the audit log and the report. Returns false when
// the failure will repeat for every other backup (credentials, bucket, endpoint): stop there.
bool copy_and_audit(S3Client& client, const TargetConfig& target, const CatalogEntry& b,
                    const JobContext& ctx, const fs::path& audit, const UploadObserver& observer,
                    UploadReport& report) {
  const Manifest& m = *b.manifest;
  try {
    const OffsiteCopy copy = upload_backup(client, target, b, ctx);
    report.uploaded.push_back(copy);
    report.uploaded_bytes += m.size_bytes;
    if (observer.uploaded) observer.uploaded(m.size_bytes);
    spdlog::info("copied {} to {} ({})", m.file, copy.url, copy.storage_class);
    append_audit(audit,
                 {{"target", target.name},
                  {"operation", "upload"},
                  {"outcome", "success"},
                  {"file", m.file},
                  {"url", copy.url},
                  {"storage_class", copy.storage_class},
                  {"size_bytes", m.size_bytes}},
                 ctx.now());
    return true;
  } catch (const std::exception& e) {
    if (observer.failed) observer.failed();
    report.failures.push_back(m.file + ": " + e.what());
    append_audit(audit,
                 {{"target", target.name},
                  {"operation", "upload"},
                  {"outcome", "failure"},
                  {"file", m.file},
                  {"error", e.what()}},
                 ctx.now());
    const auto* s3e = dynamic_cast<const S3Error*>(&e);
    return !s3e || s3e->code() == "AccessDenied";
  }
}

}  // namespace

std::string offsite_key(const S3Config& s3, const std::string& file_name) {
  return s3.prefix + file_name;
}

S3Tuning offsite_tuning(const S3Config& s3, const JobContext& ctx) {
  S3Tuning t;
  t.multipart_threshold = s3.multipart_threshold;
  t.part_size = s3.part_size;
  t.list_page_size = s3.list_page_size;
  t.stall_timeout = s3.stall_timeout;
  t.cancel = ctx.cancel;
  t.clock = &ctx.clock;
  return t;
}

bool is_offsite(const Manifest& manifest, const S3Config& s3) {
  const std::string url = format_s3_url(s3.bucket, offsite_key(s3, manifest.file));
  return std::any_of(manifest.offsite.begin(), manifest.offsite.end(),
                     [&](const OffsiteCopy& o) { return o.url == url; });
}

std::vector<const CatalogEntry*> pending_offsite(const std::vector<CatalogEntry>& backups,
                                                 const S3Config& s3,
                                                 const RetentionConfig& retention, SysTime now) {
  std::vector<const CatalogEntry*> out;
  for (const CatalogEntry& b : backups) {
    if (!b.good()) continue;
    const Tier tier = b.manifest->tier;
    const bool wanted =
        std::find(s3.tiers.begin(), s3.tiers.end(), tier_name(tier)) != s3.tiers.end();
    // Off-site retention would delete it at once: a copy past its window is not owed.
    const bool expired = now - b.started_at >= window_of(tier, retention);
    if (wanted && !expired && !is_offsite(*b.manifest, s3)) out.push_back(&b);
  }
  return out;
}

OffsiteCopy upload_backup(S3Client& client, const TargetConfig& target, const CatalogEntry& backup,
                          const JobContext& ctx) {
  const S3Config& s3 = client.config();
  const Manifest& m = *backup.manifest;
  const std::string key = offsite_key(s3, m.file);
  const S3PutOptions options = dump_options(s3, m);
  std::string etag;
  if (const auto there = already_there(client, key, m)) {
    spdlog::info("{} is already in the bucket; recording it", format_s3_url(s3.bucket, key));
    etag = there->etag;
  } else {
    // The dump's SHA-256 is checked again here: a file changed on disk since the backup must
    // not become the off-site copy.
    ProgressLine progress(ctx.progress, "upload " + m.file, ProgressUnit::bytes, m.size_bytes);
    const S3Upload sent =
        client.upload_file(key, backup.dump, options, [&](std::uint64_t n) { progress.update(n); });
    progress.finish();
    if (sent.bytes != m.size_bytes) {
      throw OperationError(backup.dump.string() + " is " + std::to_string(sent.bytes) +
                           " bytes but its manifest says " + std::to_string(m.size_bytes));
    }
    verify_object(client, key, sent, options);
    etag = sent.etag;
  }
  // The companion file, like the manifest, stays in the default storage class: a restore onto
  // a new server reads it first.
  // Both are read as the scan read the manifest (PosixStorage: no link, no other user's file),
  // and the companion is checked against the manifest like the dump.
  const S3PutOptions manifest_opts = manifest_options(s3);
  if (m.globals) {
    const S3Upload globals = client.put_bytes(
        key + kGlobalsSuffix, read_globals_text(globals_path(backup), *m.globals), manifest_opts);
    verify_object(client, key + kGlobalsSuffix, globals, manifest_opts);
  }
  // The manifest goes last: in the bucket as on disk, a dump without one is not a backup.
  PosixStorage local(backup.dump.parent_path());
  const S3Upload manifest = client.put_bytes(
      key + kManifestSuffix, local.read(manifest_path(backup).filename().string()), manifest_opts);
  verify_object(client, key + kManifestSuffix, manifest, manifest_opts);

  OffsiteCopy copy{format_s3_url(s3.bucket, key), options.storage_class, etag,
                   format_iso8601(ctx.now())};
  record_copy(target, backup, copy);
  return copy;
}

UploadReport run_offsite_job(const Config& config, const TargetConfig& target,
                             const JobContext& ctx, const std::optional<fs::path>& only,
                             const UploadObserver& observer) {
  const S3Config& s3 = s3_of(target);
  const DumpCatalog repo(target.backup.dir, target.backup.file_prefix);
  const fs::path audit = config.audit_log_for(target);
  const std::vector<CatalogEntry> backups = repo.scan();
  std::vector<const CatalogEntry*> todo = pending_offsite(backups, s3, target.retention, ctx.now());
  UploadReport report;
  report.pending_before = todo.size();
  if (only) {
    const CatalogEntry* it = find_backup(backups, *only);
    if (!it || !it->good()) {
      throw OperationError(only->string() + " is not a good backup of target " + target.name +
                           " in " + target.backup.dir.string() + " (hint: pgbackup-agent list)");
    }
    todo = {it};
  }

  JobRun run(config, target, "offsite", "", ctx);  // each copy has its own audit line
  const bool had_failed = [&] {
    const TargetState state = load_state(target.state_dir());
    return state.offsite && !state.offsite->success;
  }();
  try {
    S3Tuning tuning = offsite_tuning(s3, ctx);
    tuning.retried = observer.retried;
    S3Client client(s3, read_s3_credentials(s3), tuning);
    try {
      client.check_access(s3.prefix);
    } catch (const std::exception&) {
      // Wrong keys, no bucket, no network: every pending backup failed to go off-site.
      for (std::size_t i = 0; i < todo.size() && observer.failed; ++i) observer.failed();
      throw;
    }
    for (const CatalogEntry* b : todo) {
      if (ctx.cancel && *ctx.cancel) break;
      if (!copy_and_audit(client, target, *b, ctx, audit, observer, report)) break;
    }
    const std::string blocked = retention_blocked_reason(target, backups);
    if (!blocked.empty()) {
      spdlog::info("off-site retention of {} not applied: {}", target.name, blocked);
    } else if (report.failures.empty()) {
      report.prune =
          prune_offsite(client, target, audit, ctx.now(), RetentionRun::automatic, false);
    }
  } catch (const std::exception& e) {
    if (dynamic_cast<const ConfigError*>(&e)) {
      run.not_attempted();  // the configuration is wrong, not the bucket
      throw;
    }
    report.failures.push_back(e.what());
  }

  // A run with nothing to do is not an attempt, unless it clears an earlier failure.
  const bool attempted =
      !todo.empty() || !report.prune.deleted.empty() || had_failed || !report.failures.empty();
  const std::string error = join(report.failures, "; ");
  if (!attempted) {
    run.not_attempted();
  } else {
    const std::string file =
        report.uploaded.empty() ? "" : fs::path(report.uploaded.back().url).filename().string();
    if (report.failures.empty()) {
      run.succeed(file);
    } else {
      run.fail(error, file);
    }
  }
  if (!report.failures.empty()) {
    throw OperationError("off-site copy of " + target.name + " failed: " + error);
  }
  return report;
}

FetchedBackup::~FetchedBackup() {
  if (dir.empty()) return;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

FetchedBackup::FetchedBackup(FetchedBackup&& other) noexcept
    : dir(std::exchange(other.dir, {})), entry(std::move(other.entry)) {}

bool is_s3_url(const std::string& file) { return file.rfind("s3://", 0) == 0; }

FetchedBackup fetch_offsite_backup(const TargetConfig& target, const std::string& url,
                                   const fs::path& parent, const JobContext& ctx) {
  const std::optional<S3Location> where = parse_s3_url(url);
  if (!where) {
    throw ConfigError("\"" + url + "\" is not an s3://BUCKET/KEY address");
  }
  S3Config s3 = s3_of(target);
  s3.bucket = where->bucket;
  S3Client client(s3, read_s3_credentials(s3), offsite_tuning(s3, ctx));
  FetchedBackup fetched;
  fetched.dir = make_private_temp_dir(parent);  // removed by ~FetchedBackup if anything fails
  {
    const std::string name = fs::path(where->key).filename().string();
    fetched.entry.dump = fetched.dir / name;
    client.download(where->key + kManifestSuffix, manifest_path(fetched.entry));
    const Manifest m =
        manifest_from_json(nlohmann::json::parse(read_file(manifest_path(fetched.entry))));
    if (m.globals) {
      client.download(where->key + kGlobalsSuffix, globals_path(fetched.entry));
      if (const std::string problem = globals_file_problem(globals_path(fetched.entry), *m.globals);
          !problem.empty()) {
        throw OperationError(url + ": " + problem +
                             " (hint: the copy is damaged; use another backup)");
      }
    }
    client.download(where->key, fetched.entry.dump);
    const std::uint64_t size = fs::file_size(fetched.entry.dump);
    if (size != m.size_bytes) {
      throw OperationError(url + " is " + std::to_string(size) + " bytes but its manifest says " +
                           std::to_string(m.size_bytes) +
                           " (hint: the copy is damaged; use another backup)");
    }
    const std::string sha = sha256_file(fetched.entry.dump);
    if (sha != m.sha256) {
      throw OperationError(url + " does not match its manifest's SHA-256 (got " + sha +
                           ") (hint: the copy is damaged; use another backup)");
    }
    fetched.entry.started_at = m.started_at;
    fetched.entry.file_size = size;
    fetched.entry.manifest = m;
  }
  return fetched;
}

}  // namespace pgbackup
