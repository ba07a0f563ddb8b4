#include "agent/engines/pg_dump/dump_crypto.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/catalog/backup_dir.h"
#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/sha256.h"
#include "agent/core/units.h"
#include "agent/crypto/age.h"
#include "agent/engines/pg_dump/toc.h"
#include "agent/postgres/postgres.h"

namespace pgbackup {
namespace {

constexpr auto kAgeTimeout = std::chrono::hours(6);

// Why age could not decrypt, with the fix for the usual causes.
std::string decrypt_failure(const ProcessSpec& spec, const ProcessResult& r) {
  std::string why = describe_failure(spec, r);
  if (why.find("no identity matched") != std::string::npos) {
    why +=
        " (hint: the backup was encrypted to other keys; add their identity to "
        "encryption.identity_file, which may hold several)";
  } else if (why.find("header") != std::string::npos ||
             why.find("unexpected") != std::string::npos) {
    why += " (hint: the file is damaged or truncated; use another backup)";
  }
  return why;
}

// Runs `age -d -i IDENTITY FILE`, giving the plaintext to `sink`.
ProcessResult decrypt_file(const fs::path& identity, const fs::path& file,
                           const std::function<void(const char*, std::size_t)>& sink,
                           const std::atomic<bool>* cancel, ProcessSpec& spec) {
  spec.argv = age_decrypt_argv(identity, file);
  spec.timeout = kAgeTimeout;
  spec.cancel = cancel;
  spec.on_stdout = sink;
  return run_process(spec);
}

}  // namespace

std::vector<std::string> backup_recipients(const TargetConfig& target) {
  if (!target.encryption) return {};
  return target.encryption->all_recipients();
}

EncryptionInfo encryption_info(const std::vector<std::string>& recipients) {
  EncryptionInfo info;
  info.recipients = recipients;
  for (const std::string& r : recipients) info.fingerprints.push_back(recipient_fingerprint(r));
  return info;
}

ProcessSpec age_encrypt_spec(const std::vector<std::string>& recipients) {
  ProcessSpec spec;
  spec.argv = age_encrypt_argv(recipients);
  spec.timeout = kAgeTimeout;
  return spec;
}

std::string age_encrypt_text(const std::vector<std::string>& recipients, const std::string& text) {
  ProcessSpec spec = age_encrypt_spec(recipients);
  spec.stdin_data = text;
  const ProcessResult r = run_process(spec);
  if (!r.ok()) throw OperationError("cannot encrypt: " + describe_failure(spec, r));
  return r.out;
}

fs::path identity_for(const TargetConfig& target, const Manifest& m) {
  if (!target.encryption || target.encryption->identity_file.empty()) {
    throw OperationError(m.file + " is encrypted and target " + target.name +
                         " has no encryption.identity_file (hint: set it to the age identity "
                         "file whose key matches one of the backup's recipients)");
  }
  const fs::path& identity = target.encryption->identity_file;
  try {
    check_identity_file(identity,
                        m.encryption ? m.encryption->recipients : std::vector<std::string>{});
  } catch (const std::exception& e) {
    throw OperationError(m.file + " cannot be decrypted: " + e.what());
  }
  return identity;
}

std::string age_decrypt_text(const fs::path& identity, const std::string& ciphertext) {
  ProcessSpec spec;
  spec.argv = age_decrypt_argv(identity);
  spec.timeout = std::chrono::minutes(5);
  spec.stdin_data = ciphertext;
  const ProcessResult r = run_process(spec);
  if (!r.ok()) throw OperationError("cannot decrypt: " + decrypt_failure(spec, r));
  return r.out;
}

TextCipher globals_opener(const TargetConfig& target, const Manifest& m) {
  if (!m.encryption) return {};
  const fs::path identity = identity_for(target, m);
  return [identity](const std::string& text) { return age_decrypt_text(identity, text); };
}

DecryptedDump::DecryptedDump(const CatalogEntry& backup, const fs::path& identity,
                             const std::atomic<bool>* cancel)
    : path_(backup.dump.string() + ".decrypted.partial") {
  const EncryptionInfo& e = *backup.manifest->encryption;
  const FilesystemStats space = filesystem_of(backup.dump.parent_path());
  if (space.size_bytes > 0 && space.avail_bytes < e.plaintext_size_bytes + (64u << 20)) {
    throw OperationError("not enough free space in " + backup.dump.parent_path().string() +
                         " to decrypt " + backup.name() + ": it needs " +
                         format_bytes(e.plaintext_size_bytes) + ", " +
                         format_bytes(space.avail_bytes) +
                         " available (hint: free space there; the decrypted copy is removed "
                         "after the restore)");
  }
  ::unlink(path_.c_str());  // a leftover of a killed restore
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw OperationError("cannot create " + path_.string() + ": " + std::strerror(errno));
  }
  Sha256 digest;
  std::uint64_t size = 0;
  ProcessSpec spec;
  ProcessResult r;
  try {
    r = decrypt_file(
        identity, backup.dump,
        [&](const char* data, std::size_t n) {
          if (!write_all(fd, {data, n})) {
            throw OperationError("cannot write " + path_.string() + ": " + std::strerror(errno));
          }
          digest.update(data, n);
          size += n;
        },
        cancel, spec);
  } catch (...) {
    ::close(fd);
    ::unlink(path_.c_str());
    throw;
  }
  ::close(fd);
  std::string problem;
  if (!r.ok()) {
    problem = "cannot decrypt " + backup.name() + ": " + decrypt_failure(spec, r);
  } else if (const std::string sha = digest.hex_digest();
             size != e.plaintext_size_bytes || sha != e.plaintext_sha256) {
    problem = "the decrypted " + backup.name() + " is " + std::to_string(size) +
              " bytes with SHA-256 " + sha + ", the manifest says " +
              std::to_string(e.plaintext_size_bytes) + " bytes and " + e.plaintext_sha256 +
              " (hint: use another backup)";
  }
  if (!problem.empty()) {
    ::unlink(path_.c_str());
    throw OperationError(problem);
  }
}

