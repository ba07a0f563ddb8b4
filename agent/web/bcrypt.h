#pragma once

// bcrypt password hashes as the exporter-toolkit's web config holds them (Go's
// golang.org/x/crypto/bcrypt rules), checked with glibc's crypt_r.

#include <string>

namespace pgbackup {

// What is wrong with `hash` as a bcrypt hash, as Go's bcrypt.Cost judges it, or "".
std::string bcrypt_hash_problem(const std::string& hash);

// The cost of a hash that bcrypt_hash_problem accepted ("$2y$10$..." is 10).
int bcrypt_cost(const std::string& hash);

// True when `password` matches the bcrypt `bcrypt_hash` ($2a$, $2b$ or $2y$); the comparison
// takes the same time wherever the strings differ. A malformed hash never matches. Takes
// 2^cost rounds, as long as bcrypt's cost says (at 31: days); see BasicAuth.
bool verify_password(const std::string& password, const std::string& bcrypt_hash);

}  // namespace pgbackup
