#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/core/clock.h"
#include "agent/core/errors.h"
#include "agent/core/timeutil.h"
#include "agent/storage/s3/curl_session.h"
#include "agent/storage/s3/sigv4.h"
#include "agent/storage/s3/xml.h"

namespace pgbackup {

// A request S3 answered with an error (or that never reached it). The message says what went
// wrong and what to do; `code` is S3's error code ("NoSuchBucket", "AccessDenied"...) or
// "NetworkError" when the endpoint could not be reached.
class S3Error : public OperationError {
 public:
  S3Error(const std::string& message, long http_status, std::string code)
      : OperationError(message), http_status_(http_status), code_(std::move(code)) {}
  long http_status() const { return http_status_; }
  const std::string& code() const { return code_; }

 private:
  long http_status_;
  std::string code_;
};

// The keys from the environment variables the config names. Throws ConfigError naming the
// variable that is not set. The keys live only in memory: never logged, never in argv.
S3Credentials read_s3_credentials(const S3Config& config);

// "s3://bucket/key" <-> bucket and key.
struct S3Location {
  std::string bucket;
  std::string key;
};
std::optional<S3Location> parse_s3_url(const std::string& url);
std::string format_s3_url(const std::string& bucket, const std::string& key);

// How an object is stored: the tier's storage class and server-side encryption.
struct S3PutOptions {
  std::string storage_class;                    // empty: the bucket's default
  std::string server_side_encryption;           // "", "AES256" or "aws:kms"
  std::string kms_key_id;                       // with aws:kms; empty: the account's default key
  std::map<std::string, std::string> metadata;  // sent as x-amz-meta-NAME
};

struct S3Upload {
  std::string etag;           // what S3 answered, without quotes
  std::string expected_etag;  // what S3 computes: the MD5, or MD5-of-part-MD5s "-N" for multipart
  std::string content_md5;    // MD5 of the whole body (what emulators give multipart uploads)
  std::uint64_t bytes = 0;
  int parts = 0;  // 0: single PUT
};

// Why a request failed in a way worth another attempt: the `reason` label of
// pgbackup_offsite_retries_total.
enum class RetryReason {
  network,       // no answer: refused, reset, cut in the middle of a body
  timeout,       // no answer in time: the connect timeout, or a transfer stalled past stall_timeout
  throttled,     // 429, or 503 (S3's SlowDown)
  server_error,  // any other 5xx
};
constexpr RetryReason kRetryReasons[] = {RetryReason::network, RetryReason::timeout,
                                         RetryReason::throttled, RetryReason::server_error};
const char* retry_reason_name(RetryReason reason);
// The reason to retry an answer (`status` 0: none came, and `timed_out` says whether a timeout
// was why), or nullopt when trying again cannot help (2xx-4xx other than 429).
std::optional<RetryReason> retry_reason(long status, bool timed_out);

// Knobs with production defaults; tests make them small so multipart and pagination run on
// small data.
struct S3Tuning {
  std::uint64_t multipart_threshold = 64ull << 20;  // files of this size or more go multipart
  std::uint64_t part_size = 16ull << 20;            // memory per part in flight
  int list_page_size = 1000;
  int max_attempts = 4;  // per request, for network errors, 5xx and throttling
  std::chrono::milliseconds first_retry_delay{500};  // doubled after each failed attempt
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds stall_timeout{60};     // under 1 KiB/s for this long: cut and retried
  const std::atomic<bool>* cancel = nullptr;  // set by another thread to stop transfers
  // Told before each retry, with why (the daemon counts them); may be empty.
  std::function<void(RetryReason)> retried;
  // Where request times (SigV4 signs them) come from and retry pauses are waited out; null:
  // the operating system's clock.
  const Clock* clock = nullptr;
};

// A small S3 client (DESIGN §3 offsite.s3): requests signed with SigV4 (sigv4.h) and sent with
// libcurl (curl_session.h), retried on network errors, 5xx and throttling. One instance per thread
// (it owns a curl handle). Every call throws S3Error on failure.
class S3Client {
 public:
  S3Client(S3Config config, S3Credentials credentials, S3Tuning tuning = {});
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Config& config() const { return config_; }
  const S3Tuning& tuning() const { return tuning_; }

  // Uploads a file streamed from disk: one PUT below the multipart threshold, else a multipart
  // upload in parts of part_size (aborted if any part fails, so nothing half-done stays).
  // `on_sent`, when given, is told the bytes sent so far after each part (or the one PUT).
  using SentBytes = std::function<void(std::uint64_t)>;
  S3Upload upload_file(const std::string& key, const std::filesystem::path& file,
                       const S3PutOptions& options, const SentBytes& on_sent = {});
  // One PUT of an in-memory body (manifests).
  S3Upload put_bytes(const std::string& key, const std::string& body, const S3PutOptions& options);
  // The object's size, ETag, storage class and metadata, or nullopt when it does not exist.
  std::optional<S3ObjectInfo> head(const std::string& key);
  // Downloads an object into `file` (created 0600, replaced if present).
  void download(const std::string& key, const std::filesystem::path& file);
  std::string get_bytes(const std::string& key);
  void remove(const std::string& key);
  // One small listing of `prefix`: proves the endpoint, the keys and the bucket before any
  // large transfer, with S3's own error code when one of them is wrong.
  void check_access(const std::string& prefix);
  // Every object under `prefix`, following ListObjectsV2 continuation tokens.
  std::vector<S3ObjectInfo> list(const std::string& prefix);

 private:
  const Clock& clock() const;
  // One exchange with S3. `query` is already encoded.
  struct Request {
    std::string method = "GET";
    std::string key;  // empty: the bucket itself
    std::string query;
    std::vector<std::string> headers;
    BodySource body;
    std::string payload_sha256 = kEmptyPayloadSha256;
    const Fd* download_to = nullptr;  // GET: the body goes there when the answer is 2xx
    std::string storage_class;        // for error hints
  };

  // Signs and sends `request`, retrying transient failures; throws S3Error for the rest.
  CurlResponse perform(const Request& request);
  CurlResponse perform_once(const Request& request);
  S3Upload put_single(const std::string& key, const std::filesystem::path& file, std::uint64_t size,
                      const S3PutOptions& options);
  S3Upload put_multipart(const std::string& key, const std::filesystem::path& file,
                         std::uint64_t size, const S3PutOptions& options, const SentBytes& on_sent);
  // Uploads the parts of a started multipart upload and completes it.
  S3Upload send_parts(const std::string& key, const Fd& fd, std::uint64_t size,
                      const std::string& id_query, const SentBytes& on_sent);
  void abort_multipart(const std::string& key, const std::string& id_query);
  std::string list_query(const std::string& prefix, const std::string& token, int page_size) const;
  [[noreturn]] void fail(const Request& request, const CurlResponse& response) const;

  S3Config config_;
  S3Credentials credentials_;
  S3Tuning tuning_;
  CurlSession http_;
};

// The URL of `key` (empty: the bucket) with an encoded `query`: path style
// (ENDPOINT/BUCKET/KEY) or virtual-hosted style (BUCKET.HOST/KEY) as the config says.
std::string s3_request_url(const S3Config& config, const std::string& key,
                           const std::string& query);

}  // namespace pgbackup
