// S3Client's uploads: one PUT, or a multipart upload in parts.
#include <fcntl.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "agent/core/sha256.h"
#include "agent/storage/s3/client.h"

namespace pgbackup {
namespace fs = std::filesystem;

namespace {

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

}  // namespace

S3Upload S3Client::upload_file(const std::string& key, const fs::path& file,
                               const S3PutOptions& options, const SentBytes& on_sent) {
  std::error_code ec;
  const std::uint64_t size = fs::file_size(file, ec);
  if (ec) throw OperationError("cannot read " + file.string() + ": " + ec.message());
  if (size >= tuning_.multipart_threshold && size > 0) {
    return put_multipart(key, file, size, options, on_sent);
  }
  S3Upload sent = put_single(key, file, size, options);
  if (on_sent) on_sent(size);
  return sent;
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
  const CurlResponse response = perform(request);
  return {unquote(response.header("etag")), hex_encode(digests.md5_raw),
          hex_encode(digests.md5_raw), size, 0};
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
  const CurlResponse response = perform(request);
  return {unquote(response.header("etag")), hex_encode(digests.md5_raw),
          hex_encode(digests.md5_raw), body.size(), 0};
}

S3Upload S3Client::put_multipart(const std::string& key, const fs::path& file, std::uint64_t size,
                                 const S3PutOptions& options, const SentBytes& on_sent) {
  const Fd fd(file, O_RDONLY, "read");
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  Request create;
  create.method = "POST";
  create.key = key;
  create.query = "uploads=";  // a bare "uploads" in its canonical form
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
    return send_parts(key, fd, size, id_query, on_sent);
  } catch (...) {
    abort_multipart(key, id_query);
    throw;
  }
}

S3Upload S3Client::send_parts(const std::string& key, const Fd& fd, std::uint64_t size,
                              const std::string& id_query, const SentBytes& on_sent) {
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
    const std::string etag = unquote(perform(part).header("etag"));
    complete += "<Part><PartNumber>" + std::to_string(parts) + "</PartNumber><ETag>\"" + etag +
                "\"</ETag></Part>";
    part_md5s += digests.md5_raw;
    if (on_sent) on_sent(offset + length);
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
  const CurlResponse done = perform(finish);
  // CompleteMultipartUpload can answer 200 with an error in the body.
  if (!xml_first(done.body, "Code").empty()) fail(finish, done);
  Md5 of_parts;
  of_parts.update(part_md5s.data(), part_md5s.size());
  return {unquote(xml_first(done.body, "ETag")),
          of_parts.hex_digest() + "-" + std::to_string(parts), whole.hex_digest(), size, parts};
}

void S3Client::abort_multipart(const std::string& key, const std::string& id_query) {
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
}

}  // namespace pgbackup