DecryptedDump::~DecryptedDump() { ::unlink(path_.c_str()); }

fs::path readable_dump(const TargetConfig& target, const CatalogEntry& backup,
                       std::optional<DecryptedDump>& copy, const std::atomic<bool>* cancel) {
  if (!backup.manifest || !backup.manifest->encryption) return backup.dump;
  copy.emplace(backup, identity_for(target, *backup.manifest), cancel);
  return copy->path();
}

std::vector<VerifyCheck> verify_decrypted(const TargetConfig& target, const CatalogEntry& backup) {
  const Manifest& m = *backup.manifest;
  fs::path identity;
  try {
    identity = identity_for(target, m);
  } catch (const OperationError& e) {
    return {{"decrypt", false, e.what()}};
  }
  ProcessSpec list;
  list.argv = {client_program("pg_restore"), "--list"};
  list.timeout = kAgeTimeout;
  FedProcess toc_reader(list);
  Sha256 digest;
  std::uint64_t size = 0;
  ProcessSpec spec;
  const ProcessResult r = decrypt_file(
      identity, backup.dump,
      [&](const char* data, std::size_t n) {
        digest.update(data, n);
        size += n;
        toc_reader.write(data, n);
      },
      nullptr, spec);
  const ProcessResult toc = toc_reader.finish();
  if (!r.ok()) return {{"decrypt", false, decrypt_failure(spec, r)}};
  std::vector<VerifyCheck> checks;
  checks.push_back({"decrypt", true, "with " + identity.string()});
  const std::string sha = digest.hex_digest();
  const EncryptionInfo& e = *m.encryption;
  checks.push_back({"plaintext sha256", size == e.plaintext_size_bytes && sha == e.plaintext_sha256,
                    std::to_string(size) + " bytes, " + sha + "; manifest says " +
                        std::to_string(e.plaintext_size_bytes) + " bytes, " + e.plaintext_sha256});
  if (!toc.ok()) {
    checks.push_back({"pg_restore --list", false, describe_failure(list, toc)});
    return checks;
  }
  const TocSummary summary = parse_toc_list(toc.out);
  checks.push_back({"pg_restore --list", summary.entries == m.toc_entries,
                    std::to_string(summary.entries) + " entries, manifest says " +
                        std::to_string(m.toc_entries)});
  const auto missing = tables_missing_data(summary, m.tables);
  checks.push_back({"table data", missing.empty(),
                    missing.empty() ? std::to_string(m.tables.size()) + " tables"
                                    : "no data for " + missing.front()});
  return checks;
}

}  // namespace pgbackup
