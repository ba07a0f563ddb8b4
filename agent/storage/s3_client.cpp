#include "agent/storage/s3_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

#include "agent/core/sha256.h"

namespace pgbackup {
namespace fs = std::filesystem;

namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// curl_global_init is not thread-safe; run it once before any handle exists.
void init_curl_once() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  if (!done) throw OperationError("cannot initialise libcurl");
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const auto first = s.find_first_not_of(' ');
  return first == std::string::npos ? "" : s.substr(first);
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

std::string xml_decode(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&quot;", "\""}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [entity, text] : kEntities) {
    for (std::size_t at = s.find(entity); at != std::string::npos; at = s.find(entity, at + 1)) {
      s.replace(at, std::strlen(entity), text);
    }
  }
  return s;
}

// The raw inner text of every <tag>...</tag> (no nesting of the same tag in S3's answers).
std::vector<std::string> xml_blocks(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">";
  const std::string close = "</" + tag + ">";
  for (std::size_t at = xml.find(open); at != std::string::npos; at = xml.find(open, at)) {
    const std::size_t begin = at + open.size();
    const std::size_t end = xml.find(close, begin);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(begin, end - begin));
    at = end + close.size();
  }
  return out;
}

std::string xml_first(const std::string& xml, const std::string& tag) {
  const auto values = xml_values(xml, tag);
  return values.empty() ? "" : values.front();
}

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  Fd(const fs::path& path, int flags, const char* doing) : path_(path) {
    fd_ = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      throw OperationError(std::string("cannot ") + doing + " " + path.string() + ": " +
                           std::strerror(errno));
    }
  }
  ~Fd() { ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

  // Reads exactly `size` bytes at `offset` (the file must not shrink meanwhile).
  void read_at(char* buffer, std::size_t size, std::uint64_t offset) const {
    std::size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd_, buffer + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw OperationError("cannot read " + path_.string() + ": " +
                             (n == 0 ? "it shrank while being uploaded" : std::strerror(errno)));
      }
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

// What a request sends: nothing, a string, or a region of a file streamed with pread.
struct BodySource {
  const char* memory = nullptr;
  const Fd* file = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t position = 0;
};

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto* body = static_cast<BodySource*>(user);
  const std::size_t n = static_cast<std::size_t>(
      std::min<std::uint64_t>(size * count, body->length - body->position));
  if (n == 0) return 0;
  try {
    if (body->memory) {
      std::memcpy(buffer, body->memory + body->position, n);
    } else {
      body->file->read_at(buffer, n, body->offset + body->position);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return CURL_READFUNC_ABORT;
  }
  body->position += n;
  return n;
}

int seek_body(void* user, curl_off_t offset, int origin) {
  auto* body = static_cast<BodySource*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > body->length) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  body->position = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// SHA-256 (hex) and MD5 (raw) of a region of a file, for the signed payload hash and the ETag.
struct RegionDigests {
  std::string sha256_hex;
  std::string md5_raw;
};

RegionDigests digest_region(const Fd& file, std::uint64_t offset, std::uint64_t length) {
  Sha256 sha;
  Md5 md5;
  std::vector<char> buffer(1 << 20);
  for (std::uint64_t done = 0; done < length;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - done));
    file.read_at(buffer.data(), n, offset + done);
    sha.update(buffer.data(), n);
    md5.update(buffer.data(), n);
    done += n;
  }
  return {sha.hex_digest(), md5.raw_digest()};
}

RegionDigests digest_bytes(const char* data, std::size_t size) {
  Sha256 sha;
  Md5 md5;
  sha.update(data, size);
  md5.update(data, size);
  return {sha.hex_digest(), md5.raw_digest()};
}

// The headers that say how an object is stored; they are part of the signed request.
std::vector<std::string> storage_headers(const S3PutOptions& options) {
  std::vector<std::string> h;
  if (!options.storage_class.empty()) h.push_back("x-amz-storage-class: " + options.storage_class);
  if (!options.server_side_encryption.empty()) {
    h.push_back("x-amz-server-side-encryption: " + options.server_side_encryption);
    if (options.server_side_encryption == "aws:kms" && !options.kms_key_id.empty()) {
      h.push_back("x-amz-server-side-encryption-aws-kms-key-id: " + options.kms_key_id);
    }
  }
  for (const auto& [name, value] : options.metadata)
    h.push_back("x-amz-meta-" + name + ": " + value);
  return h;
}

bool retryable(long status) { return status >= 500 || status == 429; }

}  // namespace

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

