#include "agent/storage/s3/client.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "agent/core/sha256.h"

namespace pgbackup {
namespace fs = std::filesystem;

S3Credentials read_s3_credentials(const S3Config& config) {
  auto read = [](const std::string& variable, const char* what) {
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr || *value == '\0') {
      throw ConfigError("offsite.s3: the " + std::string(what) + " variable " + variable +
                        " is not set (hint: export " + variable +
                        ", or name another variable in offsite.s3." + what + "_env)");
    }
    return std::string(value);
  };
  return {read(config.access_key_id_env, "access_key_id"),
          read(config.secret_access_key_env, "secret_access_key")};
}

std::optional<S3Location> parse_s3_url(const std::string& url) {
  constexpr std::string_view kScheme = "s3://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  const std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) return std::nullopt;
  return S3Location{rest.substr(0, slash), rest.substr(slash + 1)};
}

std::string format_s3_url(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

std::string s3_request_url(const S3Config& config, const std::string& key,
                           const std::string& query) {
  std::string base = config.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string path = key.empty() ? "/" : "/" + s3_uri_encode(key, true);
  if (config.path_style) {
    base += "/" + config.bucket + (key.empty() ? "/" : path);
  } else {
    // Virtual-hosted style: the bucket becomes the first label of the host.
    const auto scheme_end = base.find("://");
    const std::size_t host_at = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    base.insert(host_at, config.bucket + ".");
    base += path;
  }
  return query.empty() ? base : base + "?" + query;
}

const char* retry_reason_name(RetryReason reason) {
  switch (reason) {
    case RetryReason::network:
      return "network";
    case RetryReason::timeout:
      return "timeout";
    case RetryReason::throttled:
      return "throttled";
    case RetryReason::server_error:
      return "server_error";
  }
  return "unknown";
}

std::optional<RetryReason> retry_reason(long status, bool timed_out) {
  if (status == 0) return timed_out ? RetryReason::timeout : RetryReason::network;
  if (status == 429 || status == 503) return RetryReason::throttled;
  if (status >= 500 && status <= 599) return RetryReason::server_error;
  return std::nullopt;
}

S3Client::S3Client(S3Config config, S3Credentials credentials, S3Tuning tuning)
    : config_(std::move(config)), credentials_(std::move(credentials)), tuning_(tuning) {}

const Clock& S3Client::clock() const {
  static const SystemClock system;
  return tuning_.clock ? *tuning_.clock : system;
}

CurlResponse S3Client::perform_once(const Request& request) {
  CurlRequest http;
  http.method = request.method;
  http.url = s3_request_url(config_, request.key, request.query);
  http.headers = request.headers;
  http.headers.push_back("x-amz-content-sha256: " + request.payload_sha256);
  sign_request(http.method, http.url, request.payload_sha256, config_.region, credentials_,
               clock().now(), http.headers);
  http.body = request.body;
  http.download_to = request.download_to;
  http.connect_timeout = tuning_.connect_timeout;
  http.stall_timeout = tuning_.stall_timeout;
  http.cancel = tuning_.cancel;
  return http_.perform(http);
}

CurlResponse S3Client::perform(const Request& request) {
  auto delay = tuning_.first_retry_delay;
  for (int attempt = 1;; ++attempt) {
    CurlResponse response = perform_once(request);
    const bool cancelled = tuning_.cancel && tuning_.cancel->load();
    if (cancelled) throw S3Error("S3 transfer stopped for shutdown", 0, "Cancelled");
    const std::optional<RetryReason> reason = retry_reason(response.status, response.timed_out);
    if (!reason || attempt >= tuning_.max_attempts) {
      if (response.status == 0) {
        throw S3Error("cannot reach the S3 endpoint " + config_.endpoint + " (" + request.method +
                          " " + format_s3_url(config_.bucket, request.key) + ", " +
                          std::to_string(attempt) + " attempts): " + response.network_error +
                          " (hint: check offsite.s3.endpoint, DNS and the network)",
                      0, "NetworkError");
      }
      if (response.status / 100 != 2) fail(request, response);
      return response;
    }
    spdlog::warn(
        "S3 {} {} failed ({}), retrying in {} ms", request.method,
        format_s3_url(config_.bucket, request.key),
        response.status == 0 ? response.network_error : "HTTP " + std::to_string(response.status),
        delay.count());
    if (tuning_.retried) tuning_.retried(*reason);
    clock().sleep_for(delay);
    delay *= 2;
  }
}

void S3Client::fail(const Request& request, const CurlResponse& response) const {
  const std::string code = xml_first(response.body, "Code");
  const std::string message = xml_first(response.body, "Message");
  const std::string what = request.method + " " + format_s3_url(config_.bucket, request.key);
  const std::string answered = "S3 answered " + std::to_string(response.status) +
                               (code.empty() ? "" : " " + code) +
                               (message.empty() ? "" : " (" + message + ")") + " to " + what;
  std::string hint;
  if (code == "NoSuchBucket" || (request.key.empty() && response.status == 404)) {
    hint = "the bucket \"" + config_.bucket + "\" does not exist at " + config_.endpoint +
           "; create it, or fix offsite.s3.bucket, endpoint and region";
  } else if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
             (response.status == 403 && code.empty())) {
    hint = "check the keys in " + config_.access_key_id_env + " and " +
           config_.secret_access_key_env + ", and offsite.s3.region (" + config_.region + ")";
  } else if (code == "AccessDenied" && !request.storage_class.empty()) {
    hint = "the credentials may not write with storage class " + request.storage_class +
           "; allow it in the bucket/IAM policy or change offsite.s3.storage_class";
  } else if (code == "AccessDenied") {
    hint =
        "the credentials' policy does not allow this; grant s3:PutObject, GetObject, "
        "DeleteObject and ListBucket on the bucket and prefix";
  } else if (code == "InvalidObjectState") {
    hint =
        "the object is in an archive storage class; restore it in S3 first (aws s3api "
        "restore-object) and retry once it is available";
  } else if (code == "InvalidStorageClass") {
    hint = "fix offsite.s3.storage_class";
  }
  throw S3Error(hint.empty() ? answered : answered + " (hint: " + hint + ")", response.status,
                code);
}

