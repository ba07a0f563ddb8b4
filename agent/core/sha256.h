#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace pgbackup {

// An incremental OpenSSL EVP digest; use Sha256 or Md5.
class Digest {
 public:
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void update(const void* data, std::size_t size);
  // The digest's bytes; call once (or hex_digest once).
  std::string raw_digest();
  // Lowercase hex digest; call once.
  std::string hex_digest();

 protected:
  explicit Digest(const void* evp_md);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Incremental SHA-256, so a dump is hashed while it streams to disk.
class Sha256 : public Digest {
 public:
  Sha256();
};

// Incremental MD5: S3 ETags are MD5s of what it stored (not a security check).
class Md5 : public Digest {
 public:
  Md5();
};

// Lowercase hex of arbitrary bytes.
std::string hex_encode(const std::string& bytes);

// The hex SHA-256 of a file's contents; `on_read`, when given, is told the bytes read so far.
// Throws OperationError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(std::uint64_t)>& on_read = {});

}  // namespace pgbackup
