#pragma once

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace pgbackup {

// The open connections of each client address, with a cap. CivetWeb gives every connection a
// worker thread until it closes, so without a cap one address that opens connections and sends
// nothing (or half a request, or half a TLS handshake) takes every thread, and scrapes time
// out. Prometheus keeps its own connection, from its own address.
class ConnectionLimit {
 public:
  enum class Admission {
    kAdmitted,
    kRefused,       // the address holds the cap already
    kFirstRefused,  // the same, the first time since the address was last under the cap
  };

  // `per_address`: connections one address may hold at once (at least 1).
  explicit ConnectionLimit(int per_address);

  // Counts a new connection from `address`, unless the address holds the cap already.
  Admission admit(const std::string& address);

  // Forgets one admitted connection of `address`.
  void release(const std::string& address);

  // The admitted connections of `address` that are open now.
  int open(const std::string& address) const;

  int per_address() const { return per_address_; }

  // Connections refused since this was made.
  unsigned long long refused() const;

 private:
  const int per_address_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int> open_;
  std::set<std::string> refusing_;  // addresses refused since they were last under the cap
  unsigned long long refused_ = 0;
};

}  // namespace pgbackup
