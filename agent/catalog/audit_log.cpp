#include "agent/catalog/audit_log.h"

#include <pwd.h>
#include <unistd.h>

#include <chrono>

#include "agent/core/file_io.h"
#include "agent/core/timeutil.h"

namespace pgbackup {
namespace {

std::string current_user() {
  passwd pw{};
  passwd* result = nullptr;
  char buf[1024];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &result) == 0 && result) return pw.pw_name;
  return std::to_string(geteuid());
}

}  // namespace

void append_audit(const fs::path& log, nlohmann::json entry, SysTime at) {
  entry["ts"] = format_iso8601(at);
  entry["user"] = current_user();
  entry["pid"] = ::getpid();
  append_json_line(log, entry);
}

}  // namespace pgbackup
