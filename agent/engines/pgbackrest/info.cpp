#include "agent/engines/pgbackrest/info.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "agent/core/json_fields.h"

namespace pgbackup::pgbackrest {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw InfoParseError("pgbackrest info: " + where + " " + what +
                       " (hint: is this the output of `pgbackrest info --output=json` of "
                       "pgBackRest 2.x?)");
}

const json& member(const json& object, const char* key, const std::string& where) {
  if (!object.is_object()) fail(where, "is not an object");
  const auto it = object.find(key);
  if (it == object.end()) fail(where + "." + key, "is missing");
  return *it;
}

const json* optional_member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string text_at(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  if (!v.is_string()) fail(where + "." + key, "is not a string");
  return v.get<std::string>();
}

// A string that pgBackRest writes as null when it has none (prior, archive start/stop).
std::string text_or_empty(const json& object, const char* key, const std::string& where) {
  const json* v = optional_member(object, key);
  if (v == nullptr) return "";
  if (!v->is_string()) fail(where + "." + key, "is not a string");
  return v->get<std::string>();
}

template <std::integral T>
T number_at(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  try {
    return json_whole_number<T>(v, where + "." + key);
  } catch (const std::invalid_argument& e) {
    throw InfoParseError(std::string("pgbackrest info: ") + e.what());
  }
}

// system-id exceeds 2^53: nlohmann keeps such a number as an exact uint64 when it is written
// as an integer, and only a float (or a number past 2^64) would have lost digits, so only
// integers are taken.
std::uint64_t system_id_at(const json& object, const std::string& where) {
  const json& v = member(object, "system-id", where);
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  fail(where + ".system-id", "must be an integer from 0 to 2^64-1, not " +
                                 (v.is_number() ? v.dump() : std::string(v.type_name())));
}

const json& array_at(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  if (!v.is_array()) fail(where + "." + key, "is not an array");
  return v;
}

SysTime time_at(const json& object, const char* key, const std::string& where) {
  return from_unix_seconds(static_cast<double>(number_at<std::int64_t>(object, key, where)));
}

InfoDatabase parse_database(const json& j, const std::string& where) {
  InfoDatabase d;
  d.id = number_at<int>(j, "id", where);
  d.system_id = system_id_at(j, where);
  d.version = text_at(j, "version", where);
  return d;
}

InfoArchive parse_archive(const json& j, const std::string& where) {
  InfoArchive a;
  a.id = text_at(j, "id", where);
  a.db_id = number_at<int>(member(j, "database", where), "id", where + ".database");
  a.min = text_or_empty(j, "min", where);
  a.max = text_or_empty(j, "max", where);
  return a;
}

std::vector<std::string> references_of(const json& j, const std::string& where) {
  std::vector<std::string> out;
  const json* refs = optional_member(j, "reference");
  if (refs == nullptr) return out;
  if (!refs->is_array()) fail(where + ".reference", "is not an array");
  for (const json& r : *refs) {
    if (!r.is_string()) fail(where + ".reference", "holds something other than labels");
    out.push_back(r.get<std::string>());
  }
  return out;
}

