#pragma once

#include <filesystem>
#include <string>

#include "agent/catalog/manifest.h"

namespace pgtest {

// Writes <dir>/<prefix>_STAMP.dump with `content` and a manifest (size and SHA-256 of that
// content) as if a good backup of `tier` had started at `started`: retention and off-site tests
// need backups of any age without a database. Returns the dump's path.
std::filesystem::path write_fake_backup(const std::filesystem::path& dir, const std::string& prefix,
                                        pgbackup::SysTime started, pgbackup::Tier tier,
                                        const std::string& content = std::string(4096, 'x'));

// `size` bytes that do not compress (multipart uploads need real sizes).
std::string random_bytes(std::size_t size);

}  // namespace pgtest
