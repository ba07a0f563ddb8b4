#include "agent/crypto/identity_keys.h"

#include <sys/stat.h>

#include "agent/crypto/age.h"

namespace pgbackup {

IdentityKeys read_identity_keys(const std::filesystem::path& identity_file) {
  IdentityKeys keys;
  if (identity_file.empty()) return keys;
  keys.configured = true;
  try {
    for (const std::string& k : check_identity_file(identity_file, {}).public_keys) {
      keys.fingerprints.push_back(recipient_fingerprint(k));
    }
  } catch (const std::exception& e) {
    keys.error = e.what();
  }
  return keys;
}

bool IdentityKeysCache::Stamp::operator==(const Stamp& o) const {
  const auto same = [](const std::timespec& a, const std::timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
  };
  return inode == o.inode && size == o.size && same(modified, o.modified) &&
         same(changed, o.changed);
}

IdentityKeys IdentityKeysCache::keys_of(const std::filesystem::path& identity_file) {
  if (identity_file.empty()) return {};
  struct stat st {};
  if (::stat(identity_file.c_str(), &st) != 0) return read_identity_keys(identity_file);
  const Stamp stamp{st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
  {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(identity_file);
    if (it != entries_.end() && it->second.stamp == stamp) return it->second.keys;
  }
  // age-keygen runs outside the lock; two refreshes racing both run it, harmlessly.
  IdentityKeys keys = read_identity_keys(identity_file);
  std::lock_guard lock(mu_);
  entries_[identity_file] = {stamp, keys};
  return keys;
}

}  // namespace pgbackup
