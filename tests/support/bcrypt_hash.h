#pragma once

#include <crypt.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <string>

namespace pgtest {

// A bcrypt ($2b$) hash of `password` at `cost`, made now (the cheapest cost keeps a test fast).
inline std::string bcrypt_hash(const std::string& password, int cost = 4) {
  std::unique_ptr<char, decltype(&free)> salt(crypt_gensalt_ra("$2b$", cost, nullptr, 0), &free);
  REQUIRE(salt != nullptr);
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), salt.get(), data.get());
  REQUIRE(hash != nullptr);
  return hash;
}

}  // namespace pgtest
