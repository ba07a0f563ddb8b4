#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgbackup {

// Parses a duration such as "90s", "45m", "26h", "30d" (also "1h30m"). Throws
// std::invalid_argument with a message that shows the accepted forms.
std::chrono::seconds parse_duration(std::string_view text);

// Parses a size such as "512KiB", "1MiB", "2GiB" or a plain byte count. Throws
// std::invalid_argument.
std::uint64_t parse_size(std::string_view text);

// "26h", "30d", "1h30m": the shortest exact spelling of a duration.
std::string format_duration(std::chrono::seconds d);

// "1KiB", "64MiB", "1000B": the largest unit that spells a size exactly (parse_size reads it).
std::string format_size(std::uint64_t bytes);

// How long before `now` `t` was: "42s" under a minute, else in whole minutes ("26h", "3d2h5m").
std::string format_age(std::chrono::system_clock::time_point t,
                       std::chrono::system_clock::time_point now);

// "1.5 GiB", "812 KiB", "17 B": for people, not for parsing.
std::string format_bytes(std::uint64_t bytes);

}  // namespace pgbackup
