#include "agent/engines/pgbackrest/restore_args.h"

#include <array>
#include <cstdio>
#include <sstream>

namespace pgbackup::pgbackrest {
namespace {

std::string type_option(const RestoreRequest& r) {
  if (r.immediate) return "--type=immediate";
  switch (r.target.kind) {
    case RecoveryTarget::Kind::time:
      return "--type=time";
    case RecoveryTarget::Kind::lsn:
      return "--type=lsn";
    case RecoveryTarget::Kind::latest:
      break;
  }
  return "--type=default";
}

std::string stripped(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

// The key of an ini line ("log-path" of "log-path = /x"), or "" for sections, comments, blanks.
std::string key_of(const std::string& line) {
  const std::size_t eq = line.find('=');
  if (eq == std::string::npos) return "";
  const std::string key = stripped(line.substr(0, eq));
  if (key.empty() || key.front() == '#' || key.front() == '[') return "";
  return key;
}

}  // namespace

std::vector<std::string> restore_args(const RestoreRequest& r) {
  std::vector<std::string> out = {"--pg1-path=" + r.pg_path};
  if (r.delta) out.push_back("--delta");
  if (!r.set.empty()) out.push_back("--set=" + r.set);
  out.push_back(type_option(r));
  if (!r.immediate && r.target.kind == RecoveryTarget::Kind::time) {
    out.push_back("--target=" + pgbackrest_time(r.target.time));
  } else if (!r.immediate && r.target.kind == RecoveryTarget::Kind::lsn) {
    out.push_back("--target=" + r.target.lsn);
  }
  // pgBackRest accepts --target-action only with a target (type default recovers to the end of
  // the archive and then promotes by itself).
  if (r.immediate || r.target.kind != RecoveryTarget::Kind::latest) {
    out.push_back("--target-action=promote");
  }
  if (r.archive_mode_off) out.push_back("--archive-mode=off");
  out.insert(out.end(), r.extra.begin(), r.extra.end());
  return out;
}

std::string pgbackrest_time(SysTime t) {
  std::string iso = format_target_time(t);  // 2026-12-06T14:04:00.25Z
  iso[10] = ' ';
  iso.pop_back();
  return iso + "+00";
}

std::string private_config(const std::string& config_text, const PrivatePaths& paths) {
  static const std::array<const char*, 4> dropped = {"lock-path", "log-path", "spool-path",
                                                     "archive-async"};
  const std::string own = "lock-path=" + paths.lock_path + "\nlog-path=" + paths.log_path +
                          "\nspool-path=" + paths.spool_path + "\narchive-async=n\n";
  std::istringstream in(config_text);
  std::string out;
  std::string line;
  bool placed = false;
  while (std::getline(in, line)) {
    const std::string key = key_of(line);
    bool drop = false;
    for (const char* d : dropped) drop = drop || key == d;
    if (drop) continue;
    out += line + "\n";
    if (!placed && stripped(line) == "[global]") {
      out += own;
      placed = true;
    }
  }
  if (!placed) out = "[global]\n" + own + out;
  return out;
}

}  // namespace pgbackup::pgbackrest
