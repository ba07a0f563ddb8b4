#include "tests/support/fake_backup.h"

#include <cstring>
#include <random>

#include "agent/core/sha256.h"
#include "tests/support/process.h"

namespace pgtest {

std::filesystem::path write_fake_backup(const std::filesystem::path& dir, const std::string& prefix,
                                        pgbackup::SysTime started, pgbackup::Tier tier,
                                        const std::string& content) {
  pgbackup::Manifest m;
  m.target = prefix;
  m.file = prefix + "_" + pgbackup::format_file_stamp(started) + ".dump";
  m.started_at = started;
  m.finished_at = started + std::chrono::minutes(1);
  m.size_bytes = content.size();
  m.sha256 = sha256_of(content);
  m.tier = tier;
  write_text(dir / m.file, content);
  write_text(dir / (m.file + ".json"), pgbackup::manifest_to_json(m).dump(2));
  return dir / m.file;
}

std::string sha256_of(const std::string& content) {
  pgbackup::Sha256 sha;
  sha.update(content.data(), content.size());
  return sha.hex_digest();
}

std::vector<std::filesystem::path> write_dailies_before_clock_jump(const std::filesystem::path& dir,
                                                                   const std::string& prefix) {
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<std::filesystem::path> dailies;
  for (int d = 49; d >= 40; --d) {
    dailies.push_back(
        write_fake_backup(dir, prefix, now - std::chrono::hours(d * 24), pgbackup::Tier::daily));
  }
  return dailies;
}

std::string random_bytes(std::size_t size) {
  std::mt19937_64 random(size);
  std::string out(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t v = random();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

}  // namespace pgtest
