#include "agent/core/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "agent/core/errors.h"

namespace pgbackup {

struct Digest::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Digest::Digest(const void* evp_md) : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr ||
      EVP_DigestInit_ex(impl_->ctx, static_cast<const EVP_MD*>(evp_md), nullptr) != 1) {
    throw std::runtime_error("cannot initialise a digest");
  }
}

Digest::~Digest() { EVP_MD_CTX_free(impl_->ctx); }

void Digest::update(const void* data, std::size_t size) {
  EVP_DigestUpdate(impl_->ctx, data, size);
}

std::string Digest::raw_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Digest::hex_digest() { return hex_encode(raw_digest()); }

Sha256::Sha256() : Digest(EVP_sha256()) {}

Md5::Md5() : Digest(EVP_md5()) {}

std::string hex_encode(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(std::uint64_t)>& on_read) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw OperationError("cannot read " + path.string() + ": " + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 hash;
  std::vector<char> buffer(1 << 20);
  std::uint64_t done = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw OperationError("cannot read " + path.string() + ": " + why);
    }
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<std::size_t>(n));
    done += static_cast<std::uint64_t>(n);
    if (on_read) on_read(done);
  }
  ::close(fd);
  return hash.hex_digest();
}

}  // namespace pgbackup
