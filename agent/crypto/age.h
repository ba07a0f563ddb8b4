#pragma once

// age encryption (https://age-encryption.org/v1), by the Debian `age` binaries run as child
// processes: the agent builds their argv and checks keys; it never does the cryptography.
//
// Pure: recipient and identity syntax (bech32 with its checksum checked), recipients files.
// I/O: check_identity_file (mode, owner, `age-keygen -y`). The identity is checked only where
// something must be decrypted (restore, restore test, `verify --deep`); encrypting needs the
// recipients alone, so the database host holds no secret that reads its own backups.

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace pgbackup {

// An unusable key or key file; the message names it and says what to do, never a secret.
class AgeKeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whether `text` is an age X25519 recipient: "age1" + 58 lowercase bech32 characters (32 bytes
// of key and a valid checksum). Empty when it is; else why not ("bad checksum", ...).
std::string recipient_problem(std::string_view text);

// One recipient read from a recipients file, with its line for error messages.
struct RecipientLine {
  std::string recipient;
  int line = 0;
};

// Parses a recipients file like `age -R`: one recipient a line, `#` comments and blank lines
// skipped, surrounding spaces trimmed. Throws AgeKeyError naming `source` and the line.
std::vector<RecipientLine> parse_recipients_file(const std::string& text,
                                                 const std::string& source);

// Counts the `AGE-SECRET-KEY-1...` identities of an identity file's text (comments and blank
// lines skipped), checking each one's checksum. Throws AgeKeyError naming `source` and the
// line, never the key. A file with none is an error.
int count_identities(const std::string& text, const std::string& source);

// The identity file checked and matched: which configured recipients it can decrypt for.
struct IdentityCheck {
  int identities = 0;
  std::vector<std::string> public_keys;  // `age-keygen -y`: the recipient of each of its keys
  std::vector<std::string> matched;      // configured recipients the file holds a key for
  std::vector<std::string> unmatched;    // configured recipients it cannot decrypt
};

// Checks an identity file for decryption: it exists, is a regular file of mode 0600 or
// stricter owned by the agent's user, holds only valid identities, and at least one of them
// belongs to one of `recipients` (found with `age-keygen -y FILE`). Throws AgeKeyError naming
// the file and the fix otherwise.
IdentityCheck check_identity_file(const std::filesystem::path& path,
                                  const std::vector<std::string>& recipients);

// `age -r R1 -r R2 ... -o OUT`: encrypts stdin to every recipient into `out` (stdout when
// empty).
std::vector<std::string> age_encrypt_argv(const std::vector<std::string>& recipients,
                                          const std::filesystem::path& out = {});
// `age -d -i IDENTITY [INPUT]`: decrypts `input` (stdin when empty) to stdout.
std::vector<std::string> age_decrypt_argv(const std::filesystem::path& identity_file,
                                          const std::filesystem::path& input = {});

// A recipient's short fingerprint for manifests: the first 16 hex digits of the SHA-256 of
// its string.
std::string recipient_fingerprint(const std::string& recipient);

}  // namespace pgbackup
