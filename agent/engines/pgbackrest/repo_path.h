#pragma once

// Where a posix repository is, from the operator's pgbackrest.conf (read, never written): the
// filesystem the agent reports as the target's storage. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace pgbackup::pgbackrest {

// pgBackRest's default configuration file and repository path.
inline constexpr const char* kDefaultConfigFile = "/etc/pgbackrest/pgbackrest.conf";
inline constexpr const char* kDefaultRepoPath = "/var/lib/pgbackrest";

// The value of `key` in `conf_text` for `stanza`: its [stanza] section's over [global]'s.
std::optional<std::string> stanza_option(std::string_view conf_text, std::string_view stanza,
                                         std::string_view key);

// `repo<N>-path` of `conf_text` for `stanza`: its [stanza] section's value over [global]'s
// (pgBackRest's precedence); nullopt when neither sets it or repo<N>-type is not posix.
std::optional<std::string> repo_path_in_config(std::string_view conf_text, std::string_view stanza,
                                               int repo);

}  // namespace pgbackup::pgbackrest
