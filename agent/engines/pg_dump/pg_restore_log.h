#pragma once

#include <string>
#include <string_view>

namespace pgbackup {

// What one line of `pg_restore --verbose` on stderr says (PostgreSQL 15's wording).
struct PgRestoreLogLine {
  // pg_restore's own report of its work ("pg_restore: creating TABLE ..."), as opposed to an
  // error, a warning, their detail and hint, or a "Command was:" line: left out of the error
  // tail, so that the error is still in it after thousands of items.
  bool chatter = false;
  // An archive entry being restored: "creating ...", "processing data for table ...",
  // "executing ..." (one per entry of `pg_restore --list`, with --jobs as without).
  bool starts_item = false;
  // What that entry restores: the table of a data entry ("public.nodes"), else the object
  // ("INDEX public.nodes_pkey", "SEQUENCE SET nodes_id_seq").
  std::string item;
};

PgRestoreLogLine parse_pg_restore_log_line(std::string_view line);

}  // namespace pgbackup