InfoBackup parse_backup(const json& j, const std::string& where) {
  InfoBackup b;
  b.label = text_at(j, "label", where);
  const std::string type = text_at(j, "type", where);
  const auto parsed = parse_backup_type(type);
  if (!parsed) fail(where + ".type", "is \"" + type + "\", not full, diff or incr");
  b.type = *parsed;
  b.prior = text_or_empty(j, "prior", where);
  b.references = references_of(j, where);
  const json& timestamp = member(j, "timestamp", where);
  b.start = time_at(timestamp, "start", where + ".timestamp");
  b.stop = time_at(timestamp, "stop", where + ".timestamp");
  if (const json* archive = optional_member(j, "archive")) {
    b.archive_start = text_or_empty(*archive, "start", where + ".archive");
    b.archive_stop = text_or_empty(*archive, "stop", where + ".archive");
  }
  if (const json* lsn = optional_member(j, "lsn")) {
    b.lsn_start = text_or_empty(*lsn, "start", where + ".lsn");
    b.lsn_stop = text_or_empty(*lsn, "stop", where + ".lsn");
  }
  const json& info = member(j, "info", where);
  b.size = number_at<std::uint64_t>(info, "size", where + ".info");
  b.delta = number_at<std::uint64_t>(info, "delta", where + ".info");
  const json& repo = member(info, "repository", where + ".info");
  b.repository_size = number_at<std::uint64_t>(repo, "size", where + ".info.repository");
  b.repository_delta = number_at<std::uint64_t>(repo, "delta", where + ".info.repository");
  if (const json* error = optional_member(j, "error")) {
    if (!error->is_boolean()) fail(where + ".error", "is not true or false");
    b.error = error->get<bool>();
    b.error_known = true;
  }
  b.db_id = number_at<int>(member(j, "database", where), "id", where + ".database");
  return b;
}

InfoStanza parse_one_stanza(const json& j, const std::string& where) {
  InfoStanza s;
  s.name = text_at(j, "name", where);
  const json& status = member(j, "status", where);
  s.status_code = number_at<int>(status, "code", where + ".status");
  s.status_message = text_at(status, "message", where + ".status");
  if (const json* lock = optional_member(status, "lock")) {
    if (const json* backup = optional_member(*lock, "backup")) {
      const json* held = optional_member(*backup, "held");
      s.backup_lock_held = held != nullptr && held->is_boolean() && held->get<bool>();
    }
  }
  s.cipher = text_or_empty(j, "cipher", where);
  // A stanza whose repository is missing or unreadable has no db/archive/backup lists: its
  // status says why, and the lists stay empty.
  const auto each = [&](const char* key, auto&& parse_item) {
    if (optional_member(j, key) == nullptr) return;
    const json& items = array_at(j, key, where);
    for (std::size_t i = 0; i < items.size(); ++i) {
      parse_item(items[i], where + "." + key + "[" + std::to_string(i) + "]");
    }
  };
  each("db",
       [&](const json& d, const std::string& w) { s.databases.push_back(parse_database(d, w)); });
  each("archive",
       [&](const json& a, const std::string& w) { s.archives.push_back(parse_archive(a, w)); });
  each("backup",
       [&](const json& b, const std::string& w) { s.backups.push_back(parse_backup(b, w)); });
  return s;
}

}  // namespace

const InfoDatabase* InfoStanza::database(int db_id) const {
  for (const auto& d : databases) {
    if (d.id == db_id) return &d;
  }
  return nullptr;
}

const InfoDatabase* InfoStanza::current_database() const {
  const auto it = std::max_element(databases.begin(), databases.end(),
                                   [](const auto& a, const auto& b) { return a.id < b.id; });
  return it == databases.end() ? nullptr : &*it;
}

const InfoArchive* InfoStanza::archive_of(int db_id) const {
  for (const auto& a : archives) {
    if (a.db_id == db_id) return &a;
  }
  return nullptr;
}

const InfoBackup* InfoStanza::backup(std::string_view label) const {
  for (const auto& b : backups) {
    if (b.label == label) return &b;
  }
  return nullptr;
}

std::vector<InfoStanza> parse_info(std::string_view text) {
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) fail("output", "is not valid JSON");
  if (!j.is_array()) fail("output", "is not a list of stanzas");
  std::vector<InfoStanza> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    out.push_back(parse_one_stanza(j[i], "stanza[" + std::to_string(i) + "]"));
  }
  return out;
}

InfoStanza parse_stanza_info(std::string_view text, std::string_view name) {
  for (auto& s : parse_info(text)) {
    if (s.name == name) return std::move(s);
  }
  throw InfoParseError("pgbackrest info: no stanza \"" + std::string(name) +
                       "\" in the output (hint: check `stanza` and the pgbackrest.conf it names)");
}

}  // namespace pgbackup::pgbackrest