std::string s3_uri_encode(const std::string& text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::vector<std::string> xml_values(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out = xml_blocks(xml, tag);
  for (std::string& v : out) v = xml_decode(v);
  return out;
}

S3ListPage parse_list_page(const std::string& xml) {
  S3ListPage page;
  for (const std::string& block : xml_blocks(xml, "Contents")) {
    S3ObjectInfo o;
    o.key = xml_first(block, "Key");
    o.size = std::strtoull(xml_first(block, "Size").c_str(), nullptr, 10);
    o.etag = unquote(xml_first(block, "ETag"));
    o.storage_class = xml_first(block, "StorageClass");
    o.last_modified = parse_iso8601(xml_first(block, "LastModified"));
    page.objects.push_back(std::move(o));
  }
  if (xml_first(xml, "IsTruncated") == "true") {
    page.next_continuation_token = xml_first(xml, "NextContinuationToken");
  }
  return page;
}

namespace {

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sha256_hex(const std::string& data) {
  Sha256 sha;
  sha.update(data.data(), data.size());
  return sha.hex_digest();
}

std::string header_name(const std::string& line) { return lower(line.substr(0, line.find(':'))); }

}  // namespace

std::string sigv4_authorization(const SigV4Request& r, const S3Credentials& credentials) {
  std::vector<std::pair<std::string, std::string>> headers = {{"host", r.host}};
  for (const auto& [name, value] : r.headers) headers.emplace_back(lower(name), trim(value));
  std::sort(headers.begin(), headers.end());  // by name: names are unique
  std::string canonical_headers;
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    signed_headers += (signed_headers.empty() ? "" : ";") + name;
  }
  const std::string canonical = r.method + "\n" + r.path + "\n" + r.query + "\n" +
                                canonical_headers + "\n" + signed_headers + "\n" + r.payload_sha256;
  const std::string day = r.amz_date.substr(0, 8);
  const std::string scope = day + "/" + r.region + "/s3/aws4_request";
  const std::string to_sign =
      "AWS4-HMAC-SHA256\n" + r.amz_date + "\n" + scope + "\n" + sha256_hex(canonical);
  const std::string key = hmac_sha256(
      hmac_sha256(hmac_sha256(hmac_sha256("AWS4" + credentials.secret_access_key, day), r.region),
                  "s3"),
      "aws4_request");
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
         ", SignedHeaders=" + signed_headers +
         ", Signature=" + hex_encode(hmac_sha256(key, to_sign));
}

bool curl_sigv4_misorders(const std::vector<std::string>& headers) {
  for (const std::string& a : headers) {
    for (const std::string& b : headers) {
      const std::string na = header_name(a), nb = header_name(b);
      if (na != nb && nb.rfind(na, 0) == 0) return true;
    }
  }
  return false;
}

// One HTTP exchange with S3. `query` is already encoded and sorted (curl signs it as given).
struct S3Client::Request {
  std::string method = "GET";
  std::string key;  // empty: the bucket itself
  std::string query;
  std::vector<std::string> headers;
  BodySource body;
  std::string payload_sha256 = kEmptySha256;
  const Fd* download_to = nullptr;  // GET: the body goes there when the answer is 2xx
  std::string storage_class;        // for error hints
};

struct S3Client::Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;                            // the body (or the error body of a download)
  std::uint64_t downloaded = 0;
  CURL* curl = nullptr;
  const Fd* download_to = nullptr;
};

S3Client::S3Client(S3Config config, S3Credentials credentials, S3Tuning tuning)
    : config_(std::move(config)), credentials_(std::move(credentials)), tuning_(tuning) {
  init_curl_once();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw OperationError("cannot create a libcurl handle");
}

S3Client::~S3Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

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

S3Client::Response S3Client::perform_once(const Request& request, std::string& network_error) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache
  Response response;
  response.curl = curl;
  response.download_to = request.download_to;
  BodySource body = request.body;
  body.position = 0;
  if (request.download_to && ::ftruncate(request.download_to->get(), 0) != 0) {
    throw OperationError(std::string("cannot truncate the download file: ") + std::strerror(errno));
  }

  const std::string url = s3_request_url(config_, request.key, request.query);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  std::vector<std::string> header_lines = request.headers;
  header_lines.push_back("x-amz-content-sha256: " + request.payload_sha256);
  const std::string sigv4 = "aws:amz:" + config_.region + ":s3";
  if (curl_sigv4_misorders(header_lines)) {
    sign_here(url, request, header_lines);
  } else {
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                   static_cast<long>(tuning_.connect_timeout.count()));
  // A stalled transfer (under 1 KiB/s for a minute) is a network error, retried.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);

  curl_slist* headers = nullptr;
  for (const std::string& h : header_lines) headers = curl_slist_append(headers, h.c_str());

  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.length));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.length));
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_READDATA, &body);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, seek_body);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &body);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  curl_easy_setopt(
      curl, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t count, void* user) {
        auto* r = static_cast<Response*>(user);
        const std::string line(data, size * count);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
          r->headers[lower(line.substr(0, colon))] = trim(line.substr(colon + 1));
        } else if (line.rfind("HTTP/", 0) == 0) {
          r->headers.clear();  // a new response (after 100 Continue)
        }
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* user) {
        auto* r = static_cast<Response*>(user);
        const std::size_t n = size * count;
        long status = 0;
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (r->download_to && status / 100 == 2) {
          // At an explicit offset: a retry after a broken transfer truncates the file but does
          // not move the descriptor's offset, and a plain write() would leave a hole of zeros.
          for (std::size_t done = 0; done < n;) {
            const ssize_t w = ::pwrite(r->download_to->get(), data + done, n - done,
                                       static_cast<off_t>(r->downloaded + done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) return std::size_t{0};  // a write error (disk full) aborts the transfer
            done += static_cast<std::size_t>(w);
          }
          r->downloaded += n;
        } else if (r->body.size() < (64u << 20)) {
          r->body.append(data, n);
        }
        return n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  if (tuning_.cancel) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(
        curl, CURLOPT_XFERINFOFUNCTION,
        +[](void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
          return static_cast<const std::atomic<bool>*>(user)->load() ? 1 : 0;
        });
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, tuning_.cancel);
  }

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    network_error = curl_easy_strerror(rc);
    response.status = 0;
    return response;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

