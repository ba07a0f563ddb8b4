#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pgbackup {

using SysTime = std::chrono::system_clock::time_point;

// Seconds since the epoch, as Prometheus and the manifests want them.
double to_unix_seconds(SysTime t);
// A value outside what SysTime holds (about 1678-2262), infinite or NaN gives the epoch.
SysTime from_unix_seconds(double seconds);

// "2026-11-25T06:35:00Z" (UTC, whole seconds).
std::string format_iso8601(SysTime t);
// Parses what format_iso8601 writes (fractions of a second are accepted and dropped); nullopt for
// anything else, a date that does not exist (February 30) or a year outside 1900-2200.
std::optional<SysTime> parse_iso8601(std::string_view text);

// "20261125_063500": the timestamp part of a backup file name (UTC).
std::string format_file_stamp(SysTime t);
std::optional<SysTime> parse_file_stamp(std::string_view text);

}  // namespace pgbackup
