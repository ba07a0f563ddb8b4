#include "agent/crypto/age.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "agent/core/file_io.h"
#include "agent/core/sha256.h"
#include "agent/core/subprocess.h"
#include "agent/core/text.h"

namespace pgbackup {
namespace {

constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr std::size_t kKeyGroups = 52;  // 32 bytes in 5-bit groups (4 padding bits)
constexpr std::size_t kChecksumGroups = 6;

// BIP 173's checksum: the polynomial's remainder over the expanded prefix and the data.
std::uint32_t bech32_polymod(const std::vector<std::uint8_t>& values) {
  constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                                       0x3d4233dd, 0x2a1462b3};
  std::uint32_t chk = 1;
  for (const std::uint8_t v : values) {
    const std::uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk ^= kGenerator[static_cast<std::size_t>(i)];
    }
  }
  return chk;
}

// Why lowercase `text` is not "<hrp>1" + an X25519 key in bech32; empty when it is.
std::string bech32_key_problem(std::string_view text, std::string_view hrp) {
  const std::string prefix = std::string(hrp) + "1";
  if (text.substr(0, prefix.size()) != prefix) return "does not start with " + prefix;
  const std::string_view data = text.substr(prefix.size());
  if (data.size() != kKeyGroups + kChecksumGroups) {
    return "has " + std::to_string(data.size()) + " characters after " + prefix + ", not " +
           std::to_string(kKeyGroups + kChecksumGroups);
  }
  std::vector<std::uint8_t> values;
  for (const char c : hrp) values.push_back(static_cast<std::uint8_t>(c) >> 5);
  values.push_back(0);
  for (const char c : hrp) values.push_back(static_cast<std::uint8_t>(c) & 31);
  for (const char c : data) {
    const std::size_t v = kBech32Charset.find(c);
    if (v == std::string_view::npos)
      return std::string("has a character bech32 lacks: '") + c + "'";
    values.push_back(static_cast<std::uint8_t>(v));
  }
  if (bech32_polymod(values) != 1) return "has a bad checksum (mistyped or cut?)";
  if ((values[values.size() - kChecksumGroups - 1] & 0x0f) != 0) return "has bad padding bits";
  return "";
}

std::string trimmed(std::string_view s) {
  const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// The file's lines that are neither blank nor comments, with their numbers.
std::vector<std::pair<int, std::string>> meaningful_lines(const std::string& text) {
  std::vector<std::pair<int, std::string>> out;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    std::string line = trimmed(raw);
    if (!line.empty() && line.front() != '#') out.emplace_back(number, std::move(line));
  }
  return out;
}

// The recipients `age-keygen -y` derives from the identity file, one a line.
std::vector<std::string> derived_recipients(const std::filesystem::path& path) {
  ProcessSpec spec;
  spec.argv = {"age-keygen", "-y", path.string()};
  spec.timeout = std::chrono::seconds(30);
  const ProcessResult result = run_process(spec);
  if (!result.ok()) {
    throw AgeKeyError("cannot read the identity file " + path.string() + ": " +
                      describe_failure(spec, result));
  }
  std::vector<std::string> out;
  for (auto& [line, recipient] : meaningful_lines(result.out)) out.push_back(recipient);
  return out;
}

void check_file_mode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw AgeKeyError("identity file " + path.string() + ": " + std::strerror(errno) +
                      " (hint: create one with `age-keygen -o " + path.string() +
                      "` and put its public key in encryption.recipients)");
  }
  if (!S_ISREG(st.st_mode)) throw AgeKeyError("identity file " + path.string() + " is not a file");
  if (st.st_uid != ::geteuid()) {
    throw AgeKeyError("identity file " + path.string() + " is owned by uid " +
                      std::to_string(st.st_uid) + ", not by the agent's user (uid " +
                      std::to_string(::geteuid()) + "); hint: chown it to the agent's user");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw AgeKeyError("identity file " + path.string() + " has mode " + mode +
                      ": other users could read the secret key; hint: chmod 600 " + path.string());
  }
}

}  // namespace