void S3Client::sign_here(const std::string& url, const Request& request,
                         std::vector<std::string>& header_lines) const {
  // URL = scheme://host/path?query; the Host header is set explicitly so curl sends what was
  // signed.
  const std::size_t host_at = url.find("://") + 3;
  const std::size_t path_at = url.find('/', host_at);
  SigV4Request r;
  r.method = request.method;
  r.host = url.substr(host_at, path_at - host_at);
  r.path = url.substr(path_at, url.find('?', path_at) - path_at);
  r.query = request.query;
  r.payload_sha256 = request.payload_sha256;
  r.region = config_.region;
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  r.amz_date = stamp;
  header_lines.push_back(std::string("x-amz-date: ") + stamp);
  for (const std::string& line : header_lines) {
    const auto colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  header_lines.push_back("Host: " + r.host);
  header_lines.push_back("Authorization: " + sigv4_authorization(r, credentials_));
}

S3Client::Response S3Client::perform(const Request& request) {
  auto delay = tuning_.first_retry_delay;
  for (int attempt = 1;; ++attempt) {
    std::string network_error;
    Response response = perform_once(request, network_error);
    const bool cancelled = tuning_.cancel && tuning_.cancel->load();
    if (cancelled) throw S3Error("S3 transfer stopped for shutdown", 0, "Cancelled");
    const bool transient = response.status == 0 || retryable(response.status);
    if (!transient || attempt >= tuning_.max_attempts) {
      if (response.status == 0) {
        throw S3Error("cannot reach the S3 endpoint " + config_.endpoint + " (" + request.method +
                          " " + format_s3_url(config_.bucket, request.key) + ", " +
                          std::to_string(attempt) + " attempts): " + network_error +
                          " (hint: check offsite.s3.endpoint, DNS and the network)",
                      0, "NetworkError");
      }
      if (response.status / 100 != 2) fail(request, response);
      return response;
    }
    spdlog::warn("S3 {} {} failed ({}), retrying in {} ms", request.method,
                 format_s3_url(config_.bucket, request.key),
                 response.status == 0 ? network_error : "HTTP " + std::to_string(response.status),
                 delay.count());
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

void S3Client::fail(const Request& request, const Response& response) const {
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

S3Upload S3Client::upload_file(const std::string& key, const fs::path& file,
                               const S3PutOptions& options) {
  std::error_code ec;
  const std::uint64_t size = fs::file_size(file, ec);
  if (ec) throw OperationError("cannot read " + file.string() + ": " + ec.message());
  if (size >= tuning_.multipart_threshold && size > 0) {
    return put_multipart(key, file, size, options);
  }
  return put_single(key, file, size, options);
}

S3Upload S3Client::put_single(const std::string& key, const fs::path& file, std::uint64_t size,
                              const S3PutOptions& options) {
  const Fd fd(file, O_RDONLY, "read");
  // Hashing first costs one more read of a file under the multipart threshold (usually in the
  // page cache); in exchange S3 checks the signed SHA-256 and we check its MD5 ETag.
  const RegionDigests digests = digest_region(fd, 0, size);
  Request request;
  request.method = "PUT";
  request.key = key;
  request.headers = storage_headers(options);
  request.body.file = &fd;
  request.body.length = size;
  request.payload_sha256 = digests.sha256_hex;
  request.storage_class = options.storage_class;
  const Response response = perform(request);
  return {unquote(response.headers.count("etag") ? response.headers.at("etag") : ""),
          hex_encode(digests.md5_raw), hex_encode(digests.md5_raw), size, 0};
}

S3Upload S3Client::put_bytes(const std::string& key, const std::string& body,
                             const S3PutOptions& options) {
  const RegionDigests digests = digest_bytes(body.data(), body.size());
  Request request;
  request.method = "PUT";
  request.key = key;
  request.headers = storage_headers(options);
  request.body.memory = body.data();
  request.body.length = body.size();
  request.payload_sha256 = digests.sha256_hex;
  request.storage_class = options.storage_class;
  const Response response = perform(request);
  return {unquote(response.headers.count("etag") ? response.headers.at("etag") : ""),
          hex_encode(digests.md5_raw), hex_encode(digests.md5_raw), body.size(), 0};
}

S3Upload S3Client::put_multipart(const std::string& key, const fs::path& file, std::uint64_t size,
                                 const S3PutOptions& options) {
  const Fd fd(file, O_RDONLY, "read");
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  Request create;
  create.method = "POST";
  create.key = key;
  create.query = "uploads=";  // curl signs a bare "uploads" wrongly
  create.headers = storage_headers(options);
  create.storage_class = options.storage_class;
  const std::string upload_id = xml_first(perform(create).body, "UploadId");
  if (upload_id.empty()) {
    throw S3Error("S3 started no multipart upload for " + format_s3_url(config_.bucket, key) +
                      " (no UploadId in its answer)",
                  200, "");
  }
  const std::string id_query = "uploadId=" + s3_uri_encode(upload_id, false);
  try {
    std::string complete = "<CompleteMultipartUpload>";
    std::string part_md5s;
    Md5 whole;
    std::vector<char> buffer(static_cast<std::size_t>(std::min(tuning_.part_size, size)));
    int parts = 0;
    for (std::uint64_t offset = 0; offset < size; offset += tuning_.part_size) {
      const std::size_t length =
          static_cast<std::size_t>(std::min<std::uint64_t>(tuning_.part_size, size - offset));
      fd.read_at(buffer.data(), length, offset);
      const RegionDigests digests = digest_bytes(buffer.data(), length);
      whole.update(buffer.data(), length);
      ++parts;
      Request part;
      part.method = "PUT";
      part.key = key;
      part.query = "partNumber=" + std::to_string(parts) + "&" + id_query;  // sorted
      part.body.memory = buffer.data();
      part.body.length = length;
      part.payload_sha256 = digests.sha256_hex;
      const Response answer = perform(part);
      const std::string etag =
          unquote(answer.headers.count("etag") ? answer.headers.at("etag") : "");
      complete += "<Part><PartNumber>" + std::to_string(parts) + "</PartNumber><ETag>\"" + etag +
                  "\"</ETag></Part>";
      part_md5s += digests.md5_raw;
    }
    complete += "</CompleteMultipartUpload>";
    Request finish;
    finish.method = "POST";
    finish.key = key;
    finish.query = id_query;
    finish.body.memory = complete.data();
    finish.body.length = complete.size();
    finish.payload_sha256 = digest_bytes(complete.data(), complete.size()).sha256_hex;
    finish.headers = {"Content-Type: application/xml"};
    const Response done = perform(finish);
    // CompleteMultipartUpload can answer 200 with an error in the body.
    if (!xml_first(done.body, "Code").empty()) fail(finish, done);
    Md5 of_parts;
    of_parts.update(part_md5s.data(), part_md5s.size());
    return {unquote(xml_first(done.body, "ETag")),
            of_parts.hex_digest() + "-" + std::to_string(parts), whole.hex_digest(), size, parts};
  } catch (...) {
    // An interrupted upload must not linger (S3 bills the parts) nor ever count as a copy. The
    // abort runs even when a shutdown interrupted the upload: it is one short request.
    const std::atomic<bool>* cancel = std::exchange(tuning_.cancel, nullptr);
    try {
      Request abort;
      abort.method = "DELETE";
      abort.key = key;
      abort.query = id_query;
      perform(abort);
    } catch (const std::exception& e) {
      spdlog::warn("cannot abort the multipart upload of {}: {}", key, e.what());
    }
    tuning_.cancel = cancel;
    throw;
  }
}

std::optional<S3ObjectInfo> S3Client::head(const std::string& key) {
  Request request;
  request.method = "HEAD";
  request.key = key;
  try {
    const Response response = perform(request);
    S3ObjectInfo info;
    info.key = key;
    auto header = [&](const std::string& name) {
      const auto it = response.headers.find(name);
      return it == response.headers.end() ? std::string() : it->second;
    };
    info.size = std::strtoull(header("content-length").c_str(), nullptr, 10);
    info.etag = unquote(header("etag"));
    info.storage_class = header("x-amz-storage-class");
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
  // Parameters in sorted order: curl signs the query as given.
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
