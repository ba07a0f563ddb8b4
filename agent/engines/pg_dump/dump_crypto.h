#pragma once

// Encrypted pg_dump backups (DESIGN §12): the dump and its companion file go through `age` as
// they are written, to the target's recipients; decrypting needs the identity file and happens
// only where a backup is read back (restore, restore test, `verify --deep`). age's own
// argv and key checks are in crypto/age.h.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/catalog/globals_file.h"
#include "agent/config/config.h"
#include "agent/core/subprocess.h"
#include "agent/engines/catalog_entry.h"
#include "agent/engines/engine.h"

namespace pgbackup {

namespace fs = std::filesystem;

// The recipients a new backup of `target` is encrypted to; empty: it is not encrypted.
std::vector<std::string> backup_recipients(const TargetConfig& target);
// What the manifest records of them (recipients and their fingerprints).
EncryptionInfo encryption_info(const std::vector<std::string>& recipients);

// `age -r R...` (stdin to stdout) for the dump's pipeline.
ProcessSpec age_encrypt_spec(const std::vector<std::string>& recipients);
// Encrypts a small text (the companion file) to `recipients`. Throws OperationError.
std::string age_encrypt_text(const std::vector<std::string>& recipients, const std::string& text);

// The identity file that opens `m`'s backup: target.encryption.identity_file, checked (mode,
// owner, one of its keys belongs to one of the backup's recipients). Throws OperationError
// naming the key and the fix.
fs::path identity_for(const TargetConfig& target, const Manifest& m);
// Decrypts a small text with `identity`. Throws OperationError with age's reason.
std::string age_decrypt_text(const fs::path& identity, const std::string& ciphertext);
// The companion file's reader for read_globals_file: decrypts it when `m` is encrypted.
TextCipher globals_opener(const TargetConfig& target, const Manifest& m);

// The plaintext dump of an encrypted backup, decrypted into a 0600 file beside it
// (<dump>.decrypted.partial, which DumpCatalog::remove_partials also clears after a crash) for
// pg_restore, which needs a seekable file for -j and --table. Removed when destroyed, whatever
// happened. Checks the free space first and the plaintext's size and SHA-256 against the
// manifest. Throws OperationError.
class DecryptedDump {
 public:
  DecryptedDump(const CatalogEntry& backup, const fs::path& identity,
                const std::atomic<bool>* cancel = nullptr);
  ~DecryptedDump();
  DecryptedDump(const DecryptedDump&) = delete;
  DecryptedDump& operator=(const DecryptedDump&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The file pg_restore reads for `backup`: the dump itself, or its decrypted copy made in `copy`
// (with the target's identity) when it is encrypted.
fs::path readable_dump(const TargetConfig& target, const CatalogEntry& backup,
                       std::optional<DecryptedDump>& copy,
                       const std::atomic<bool>* cancel = nullptr);

// `verify --deep` of an encrypted backup: decrypts it as a stream (nothing written) and checks
// the plaintext's size, SHA-256 and table of contents against the manifest. A backup that no
// key of the identity file opens fails its "decrypt" check with the reason.
std::vector<VerifyCheck> verify_decrypted(const TargetConfig& target, const CatalogEntry& backup);

}  // namespace pgbackup
