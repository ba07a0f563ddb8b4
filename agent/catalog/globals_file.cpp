#include "agent/catalog/globals_file.h"

#include <optional>
#include <stdexcept>

#include "agent/core/errors.h"
#include "agent/core/file_io.h"
#include "agent/core/json_fields.h"
#include "agent/core/sha256.h"
#include "agent/storage/posix_storage.h"

namespace pgbackup {
namespace {

constexpr char kFormat[] = "pgbackup-globals/1";

nlohmann::json role_to_json(const RoleInfo& r) {
  nlohmann::json j = {{"name", r.name},
                      {"superuser", r.superuser},
                      {"inherit", r.inherit},
                      {"createrole", r.createrole},
                      {"createdb", r.createdb},
                      {"login", r.login},
                      {"replication", r.replication},
                      {"bypassrls", r.bypassrls},
                      {"connection_limit", r.connection_limit},
                      {"valid_until", r.valid_until},
                      {"has_password", r.has_password},
                      {"settings", r.settings},
                      {"database_settings", r.database_settings}};
  if (r.password) j["password"] = *r.password;
  return j;
}

RoleInfo role_from_json(const nlohmann::json& j) {
  RoleInfo r;
  r.name = j.at("name").get<std::string>();
  r.superuser = j.at("superuser").get<bool>();
  r.inherit = j.at("inherit").get<bool>();
  r.createrole = j.at("createrole").get<bool>();
  r.createdb = j.at("createdb").get<bool>();
  r.login = j.at("login").get<bool>();
  r.replication = j.at("replication").get<bool>();
  r.bypassrls = j.at("bypassrls").get<bool>();
  r.connection_limit = json_whole_number_at<int>(j, "connection_limit");
  r.valid_until = j.value("valid_until", "");
  r.has_password = j.value("has_password", false);
  if (j.contains("password")) r.password = j.at("password").get<std::string>();
  r.settings = j.value("settings", std::vector<std::string>{});
  r.database_settings = j.value("database_settings", std::vector<std::string>{});
  return r;
}

std::string sha256_of(const std::string& text) {
  Sha256 hash;
  hash.update(text.data(), text.size());
  return hash.hex_digest();
}

// The companion file's text as the manifest lists it, or why not (`problem`). Read like any
// file of the backup directory (PosixStorage): a symbolic link or another user's file is refused.
std::optional<std::string> checked_text(const fs::path& path, const GlobalsFileInfo& info,
                                        std::string& problem) {
  const std::string where = "its companion file " + path.string();
  std::optional<std::string> text;
  try {
    text = PosixStorage(path.parent_path()).read_if_present(path.filename().string());
  } catch (const OperationError& e) {
    problem = where + " cannot be read: " + e.what();
    return std::nullopt;
  }
  if (!text) {
    problem = where + " is missing";
  } else if (text->size() != info.size_bytes) {
    problem = where + " is " + std::to_string(text->size()) + " bytes, the manifest says " +
              std::to_string(info.size_bytes);
  } else if (sha256_of(*text) != info.sha256) {
    problem = where + " does not match the manifest's SHA-256";
  } else if (text->rfind("age-encryption.org/v1\n", 0) == 0) {
    return text;  // encrypted, and what the manifest lists: its contents are read where opened
  } else {
    try {
      globals_from_json(nlohmann::json::parse(*text));
      return text;
    } catch (const std::exception& e) {
      problem = where + " cannot be read: " + e.what();
    }
  }
  return std::nullopt;
}

}  // namespace

nlohmann::json globals_to_json(const ClusterGlobals& g) {
  const DatabaseGlobals& d = g.database;
  nlohmann::json database = {{"name", d.name},
                             {"owner", d.owner},
                             {"encoding", d.encoding},
                             {"collate", d.collate},
                             {"ctype", d.ctype},
                             {"locale_provider", d.locale_provider},
                             {"icu_locale", d.icu_locale},
                             {"connection_limit", d.connection_limit},
                             {"settings", d.settings},
                             {"acl", d.acl ? nlohmann::json(*d.acl) : nlohmann::json()},
                             {"tablespace", d.tablespace},
                             {"tablespaces", d.tablespaces}};
  nlohmann::json roles = nlohmann::json::array();
  for (const RoleInfo& r : g.roles) roles.push_back(role_to_json(r));
  nlohmann::json memberships = nlohmann::json::array();
  for (const RoleMembership& m : g.memberships) {
    memberships.push_back(
        {{"role", m.role}, {"member", m.member}, {"admin_option", m.admin_option}});
  }
  return {{"format", kFormat},
          {"database", database},
          {"roles", roles},
          {"memberships", memberships},
          {"passwords_included", g.passwords_included},
          {"warnings", g.warnings}};
}

ClusterGlobals globals_from_json(const nlohmann::json& j) {
  if (!json_has_format(j, kFormat)) {
    throw std::runtime_error(std::string("not a ") + kFormat + " document");
  }
  ClusterGlobals g;
  try {
    const auto& d = j.at("database");
    DatabaseGlobals& db = g.database;
    db.name = d.at("name").get<std::string>();
    db.owner = d.at("owner").get<std::string>();
    db.encoding = d.at("encoding").get<std::string>();
    db.collate = d.at("collate").get<std::string>();
    db.ctype = d.at("ctype").get<std::string>();
    db.locale_provider = d.value("locale_provider", "libc");
    db.icu_locale = d.value("icu_locale", "");
    db.connection_limit = json_whole_number_or(d, "connection_limit", -1);
    db.settings = d.value("settings", std::vector<std::string>{});
    if (d.contains("acl") && !d.at("acl").is_null()) {
      db.acl = d.at("acl").get<std::vector<std::string>>();
    }
    db.tablespace = d.value("tablespace", "pg_default");
    db.tablespaces = d.value("tablespaces", std::vector<std::string>{});
    for (const auto& r : j.at("roles")) g.roles.push_back(role_from_json(r));
    for (const auto& m : j.at("memberships")) {
      g.memberships.push_back({m.at("role").get<std::string>(), m.at("member").get<std::string>(),
                               m.value("admin_option", false)});
    }
    g.passwords_included = j.value("passwords_included", false);
    g.warnings = j.value("warnings", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("malformed companion file: ") + e.what());
  } catch (const std::invalid_argument& e) {  // a number out of range
    throw std::runtime_error(std::string("malformed companion file: ") + e.what());
  }
  return g;
}

GlobalsFileInfo write_globals_file(const std::filesystem::path& path, const ClusterGlobals& g,
                                   const TextCipher& seal) {
  const std::string plain = globals_to_json(g).dump(2) + "\n";
  const std::string text = seal ? seal(plain) : plain;
  write_file_atomic(path, text, fs::perms::owner_read | fs::perms::owner_write);
  GlobalsFileInfo info;
  info.file = path.filename().string();
  info.size_bytes = text.size();
  info.sha256 = sha256_of(text);
  for (const RoleInfo& r : g.roles) info.roles.push_back(r.name);
  info.passwords_included = g.passwords_included;
  info.warnings = g.warnings;
  return info;
}

std::string globals_file_problem(const std::filesystem::path& path, const GlobalsFileInfo& info) {
  std::string problem;
  checked_text(path, info, problem);
  return problem;
}

std::string read_globals_text(const std::filesystem::path& path, const GlobalsFileInfo& info) {
  std::string problem;
  std::optional<std::string> text = checked_text(path, info, problem);
  if (!text) throw OperationError(problem);
  return std::move(*text);
}

ClusterGlobals read_globals_file(const std::filesystem::path& path, const GlobalsFileInfo& info,
                                 const TextCipher& open) {
  std::string problem;
  const std::optional<std::string> text = checked_text(path, info, problem);
  if (!text) {
    throw OperationError("the backup cannot be restored onto a new server: " + problem);
  }
  return globals_from_json(nlohmann::json::parse(open ? open(*text) : *text));
}

}  // namespace pgbackup
