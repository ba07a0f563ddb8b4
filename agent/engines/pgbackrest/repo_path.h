#pragma once

// Options of the operator's pgbackrest.conf (read, never written): where a posix repository is
// (the filesystem the agent reports as the target's storage), where the cluster's data
// directory is (what a restore replaces). Pure.

#include <optional>
#include <string>
#include <string_view>

namespace pgbackup::pgbackrest {

// pgBackRest's default configuration file and repository path.
inline constexpr const char* kDefaultConfigFile = "/etc/pgbackrest/pgbackrest.conf";
inline constexpr const char* kDefaultRepoPath = "/var/lib/pgbackrest";

// The value of option `key` ("pg1-path") in `conf_text` for `stanza`: its [stanza] section's
// over [global]'s (pgBackRest's precedence); nullopt when neither sets it.
std::optional<std::string> option_in_config(std::string_view conf_text, std::string_view stanza,
                                            std::string_view key);

// `repo<N>-path` of `conf_text` for `stanza`: its [stanza] section's value over [global]'s
// (pgBackRest's precedence); nullopt when neither sets it or repo<N>-type is not posix.
std::optional<std::string> repo_path_in_config(std::string_view conf_text, std::string_view stanza,
                                               int repo);

}  // namespace pgbackup::pgbackrest
