#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

#include "agent/catalog/manifest.h"
#include "agent/postgres/cluster_globals.h"

namespace pgbackup {

// The companion file of a backup: <dump>.globals (format pgbackup-globals/1, JSON, 0600), the
// roles and database settings its database needs from the cluster (postgres/cluster_globals.h).
// It may hold password verifiers, so it is only ever read by `restore` and `restore-test`,
// never printed. Its name (kGlobalsSuffix) does not end in the manifest suffix, so no listing
// takes it for a manifest.

nlohmann::json globals_to_json(const ClusterGlobals& g);
// Throws std::runtime_error naming the missing or malformed field.
ClusterGlobals globals_from_json(const nlohmann::json& j);

// Turns the file's text into what is stored (age encryption, engines/pg_dump/dump_crypto.h), or
// back; empty: stored as it is.
using TextCipher = std::function<std::string(const std::string& text)>;

// Writes `g` as `path` atomically (0600), through `seal` when given, and returns what the
// manifest lists of it (the size and SHA-256 of what is stored).
GlobalsFileInfo write_globals_file(const std::filesystem::path& path, const ClusterGlobals& g,
                                   const TextCipher& seal = {});

// Why the companion file `path` does not match the manifest's `info` (missing, size, SHA-256,
// unreadable, or refused as PosixStorage refuses: a symbolic link, another user's file), or
// empty when it does.
std::string globals_file_problem(const std::filesystem::path& path, const GlobalsFileInfo& info);
// Its text, read once and checked as above (for the off-site copy); throws OperationError
// saying what is wrong.
std::string read_globals_text(const std::filesystem::path& path, const GlobalsFileInfo& info);
// Reads it after checking it against `info`, through `open` when given (an encrypted file);
// throws OperationError saying what is wrong.
ClusterGlobals read_globals_file(const std::filesystem::path& path, const GlobalsFileInfo& info,
                                 const TextCipher& open = {});

}  // namespace pgbackup
