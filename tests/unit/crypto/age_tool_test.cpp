// agent/crypto/age against the real Debian `age` and `age-keygen` binaries: keys made by
// age-keygen, a stream encrypted through the agent's argv and subprocess runner, decrypted by
// `age -d -i` alone.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "agent/core/file_io.h"
#include "agent/core/sha256.h"
#include "agent/core/subprocess.h"
#include "agent/crypto/age.h"
#include "tests/support/temp_dir.h"

using namespace pgbackup;
namespace fs = std::filesystem;

namespace {

// A new key pair from `age-keygen -o PATH` (mode 0600); returns its recipient.
std::string make_key(const fs::path& path) {
  ProcessSpec keygen;
  keygen.argv = {"age-keygen", "-o", path.string()};
  REQUIRE(run_process(keygen).ok());
  const IdentityCheck check = check_identity_file(path, {});
  REQUIRE(check.identities == 1);
  ProcessSpec public_key;
  public_key.argv = {"age-keygen", "-y", path.string()};
  const ProcessResult r = run_process(public_key);
  REQUIRE(r.ok());
  std::string recipient = r.out.substr(0, r.out.find('\n'));
  REQUIRE(recipient_problem(recipient).empty());
  return recipient;
}

// Some bytes that are not text, so a decryption that mangles them shows.
std::string sample_plaintext() {
  std::string data;
  for (std::size_t i = 0; i < 300000; ++i) data.push_back(static_cast<char>((i * 7919) % 251));
  return data;
}

ProcessResult decrypt(const fs::path& identity, const fs::path& file) {
  ProcessSpec spec;
  spec.argv = age_decrypt_argv(identity, file);
  return run_process(spec);
}

struct Keys {
  testing::TempDir dir{"pgbackup-age"};
  fs::path key_a = dir.path() / "a.txt";
  fs::path key_b = dir.path() / "b.txt";
  fs::path key_c = dir.path() / "c.txt";
  std::string a = make_key(key_a);
  std::string b = make_key(key_b);
  std::string c = make_key(key_c);
  fs::path cipher = dir.path() / "x.dump.age";

  // Encrypts `plaintext` to A and B as a backup will: `cat PLAIN | age -r A -r B -o CIPHER`
  // through run_pipeline, the relay hashing the plaintext.
  std::string encrypt(const std::string& plaintext) {
    const fs::path plain = dir.path() / "plain.bin";
    write_file_atomic(plain, plaintext, fs::perms::owner_read | fs::perms::owner_write);
    ProcessSpec producer;
    producer.argv = {"cat", plain.string()};
    ProcessSpec consumer;
    consumer.argv = age_encrypt_argv({a, b}, cipher);
    Sha256 digest;
    const PipelineResult r = run_pipeline(
        producer, consumer, [&](const char* data, std::size_t size) { digest.update(data, size); });
    REQUIRE(r.ok());
    fs::remove(plain);
    return digest.hex_digest();
  }
};

}  // namespace

TEST_CASE("a stream encrypted to two recipients decrypts with either identity", "[age]") {
  Keys keys;
  const std::string plaintext = sample_plaintext();
  const std::string tapped = keys.encrypt(plaintext);
  Sha256 expected;
  expected.update(plaintext.data(), plaintext.size());
  CHECK(tapped == expected.hex_digest());
  const std::string cipher = read_file(keys.cipher);
  CHECK(cipher.rfind("age-encryption.org/v1\n", 0) == 0);
  CHECK(cipher.find(plaintext.substr(1000, 64)) == std::string::npos);

  for (const fs::path& identity : {keys.key_a, keys.key_b}) {
    INFO(identity);
    const ProcessResult r = decrypt(identity, keys.cipher);
    REQUIRE(r.ok());
    CHECK(r.out == plaintext);
  }
}

