#include "agent/web/basic_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>

#include <stdexcept>

#include "agent/web/tls_context.h"
#include "agent/web/web_config.h"

namespace pgbackup {
namespace {

// Verified against when the user is unknown, so that a wrong user name costs as much time as a
// wrong password and does not reveal which users exist.
constexpr const char* kDummyBcryptHash =
    "$2b$10$K8VLisHdVUzVWekazDC/Me2GX6/Vlnw8D9VdixH/Dy21/XKsmoQN6";

// Successful verifications remembered; past this the cache starts over.
constexpr std::size_t kMaxCachedCredentials = 1024;

// Decodes standard base64; nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t padding = 0;
  while (padding < 2 && text[text.size() - 1 - padding] == '=') ++padding;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace

BasicAuth::BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
    throw std::runtime_error("cannot draw random bytes: " + openssl_errors());
  }
}

std::optional<std::string> BasicAuth::authenticate(std::string_view authorization) {
  constexpr std::string_view kScheme = "basic ";
  if (authorization.size() <= kScheme.size() ||
      strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0) {
    return std::nullopt;
  }
  authorization.remove_prefix(kScheme.size());
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  const std::optional<std::string> decoded = base64_decode(authorization);
  if (!decoded) return std::nullopt;
  const std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string user = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);

  const auto entry = users_.find(user);
  if (entry == users_.end()) {
    verify_password(password, kDummyBcryptHash);
    return std::nullopt;
  }
  // bcrypt takes tens of milliseconds by design; remember credentials that passed, keyed on
  // a keyed hash so that the plain password is never kept.
  const std::string key = credential_key(*decoded);
  {
    std::lock_guard lock(mu_);
    if (verified_.contains(key)) return user;
  }
  if (!verify_password(password, entry->second)) return std::nullopt;
  std::lock_guard lock(mu_);
  if (verified_.size() >= kMaxCachedCredentials) verified_.clear();
  verified_.insert(key);
  return user;
}

std::string BasicAuth::credential_key(const std::string& user_colon_password) const {
  std::string digest(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(user_colon_password.data()),
           user_colon_password.size(), reinterpret_cast<unsigned char*>(digest.data()),
           &length) == nullptr) {
    throw std::runtime_error("hmac-sha-256 failed: " + openssl_errors());
  }
  digest.resize(length);
  return digest;
}

}  // namespace pgbackup
