#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/engines/pg_dump/dump_catalog.h"
#include "agent/jobs/backup.h"
#include "agent/jobs/job_context.h"
#include "agent/jobs/prune.h"
#include "agent/storage/s3/client.h"

namespace pgbackup {

// The object key of a backup file: the configured prefix followed by the file name.
std::string offsite_key(const S3Config& s3, const std::string& file_name);
// The transfer settings of a config, with the job's clock and its way to stop transfers.
S3Tuning offsite_tuning(const S3Config& s3, const JobContext& ctx);

// Whether this good backup has a recorded copy in the configured bucket.
bool is_offsite(const Manifest& manifest, const S3Config& s3);
// Good backups whose tier is in offsite.s3.tiers, still inside their tier's retention window,
// and with no recorded copy: what should be off-site and is not. Oldest first.
std::vector<const CatalogEntry*> pending_offsite(const std::vector<CatalogEntry>& backups,
                                                 const S3Config& s3,
                                                 const RetentionConfig& retention, SysTime now);

// Uploads one good backup: the dump (with its tier's storage class and the configured
// encryption), then its manifest; checks both with HEAD (size, ETag) and only then records the
// copy in the local manifest (atomic rewrite under the directory lock). A dump already in the
// bucket with the same size and SHA-256 is not sent again. Throws OperationError/S3Error.
OffsiteCopy upload_backup(S3Client& client, const TargetConfig& target, const CatalogEntry& backup,
                          const JobContext& ctx);

struct UploadReport {
  std::vector<OffsiteCopy> uploaded;
  std::uint64_t uploaded_bytes = 0;
  std::vector<std::string> failures;  // one message per backup that could not be copied
  std::size_t pending_before = 0;
  OffsitePruneResult prune;
};

// Counts of an upload run as they happen, for the daemon's counters.
struct UploadObserver {
  std::function<void(std::uint64_t bytes)> uploaded;
  std::function<void()> failed;
  std::function<void(RetryReason)> retried;  // an S3 request is tried again (S3Tuning::retried)
};

// The off-site job (`upload` and the daemon): copies `only` (a dump path) or every pending
// backup, then applies off-site retention. Records the attempt in state.json ("offsite") and
// the audit log. Throws OperationError naming every backup that failed, after trying them all.
UploadReport run_offsite_job(const Config& config, const TargetConfig& target,
                             const JobContext& ctx,
                             const std::optional<std::filesystem::path>& only = std::nullopt,
                             const UploadObserver& observer = {});

// A backup fetched from the bucket for restore and restore-test (the seed's scenario 3). Owns
// its 0700 temporary directory: removed when this goes away.
struct FetchedBackup {
  std::filesystem::path dir;
  CatalogEntry entry;  // the dump inside it, with its manifest

  FetchedBackup() = default;
  ~FetchedBackup();
  FetchedBackup(FetchedBackup&& other) noexcept;
  FetchedBackup& operator=(FetchedBackup&& other) = delete;
  FetchedBackup(const FetchedBackup&) = delete;
};

// Whether a FILE argument names an object in a bucket ("s3://...").
bool is_s3_url(const std::string& file);

// Downloads s3://bucket/key and its .json manifest into a new 0700 directory under `parent`,
// checks size and SHA-256 against the manifest, and returns it as a good CatalogEntry. The
// bucket may differ from offsite.s3.bucket (endpoint, region and keys come from the config).
FetchedBackup fetch_offsite_backup(const TargetConfig& target, const std::string& url,
                                   const std::filesystem::path& parent, const JobContext& ctx);

}  // namespace pgbackup
