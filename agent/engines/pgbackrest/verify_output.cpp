#include "agent/engines/pgbackrest/verify_output.h"

#include <charconv>
#include <sstream>

namespace pgbackup::pgbackrest {
namespace {

// The message of a log line "2026-12-06 20:33:43.366 P01   INFO: message", or the line.
std::string_view message_of(std::string_view line, std::string_view* level) {
  // The level is the first word after the process id ("P01"), wherever a message repeats one.
  const auto pid = line.find(" P");
  if (pid != std::string_view::npos) {
    const auto at = line.find_first_not_of(' ', line.find(' ', pid + 1));
    for (const std::string_view l : {"ERROR: ", "WARN: ", "INFO: ", "DETAIL: ", "DEBUG: "}) {
      if (at != std::string_view::npos && line.substr(at, l.size()) == l) {
        *level = l.substr(0, l.size() - 2);
        return line.substr(at + l.size());
      }
    }
  }
  // ERROR lines without a time stamp, as pgBackRest writes them to stderr.
  if (line.rfind("ERROR: ", 0) == 0 || line.rfind("WARN: ", 0) == 0) {
    *level = line.substr(0, line.find(':'));
    return line.substr(level->size() + 2);
  }
  *level = "";
  const auto start = line.find_first_not_of(' ');
  return start == std::string_view::npos ? std::string_view() : line.substr(start);
}

// Sums the counts of "missing: 0, checksum invalid: 1, size invalid: 0, other: 0" (2.45 prints
// only the non-zero ones without --verbose).
int invalid_count(std::string_view text) {
  int total = 0;
  for (const std::string_view key :
       {"missing: ", "checksum invalid: ", "size invalid: ", "other: "}) {
    for (auto at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
      // "missing" must start a field, not end "checksum invalid"-like words.
      if (at != 0 && text[at - 1] != ' ' && text[at - 1] != ',') continue;
      int n = 0;
      const char* begin = text.data() + at + key.size();
      const auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), n);
      if (ec == std::errc() && ptr != begin && n > 0) total += n;
    }
  }
  return total;
}

// Per-file findings of 2.45: "invalid checksum 'path'", "invalid size 'path'", "file missing
// 'path'", "invalid result 'path'".
bool is_file_finding(std::string_view message) {
  return (message.starts_with("invalid ") || message.starts_with("file missing")) &&
         message.find('\'') != std::string_view::npos;
}

}  // namespace

VerifyVerdict judge_verify_output(std::string_view output, int exit_code) {
  VerifyVerdict v;
  bool saw_status = false, status_error = false;
  std::string section;  // the backup whose counts follow; "" for the archive's
  std::istringstream lines{std::string(output)};
  for (std::string raw; std::getline(lines, raw);) {
    std::string_view level;
    const std::string_view message = message_of(raw, &level);
    if (level == "ERROR") {
      v.reasons.emplace_back("ERROR: " + std::string(message));
    } else if (level == "WARN") {
      v.warnings.emplace_back(message);
    } else if (is_file_finding(message)) {
      v.reasons.emplace_back(message);
    } else if (message.starts_with("status: ")) {
      saw_status = true;
      if (message != "status: ok") status_error = true;
    } else if (message.starts_with("archiveId: ")) {
      section.clear();
    } else if (message.starts_with("backup: ")) {
      const auto status = message.find(", status: ");
      section = std::string(
          message.substr(8, status == std::string_view::npos ? message.npos : status - 8));
      if (status != std::string_view::npos) {
        const std::string_view rest = message.substr(status + 10);
        const std::string_view word = rest.substr(0, rest.find(','));
        // A backup still being written is skipped, not invalid (verify ran during a backup).
        if (word == "in-progress") {
          v.warnings.push_back("backup " + std::string(message.substr(8, status - 8)) +
                               " was in progress and not verified");
        } else if (word != "valid") {
          v.invalid_backups.push_back(std::string(message.substr(8, status - 8)) + ": " +
                                      std::string(word));
        }
      }
    }
    if (saw_status) {
      const int n = invalid_count(message);
      v.invalid_files += n;
      if (n > 0 && section.empty()) v.invalid_archive_files += n;
      if (n > 0 && !section.empty()) v.invalid_files_by_backup[section] += n;
    }
  }
  if (exit_code != 0) {
    v.reasons.insert(v.reasons.begin(),
                     "pgbackrest verify exited with status " + std::to_string(exit_code));
  }
  if (!saw_status && v.reasons.empty()) {
    v.reasons.emplace_back(
        "pgbackrest verify printed no result (hint: it prints one only with --verbose at log "
        "level info; is there any backup or archive in the repository?)");
  }
  for (const auto& b : v.invalid_backups) v.reasons.push_back("backup " + b);
  if (v.invalid_files > 0 && v.reasons.empty()) {
    v.reasons.push_back(std::to_string(v.invalid_files) + " invalid files");
  }
  if (status_error && v.reasons.empty()) {
    v.reasons.emplace_back("pgbackrest verify reported status: error");
  }
  v.ok = v.reasons.empty();
  return v;
}

namespace {

// The backup a reason names: "invalid checksum 'LABEL/pg_data/...'" or "backup LABEL: ...";
// "" for the others (the archive's files are named "15-1/0000000100000000/...").
std::string backup_named_by(const std::string& reason) {
  std::string_view rest;
  if (reason.starts_with("backup ")) {
    rest = std::string_view(reason).substr(7);
  } else if (const auto quote = reason.find('\''); quote != std::string::npos) {
    rest = std::string_view(reason).substr(quote + 1);
  } else {
    return "";
  }
  const std::string_view label = rest.substr(0, rest.find_first_of("/: '"));
  // A label starts with its date: YYYYMMDD-HHMMSSF.
  const bool is_label = label.size() >= 16 && label[8] == '-' && label[15] == 'F';
  return is_label ? std::string(label) : "";
}

}  // namespace

VerifyVerdict verdict_for_backup(const VerifyVerdict& whole, const std::string& label) {
  VerifyVerdict v;
  v.warnings = whole.warnings;
  v.invalid_archive_files = whole.invalid_archive_files;
  v.invalid_files = whole.invalid_archive_files;
  if (const auto own = whole.invalid_files_by_backup.find(label);
      own != whole.invalid_files_by_backup.end()) {
    v.invalid_files_by_backup[label] = own->second;
    v.invalid_files += own->second;
  }
  for (const std::string& b : whole.invalid_backups) {
    if (b.starts_with(label + ": ")) v.invalid_backups.push_back(b);
  }
  for (const std::string& reason : whole.reasons) {
    const std::string named = backup_named_by(reason);
    if (named.empty() || named == label) {
      v.reasons.push_back(reason);
    } else if (reason.starts_with("backup ")) {
      const auto n = whole.invalid_files_by_backup.find(named);
      const int count = n == whole.invalid_files_by_backup.end() ? 0 : n->second;
      v.warnings.push_back(reason + ", " + std::to_string(count) + " invalid file" +
                           (count == 1 ? "" : "s"));
    }
  }
  // The whole run's summary reasons ("N invalid files") counted every backup: recount.
  std::erase_if(v.reasons, [](const std::string& r) { return r.ends_with(" invalid files"); });
  if (v.invalid_files > 0 && v.reasons.empty()) {
    v.reasons.push_back(std::to_string(v.invalid_files) + " invalid files");
  }
  v.ok = v.reasons.empty();
  return v;
}

}  // namespace pgbackup::pgbackrest
