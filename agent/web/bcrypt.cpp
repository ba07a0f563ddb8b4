#include "agent/web/bcrypt.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cctype>
#include <memory>
#include <string_view>

namespace pgbackup {

std::string bcrypt_hash_problem(const std::string& hash) {
  // Go's bcrypt.Cost: at least 59 characters, "$2" with an optional minor letter, "$", then a
  // two-digit cost from 4 to 31.
  if (hash.size() < 59) return "too short to be a bcrypted password";
  if (hash[0] != '$') return "it must start with '$'";
  if (hash[1] != '2') return "bcrypt version '" + std::string(1, hash[1]) + "' is not 2";
  std::size_t pos = 2;
  if (hash[pos] != '$') ++pos;  // the minor version: $2a$, $2b$, $2y$
  if (hash[pos] != '$') return "no '$' after the version";
  ++pos;
  if (!std::isdigit(static_cast<unsigned char>(hash[pos])) ||
      !std::isdigit(static_cast<unsigned char>(hash[pos + 1])) || hash[pos + 2] != '$') {
    return "no two-digit cost after the version";
  }
  const int cost = (hash[pos] - '0') * 10 + (hash[pos + 1] - '0');
  if (cost < 4 || cost > 31) return "cost " + std::to_string(cost) + " is outside 4..31";
  return "";
}

int bcrypt_cost(const std::string& hash) {
  const std::size_t pos = hash[2] == '$' ? 3 : 4;
  return (hash[pos] - '0') * 10 + (hash[pos + 1] - '0');
}

bool verify_password(const std::string& password, const std::string& bcrypt_hash) {
  // crypt_r reads C strings: a NUL would cut the password short and let a prefix match.
  if (!bcrypt_hash_problem(bcrypt_hash).empty() || bcrypt_hash.find('\0') != std::string::npos ||
      password.find('\0') != std::string::npos) {
    return false;
  }
  // struct crypt_data is about 32 KiB: too big for a CivetWeb worker's stack.
  auto data = std::make_unique<crypt_data>();
  const char* hashed = crypt_r(password.c_str(), bcrypt_hash.c_str(), data.get());
  if (hashed == nullptr || hashed[0] == '*') return false;
  const std::string_view computed(hashed);
  // Same length for every bcrypt output, so only the contents are compared, in constant time.
  return computed.size() == bcrypt_hash.size() &&
         CRYPTO_memcmp(computed.data(), bcrypt_hash.data(), computed.size()) == 0;
}

}  // namespace pgbackup
