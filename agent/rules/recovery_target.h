#pragma once

// Where a point-in-time restore stops (DESIGN §11): the end of the archive, a time or an LSN.
// Pure: parsing the command line's forms, the refusal of a target outside the recovery window,
// the backup set a restore starts from, and a restore test's random_time.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/timeutil.h"
#include "agent/engines/catalog_entry.h"

namespace pgbackup {

struct RecoveryTarget {
  enum class Kind { latest, time, lsn };
  Kind kind = Kind::latest;
  SysTime time{};   // Kind::time (kept to the microsecond)
  std::string lsn;  // Kind::lsn, normalised ("0/3000060", upper-case hex)

  static RecoveryTarget latest() { return {}; }
  static RecoveryTarget at_time(SysTime t);
  static RecoveryTarget at_lsn(std::string lsn);

  // "latest", "time 2026-12-06T14:04:00Z", "lsn 0/3000060": for plans, reports, messages.
  std::string describe() const;
  bool operator==(const RecoveryTarget&) const = default;
};

// Parses a TS as the agent prints it: ISO 8601 in UTC ("2026-12-06T14:04:00Z", also "+00:00"),
// fractions of a second allowed (kept to the microsecond); nullopt otherwise.
std::optional<SysTime> parse_target_time(std::string_view text);
// "2026-12-06T14:04:00Z", or "2026-12-06T14:04:00.25Z" when it has a fraction.
std::string format_target_time(SysTime t);
// Parses an LSN ("0/3000060": two hex numbers of up to 8 digits), normalised; nullopt otherwise.
std::optional<std::string> parse_lsn(std::string_view text);
// The LSN as a number (what pg_lsn compares), for a valid LSN.
std::uint64_t lsn_value(std::string_view lsn);

// The target the command line asks for: at most one of --time, --lsn and --latest (none: latest).
// Throws OperationError naming the option and the expected form when a value does not parse or
// more than one is given.
RecoveryTarget parse_recovery_target(const std::optional<std::string>& time,
                                     const std::optional<std::string>& lsn, bool latest);

// Empty when a restore can reach `target` inside `window`; otherwise the refusal, naming the
// window ("target time ... is outside the recovery window A .. B"). An LSN cannot be placed in a
// window of times: it is refused only when there is no window at all (pgBackRest checks it).
std::string check_in_window(const RecoveryTarget& target, const RecoveryWindow& window);

// A restore test's random_time: a time inside `window` (which must have both ends) chosen by
// `unit` in [0, 1) (the injected random value), to the millisecond, never outside the window.
SysTime random_time_in(const RecoveryWindow& window, double unit);

// The good backup a restore to `target` starts from (`catalog` oldest first): for a time, the
// newest good backup finished at or before it; otherwise the newest good one. nullptr when none.
const CatalogEntry* choose_backup(const std::vector<CatalogEntry>& catalog,
                                  const RecoveryTarget& target);

}  // namespace pgbackup
