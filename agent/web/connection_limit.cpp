#include "agent/web/connection_limit.h"

#include <stdexcept>

namespace pgbackup {

ConnectionLimit::ConnectionLimit(int per_address) : per_address_(per_address) {
  if (per_address < 1) throw std::invalid_argument("the connection limit must be at least 1");
}

ConnectionLimit::Admission ConnectionLimit::admit(const std::string& address) {
  std::lock_guard lock(mu_);
  int& open = open_[address];
  if (open < per_address_) {
    ++open;
    return Admission::kAdmitted;
  }
  ++refused_;
  return refusing_.insert(address).second ? Admission::kFirstRefused : Admission::kRefused;
}

unsigned long long ConnectionLimit::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

void ConnectionLimit::release(const std::string& address) {
  std::lock_guard lock(mu_);
  const auto found = open_.find(address);
  if (found == open_.end()) return;
  if (--found->second <= 0) open_.erase(found);
  refusing_.erase(address);
}

int ConnectionLimit::open(const std::string& address) const {
  std::lock_guard lock(mu_);
  const auto found = open_.find(address);
  return found == open_.end() ? 0 : found->second;
}

}  // namespace pgbackup