TEST_CASE("a wrong identity fails to decrypt, and check_identity_file says why first", "[age]") {
  Keys keys;
  keys.encrypt("some rows\n");
  const ProcessResult r = decrypt(keys.key_c, keys.cipher);
  CHECK_FALSE(r.ok());
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Matchers::Contains("no identity matched any of the recipients"));

  try {
    check_identity_file(keys.key_c, {keys.a, keys.b});
    FAIL("a foreign identity was accepted");
  } catch (const AgeKeyError& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Matchers::Contains("identity file " + keys.key_c.string() +
                                                  " holds no key for any of the 2 configured "
                                                  "recipients (" +
                                                  keys.a + ", " + keys.b + ")"));
    CHECK_THAT(message, Catch::Matchers::Contains("its keys are for " + keys.c));
    CHECK(message.find("AGE-SECRET-KEY") == std::string::npos);
  }
}

TEST_CASE("an identity file with several keys matches the recipients it holds", "[age]") {
  Keys keys;
  const fs::path both = keys.dir.path() / "both.txt";
  write_file_atomic(both, read_file(keys.key_a) + read_file(keys.key_c),
                    fs::perms::owner_read | fs::perms::owner_write);
  const IdentityCheck check = check_identity_file(both, {keys.a, keys.b});
  CHECK(check.identities == 2);
  CHECK(check.matched == std::vector<std::string>{keys.a});
  CHECK(check.unmatched == std::vector<std::string>{keys.b});
  CHECK(check.public_keys == std::vector<std::string>{keys.a, keys.c});

  keys.encrypt("rotated\n");
  const ProcessResult r = decrypt(both, keys.cipher);
  REQUIRE(r.ok());
  CHECK(r.out == "rotated\n");
}

TEST_CASE("an identity file readable by others, or missing, is refused with the fix", "[age]") {
  Keys keys;
  ::chmod(keys.key_a.c_str(), 0644);
  CHECK_THROWS_WITH(check_identity_file(keys.key_a, {keys.a}),
                    "identity file " + keys.key_a.string() +
                        " has mode 0644: other users could read the secret key; hint: chmod "
                        "600 " +
                        keys.key_a.string());
  ::chmod(keys.key_a.c_str(), 0400);
  CHECK(check_identity_file(keys.key_a, {keys.a}).matched == std::vector<std::string>{keys.a});

  const fs::path missing = keys.dir.path() / "none.txt";
  CHECK_THROWS_WITH(check_identity_file(missing, {keys.a}),
                    Catch::Matchers::StartsWith("identity file " + missing.string() +
                                                ": No such file or directory (hint: create one "
                                                "with `age-keygen -o"));
}

TEST_CASE("one flipped byte of the ciphertext fails decryption", "[age]") {
  Keys keys;
  const std::string plaintext = sample_plaintext();
  keys.encrypt(plaintext);
  std::string cipher = read_file(keys.cipher);
  for (const std::size_t at : {cipher.size() / 2, cipher.size() - 1}) {
    INFO("byte " << at << " of " << cipher.size());
    std::string damaged = cipher;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    const fs::path bad = keys.dir.path() / "bad.age";
    write_file_atomic(bad, damaged, fs::perms::owner_read | fs::perms::owner_write);
    const ProcessResult r = decrypt(keys.key_a, bad);
    CHECK_FALSE(r.ok());
    CHECK(r.out.size() < plaintext.size());
    CHECK_THAT(r.err, Catch::Matchers::Contains("age: error"));
  }
}

TEST_CASE("a dump that fails midway leaves a ciphertext that never decrypts", "[age]") {
  Keys keys;
  ProcessSpec producer;
  producer.argv = {"sh", "-c", "seq 1 200000; exit 1"};
  ProcessSpec consumer;
  consumer.argv = age_encrypt_argv({keys.a}, keys.cipher);
  const PipelineResult r = run_pipeline(producer, consumer);
  REQUIRE_FALSE(r.ok());
  CHECK(r.consumer.cancelled);
  if (fs::exists(keys.cipher)) {
    const ProcessResult d = decrypt(keys.key_a, keys.cipher);
    CHECK_FALSE(d.ok());
  }
}