std::optional<S3ObjectInfo> S3Client::head(const std::string& key) {
  Request request;
  request.method = "HEAD";
  request.key = key;
  try {
    const CurlResponse response = perform(request);
    S3ObjectInfo info;
    info.key = key;
    info.size = std::strtoull(response.header("content-length").c_str(), nullptr, 10);
    info.etag = unquote(response.header("etag"));
    info.storage_class = response.header("x-amz-storage-class");
    for (const auto& [name, value] : response.headers) {
      if (name.rfind("x-amz-meta-", 0) == 0) info.metadata[name.substr(11)] = value;
    }
    return info;
  } catch (const S3Error& e) {
    if (e.http_status() == 404) return std::nullopt;
    throw;
  }
}

void S3Client::download(const std::string& key, const fs::path& file) {
  const Fd fd(file, O_WRONLY | O_CREAT | O_TRUNC, "create");
  Request request;
  request.key = key;
  request.download_to = &fd;
  perform(request);
  if (::fsync(fd.get()) != 0) {
    throw OperationError("cannot write " + file.string() + ": " + std::strerror(errno));
  }
}

std::string S3Client::get_bytes(const std::string& key) {
  Request request;
  request.key = key;
  return perform(request).body;
}

void S3Client::remove(const std::string& key) {
  Request request;
  request.method = "DELETE";
  request.key = key;
  perform(request);
}

std::string S3Client::list_query(const std::string& prefix, const std::string& token,
                                 int page_size) const {
  // Parameters in sorted order, as they are signed.
  return (token.empty() ? "" : "continuation-token=" + s3_uri_encode(token, false) + "&") +
         "list-type=2&max-keys=" + std::to_string(page_size) +
         "&prefix=" + s3_uri_encode(prefix, false);
}

void S3Client::check_access(const std::string& prefix) {
  Request request;
  request.query = list_query(prefix, "", 1);
  perform(request);
}

std::vector<S3ObjectInfo> S3Client::list(const std::string& prefix) {
  std::vector<S3ObjectInfo> all;
  std::string token;
  do {
    Request request;
    request.query = list_query(prefix, token, tuning_.list_page_size);
    S3ListPage page = parse_list_page(perform(request).body);
    std::move(page.objects.begin(), page.objects.end(), std::back_inserter(all));
    token = page.next_continuation_token;
  } while (!token.empty());
  return all;
}

}  // namespace pgbackup
