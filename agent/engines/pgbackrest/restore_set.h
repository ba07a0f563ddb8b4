#pragma once

// What a point-in-time restore of a pgBackRest target starts from (issue 23). Pure.

#include <cstdint>
#include <set>
#include <string>

#include "agent/engines/pgbackrest/info.h"

namespace pgbackup::pgbackrest {

// For an --lsn target (rules/recovery_target's choose_backup handles times): the newest backup
// whose label is in `good` and whose stop LSN is at or before `lsn` (recovery cannot stop before
// a backup's consistency point). nullptr when none qualifies.
const InfoBackup* newest_set_before_lsn(const InfoStanza& stanza, const std::set<std::string>& good,
                                        std::uint64_t lsn);

// The timeline a backup set starts on (its archive start segment's first 8 hex digits), 0 when
// unknown.
std::uint32_t timeline_of(const InfoBackup& set);

}  // namespace pgbackup::pgbackrest
