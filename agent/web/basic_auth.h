#pragma once

#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace pgbackup {

// HTTP basic authentication against bcrypt hashes (basic_auth_users of the web config), as the
// Prometheus exporter-toolkit does it: an unknown user costs as much as a wrong password, and
// credentials that passed are remembered (keyed, never in plain) so that bcrypt runs once.
class BasicAuth {
 public:
  // `users`: user name -> bcrypt hash. Throws std::runtime_error when no random key can be drawn.
  explicit BasicAuth(std::map<std::string, std::string> users);

  // The user named by valid credentials in an Authorization header, or nullopt.
  std::optional<std::string> authenticate(std::string_view authorization);

 private:
  // HMAC-SHA-256 of "user:password" under a key that lives only in this process.
  std::string credential_key(const std::string& user_colon_password) const;

  const std::map<std::string, std::string> users_;
  std::array<unsigned char, 32> key_{};
  std::mutex mu_;
  std::unordered_set<std::string> verified_;
};

}  // namespace pgbackup
