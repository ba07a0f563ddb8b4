#pragma once

// What an identity file can open, read without decrypting anything: the fingerprints of the
// public keys of its identities (`age-keygen -y`, crypto/age.h), which rules/key_coverage.h
// compares with the recipients' fingerprints each encrypted backup's manifest records. The
// daemon reads it on every status refresh, so IdentityKeysCache runs age-keygen again only when
// the file changed.

#include <sys/types.h>

#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace pgbackup {

struct IdentityKeys {
  bool configured = false;                // the target has an encryption.identity_file
  std::vector<std::string> fingerprints;  // recipient_fingerprint of each key it holds
  std::string error;                      // why its keys could not be read (no fingerprints)
};

// The keys of `identity_file` (empty path: not configured), checked as decrypting checks it
// (mode, owner, valid identities); a problem is returned in `error`, never thrown.
IdentityKeys read_identity_keys(const std::filesystem::path& identity_file);

// read_identity_keys, run again only when the file's inode, size, modification or status-change
// time (a chmod) changed. Thread-safe.
class IdentityKeysCache {
 public:
  IdentityKeys keys_of(const std::filesystem::path& identity_file);

 private:
  struct Stamp {
    ino_t inode = 0;
    off_t size = 0;
    std::timespec modified{}, changed{};
    bool operator==(const Stamp& o) const;
  };
  struct Entry {
    Stamp stamp;
    IdentityKeys keys;
  };
  std::mutex mu_;
  std::map<std::filesystem::path, Entry> entries_;
};

}  // namespace pgbackup
