#pragma once

// What a point-in-time restore of a pgBackRest target starts from (issue 23). Pure.

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "agent/engines/pgbackrest/info.h"

namespace pgbackup::pgbackrest {

// For an --lsn target (rules/recovery_target's choose_backup handles times): the newest backup
// whose label is in `good` and whose stop LSN is at or before `lsn` (recovery cannot stop before
// a backup's consistency point). nullptr when none qualifies.
const InfoBackup* newest_set_before_lsn(const InfoStanza& stanza, const std::set<std::string>& good,
                                        std::uint64_t lsn);

// The end of the WAL the archive of the stanza's current database holds, as an LSN: the end of
// its newest segment. The segment size is the one the sets' consistency points show (a set's stop
// LSN lies in its archive stop segment), else PostgreSQL's default. nullopt without a segment.
std::optional<std::uint64_t> archive_end_lsn(const InfoStanza& stanza);

// Empty when an --lsn target lies in the recovery window in LSN terms: from the oldest good set's
// stop LSN (its consistency point) to the archive's end. Otherwise the refusal, naming that
// window ("target lsn FF/0 is after the recovery window 0/3000100 .. 0/8000000 ...").
std::string check_lsn_in_window(const InfoStanza& stanza, const std::set<std::string>& good,
                                std::uint64_t lsn);

// "0/3000060", as PostgreSQL prints an LSN.
std::string lsn_text(std::uint64_t lsn);

// The timeline a backup set starts on (its archive start segment's first 8 hex digits), 0 when
// unknown.
std::uint32_t timeline_of(const InfoBackup& set);

}  // namespace pgbackup::pgbackrest
