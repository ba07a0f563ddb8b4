#include "agent/engines/pg_dump/pg_restore_log.h"

namespace pgbackup {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// `TABLE "public.nodes"` -> `TABLE public.nodes`: pg_restore quotes the name as a whole.
std::string unquoted(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != '"') out += c;
  }
  return out;
}

}  // namespace

PgRestoreLogLine parse_pg_restore_log_line(std::string_view line) {
  PgRestoreLogLine out;
  constexpr std::string_view kProgram = "pg_restore: ";
  if (!starts_with(line, kProgram)) return out;  // "Command was: ...", a server's DETAIL
  const std::string_view rest = line.substr(kProgram.size());
  for (const std::string_view level : {"error:", "warning:", "detail:", "hint:", "fatal:"}) {
    if (starts_with(rest, level)) return out;
  }
  out.chatter = true;
  constexpr std::string_view kData = "processing data for table ";
  if (starts_with(rest, kData)) {
    out.starts_item = true;
    out.item = unquoted(rest.substr(kData.size()));
  } else if (starts_with(rest, "creating ") || starts_with(rest, "executing ")) {
    out.starts_item = true;
    out.item = unquoted(rest.substr(rest.find(' ') + 1));
  }
  return out;
}

}  // namespace pgbackup