std::string recipient_problem(std::string_view text) {
  if (text.rfind("AGE-SECRET-KEY-", 0) == 0) {
    return "is a secret key, not a recipient (hint: `age-keygen -y FILE` prints the public key)";
  }
  if (text.substr(0, 4) == "AGE1") return "is in uppercase (age recipients are lowercase)";
  return bech32_key_problem(text, "age");
}

std::vector<RecipientLine> parse_recipients_file(const std::string& text,
                                                 const std::string& source) {
  std::vector<RecipientLine> out;
  for (const auto& [line, recipient] : meaningful_lines(text)) {
    const std::string problem = recipient_problem(recipient);
    if (!problem.empty()) {
      // A secret key pasted here is never echoed back.
      const std::string shown =
          recipient.rfind("AGE-SECRET-KEY-", 0) == 0 ? "the line" : "\"" + recipient + "\"";
      throw AgeKeyError(source + " line " + std::to_string(line) + ": " + shown +
                        " is not an age recipient: it " + problem);
    }
    out.push_back({recipient, line});
  }
  return out;
}

int count_identities(const std::string& text, const std::string& source) {
  int count = 0;
  for (const auto& [line, key] : meaningful_lines(text)) {
    std::string problem;
    if (std::any_of(key.begin(), key.end(), [](char c) { return std::islower(c & 0xff); })) {
      problem = "is not an AGE-SECRET-KEY-1... line (uppercase)";
    } else {
      std::string lower = key;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      problem = bech32_key_problem(lower, "age-secret-key-");
    }
    if (!problem.empty()) {
      throw AgeKeyError(source + " line " + std::to_string(line) + " is not an age identity: it " +
                        problem + " (hint: make one with `age-keygen -o FILE`)");
    }
    ++count;
  }
  if (count == 0) throw AgeKeyError(source + " holds no AGE-SECRET-KEY-1... identity");
  return count;
}

IdentityCheck check_identity_file(const std::filesystem::path& path,
                                  const std::vector<std::string>& recipients) {
  check_file_mode(path);
  IdentityCheck check;
  check.identities = count_identities(read_file(path), "identity file " + path.string());
  const std::vector<std::string> derived = derived_recipients(path);
  check.public_keys = derived;
  for (const std::string& r : recipients) {
    const bool held = std::find(derived.begin(), derived.end(), r) != derived.end();
    (held ? check.matched : check.unmatched).push_back(r);
  }
  if (!recipients.empty() && check.matched.empty()) {
    throw AgeKeyError("identity file " + path.string() + " holds no key for any of the " +
                      std::to_string(recipients.size()) + " configured recipients (" +
                      join(recipients, ", ") + "); its keys are for " + join(derived, ", ") +
                      " (hint: use the identity whose `age-keygen -y` output is one of "
                      "encryption.recipients)");
  }
  return check;
}

std::vector<std::string> age_encrypt_argv(const std::vector<std::string>& recipients,
                                          const std::filesystem::path& out) {
  std::vector<std::string> argv = {"age"};
  for (const std::string& r : recipients) {
    argv.push_back("-r");
    argv.push_back(r);
  }
  if (!out.empty()) {
    argv.push_back("-o");
    argv.push_back(out.string());
  }
  return argv;
}

std::vector<std::string> age_decrypt_argv(const std::filesystem::path& identity_file,
                                          const std::filesystem::path& input) {
  std::vector<std::string> argv = {"age", "-d", "-i", identity_file.string()};
  if (!input.empty()) argv.push_back(input.string());
  return argv;
}

std::string recipient_fingerprint(const std::string& recipient) {
  Sha256 digest;
  digest.update(recipient.data(), recipient.size());
  return digest.hex_digest().substr(0, 16);
}

}  // namespace pgbackup
