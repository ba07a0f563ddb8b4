#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgbackup {

// HTTP basic authentication against bcrypt hashes (basic_auth_users of the web config), as the
// Prometheus exporter-toolkit does it: an unknown user is compared against a fixed hash, so
// that it costs as much as a wrong password; the outcome of each (user, hash, password) is
// remembered (keyed, never in plain) so that bcrypt runs once for it; and one bcrypt
// comparison runs at a time, so that logins at a high cost cannot take every CPU.
class BasicAuth {
 public:
  // `users`: user name -> bcrypt hash. `bcrypt_gate` is held during each comparison; the
  // BasicAuth of every web config a server loads shares one, so a reload does not let a second
  // comparison run. Throws std::runtime_error when no random key can be drawn.
  BasicAuth(std::map<std::string, std::string> users, std::shared_ptr<std::mutex> bcrypt_gate);

  // The user named by valid credentials in an Authorization header, or nullopt.
  std::optional<std::string> authenticate(std::string_view authorization);

  // How many bcrypt comparisons ran (the others were answered from the remembered outcomes).
  std::size_t comparisons() const;

  // Outcomes remembered at most; past this a tenth of them is forgotten.
  static constexpr std::size_t kMaxOutcomes = 1024;

 private:
  // HMAC-SHA-256 of "user:hash:password" under a key that lives only in this process.
  std::string outcome_key(const std::string& user, const std::string& hash,
                          const std::string& password) const;
  std::optional<bool> remembered(const std::string& key);
  void remember(const std::string& key, bool outcome);

  const std::map<std::string, std::string> users_;
  const std::shared_ptr<std::mutex> bcrypt_gate_;
  std::array<unsigned char, 32> key_{};
  mutable std::mutex mu_;  // guards outcomes_ and comparisons_
  std::unordered_map<std::string, bool> outcomes_;
  std::size_t comparisons_ = 0;
};

// bcrypt costs above this get a warning at load: one login takes about a second or more.
constexpr int kSlowBcryptCost = 12;

// One warning per user of `users` whose hash costs more than kSlowBcryptCost, naming the user
// and how long one login takes, extrapolated from `seconds` measured at `measured_cost` (each
// step of cost doubles bcrypt's work).
std::vector<std::string> slow_login_warnings(const std::map<std::string, std::string>& users,
                                             double seconds, int measured_cost);

// The same, timed here by measure_bcrypt_seconds at a cheap cost, and only when a hash of
// `users` costs more than kSlowBcryptCost (no time is spent otherwise).
std::vector<std::string> slow_login_warnings(const std::map<std::string, std::string>& users);

// Seconds one bcrypt hash takes here at `cost` (the fastest of three): keep `cost` cheap.
double measure_bcrypt_seconds(int cost);

}  // namespace pgbackup
