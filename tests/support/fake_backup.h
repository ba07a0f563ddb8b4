#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agent/catalog/manifest.h"

namespace pgtest {

// Writes <dir>/<prefix>_STAMP.dump with `content` and a manifest (size and SHA-256 of that
// content) as if a good backup of `tier` had started at `started`: retention and off-site tests
// need backups of any age without a database. Returns the dump's path.
std::filesystem::path write_fake_backup(const std::filesystem::path& dir, const std::string& prefix,
                                        pgbackup::SysTime started, pgbackup::Tier tier,
                                        const std::string& content = std::string(4096, 'x'));

// Ten good dailies taken 49 to 40 days ago and nothing since: what a clock that jumped 40 days
// forward makes of a healthy directory (retention would expire them all at once). Oldest
// first.
std::vector<std::filesystem::path> write_dailies_before_clock_jump(const std::filesystem::path& dir,
                                                                   const std::string& prefix);

// The hex SHA-256 of `content`, as a manifest records it.
std::string sha256_of(const std::string& content);

// `size` bytes that do not compress (multipart uploads need real sizes).
std::string random_bytes(std::size_t size);

}  // namespace pgtest
