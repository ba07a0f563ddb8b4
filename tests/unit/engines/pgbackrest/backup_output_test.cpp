// What `pgbackrest backup` prints: its label, and a lock another process holds (pgBackRest 2.45
// output, captured on this machine).
#include <catch2/catch.hpp>

#include "agent/engines/pgbackrest/backup_output.h"

using namespace pgbackup::pgbackrest;

TEST_CASE("the label of the backup pgbackrest took is read from its info-level output") {
  const std::string console =
      "2026-12-07 12:25:24.921 P00   INFO: backup command begin 2.45: --stanza=t --type=incr\n"
      "2026-12-07 12:25:25.618 P00   INFO: last backup label = 20261207-122450F, version = 2.45\n"
      "2026-12-07 12:25:26.030 P00   INFO: backup start archive = 000000010000000000000009, "
      "lsn = 0/9000028\n"
      "2026-12-07 12:25:29.135 P00   INFO: new backup label = 20261207-122450F_20261207-122525I\n"
      "2026-12-07 12:25:29.365 P00   INFO: incr backup size = 39.4MB, file total = 969\n"
      "2026-12-07 12:25:29.365 P00   INFO: backup command end: completed successfully (4456ms)\n";
  CHECK(new_backup_label(console) == "20261207-122450F_20261207-122525I");
  CHECK(new_backup_label("P00   INFO: new backup label = 20261207-122450F") == "20261207-122450F");
  // The last backup's label is not the new one; nothing printed is nothing known.
  CHECK_FALSE(new_backup_label("P00   INFO: last backup label = 20261207-122450F, version = 2.45\n")
                  .has_value());
  CHECK_FALSE(new_backup_label("").has_value());
  CHECK_FALSE(new_backup_label("INFO: new backup label = ../../etc\n").has_value());
  CHECK_FALSE(new_backup_label("INFO: new backup label = \n").has_value());
}

TEST_CASE("a backup refused because another pgbackrest holds the stanza's lock is told apart") {
  const std::string held =
      "ERROR: [050]: unable to acquire lock on file '/tmp/st/lock/t-backup.lock': Resource "
      "temporarily unavailable\n       HINT: is another pgBackRest process running?\n";
  CHECK(backup_lock_was_held(50, held));
  CHECK_FALSE(backup_lock_was_held(56, held));
  CHECK_FALSE(backup_lock_was_held(50, "ERROR: [050]: some other lock problem\n"));
  CHECK_FALSE(backup_lock_was_held(0, ""));
}
