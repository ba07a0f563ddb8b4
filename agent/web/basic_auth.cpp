#include "agent/web/basic_auth.h"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "agent/core/units.h"
#include "agent/web/bcrypt.h"
#include "agent/web/tls_context.h"
#include "agent/web/web_config.h"

namespace pgbackup {
namespace {

// Verified against when the user is unknown, so that a wrong user name costs as much time as a
// wrong password and does not reveal which users exist.
const std::string kDummyBcryptHash = "$2b$10$K8VLisHdVUzVWekazDC/Me2GX6/Vlnw8D9VdixH/Dy21/XKsmoQN6";

// "0.4 s", "17 s", "37h17m": how long one login takes.
std::string format_login_time(double seconds) {
  if (seconds < 10) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.1f s", seconds);
    return text;
  }
  if (seconds < 120) return std::to_string(std::lround(seconds)) + " s";
  return format_duration(std::chrono::seconds(std::llround(std::min(seconds, 1e15))));
}

// True for a hash that one login takes long to compare against (see kSlowBcryptCost).
bool slow_hash(const std::string& hash) {
  return bcrypt_hash_problem(hash).empty() && bcrypt_cost(hash) > kSlowBcryptCost;
}

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

BasicAuth::BasicAuth(std::map<std::string, std::string> users,
                     std::shared_ptr<std::mutex> bcrypt_gate)
    : users_(std::move(users)), bcrypt_gate_(std::move(bcrypt_gate)) {
  if (!bcrypt_gate_) throw std::logic_error("BasicAuth needs a bcrypt gate");
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
  const bool known = entry != users_.end();
  const std::string& hash = known ? entry->second : kDummyBcryptHash;
  // bcrypt takes as long as its cost says by design (seconds at 14, days at 31): outcomes are
  // remembered under a keyed hash, so that the plain password is never kept.
  const std::string key = outcome_key(user, hash, password);
  std::optional<bool> outcome = remembered(key);
  if (!outcome) {
    std::lock_guard gate(*bcrypt_gate_);
    // Asked again under the gate: requests that waited for the same credentials need not run
    // bcrypt once each.
    outcome = remembered(key);
    if (!outcome) {
      outcome = verify_password(password, hash) && known;
      remember(key, *outcome);
    }
  }
  if (!*outcome) return std::nullopt;
  return user;
}

std::size_t BasicAuth::comparisons() const {
  std::lock_guard lock(mu_);
  return comparisons_;
}

std::optional<bool> BasicAuth::remembered(const std::string& key) {
  std::lock_guard lock(mu_);
  const auto found = outcomes_.find(key);
  if (found == outcomes_.end()) return std::nullopt;
  return found->second;
}

void BasicAuth::remember(const std::string& key, bool outcome) {
  std::lock_guard lock(mu_);
  ++comparisons_;
  if (outcomes_.size() >= kMaxOutcomes) {
    // Which tenth goes does not matter: the keys are HMACs, so the order is arbitrary.
    for (std::size_t i = 0; i < kMaxOutcomes / 10; ++i) outcomes_.erase(outcomes_.begin());
  }
  outcomes_[key] = outcome;
}

std::string BasicAuth::outcome_key(const std::string& user, const std::string& hash,
                                   const std::string& password) const {
  // No ':' in a user name (it ends at the first one) nor in a bcrypt hash: this is unambiguous.
  const std::string text = user + ":" + hash + ":" + password;
  std::string digest(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(),
           reinterpret_cast<unsigned char*>(digest.data()), &length) == nullptr) {
    throw std::runtime_error("hmac-sha-256 failed: " + openssl_errors());
  }
  digest.resize(length);
  return digest;
}

std::vector<std::string> slow_login_warnings(const std::map<std::string, std::string>& users,
                                             double seconds, int measured_cost) {
  std::vector<std::string> warnings;
  for (const auto& [user, hash] : users) {
    if (!slow_hash(hash)) continue;
    const int cost = bcrypt_cost(hash);
    const double login = seconds * std::ldexp(1.0, cost - measured_cost);
    warnings.push_back(
        "basic_auth_users: the bcrypt hash of user \"" + user + "\" has cost " +
        std::to_string(cost) + ": one login takes about " + format_login_time(login) +
        " on this machine (measured at cost " + std::to_string(measured_cost) +
        ", doubled per step), the first time each password is given (the outcome is then "
        "remembered), and logins wait for each other; hint: hash the password again at cost "
        "10 to 12, e.g. `htpasswd -nbBC 10 \"\" PASSWORD | tr -d ':\\n'`");
  }
  return warnings;
}

std::vector<std::string> slow_login_warnings(const std::map<std::string, std::string>& users) {
  if (std::none_of(users.begin(), users.end(), [](const auto& u) { return slow_hash(u.second); })) {
    return {};
  }
  // Timed at a cheap cost, never at the users' own (at 31 that would take days).
  constexpr int kMeasuredCost = 6;
  return slow_login_warnings(users, measure_bcrypt_seconds(kMeasuredCost), kMeasuredCost);
}

double measure_bcrypt_seconds(int cost) {
  std::unique_ptr<char, decltype(&free)> salt(crypt_gensalt_ra("$2b$", cost, nullptr, 0), &free);
  if (salt == nullptr) throw std::runtime_error("crypt_gensalt cannot make a bcrypt salt");
  auto data = std::make_unique<crypt_data>();
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const char* hashed = crypt_r("pgbackup-agent", salt.get(), data.get());
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (hashed == nullptr || hashed[0] == '*') {
      throw std::runtime_error("crypt_r cannot compute a bcrypt hash");
    }
    best = i == 0 ? took : std::min(best, took);
  }
  return best;
}

}  // namespace pgbackup
