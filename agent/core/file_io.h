#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pgbackup {

namespace fs = std::filesystem;

// Writes `content` to `path` atomically (temporary file, fsync, rename, fsync of the directory)
// with the given mode.
void write_file_atomic(const fs::path& path, const std::string& content, fs::perms mode);
// Writes all of `data` to `fd` (a file, a pipe, a terminal), again after EINTR and short
// writes. False, with errno set, when a write fails (EPIPE: the reader is gone).
bool write_all(int fd, std::string_view data);
// Reads a whole file; throws OperationError naming it.
std::string read_file(const fs::path& path);
// fsyncs a file or directory.
void fsync_path(const fs::path& path);
// Creates a directory (and missing parents) with mode 0700.
void create_private_dir(const fs::path& path);
// Appends one JSON line to a .jsonl file (created 0600) in a single write.
void append_json_line(const fs::path& path, const nlohmann::json& entry);

}  // namespace pgbackup
