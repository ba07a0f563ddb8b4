#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace pgbackup {

// Incremental SHA-256 (OpenSSL EVP), so a dump is hashed while it streams to disk.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  // Lowercase hex digest; call once.
  std::string hex_digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The hex SHA-256 of a file's contents. Throws OperationError when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace pgbackup
