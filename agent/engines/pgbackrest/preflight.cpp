#include "agent/engines/pgbackrest/preflight.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/postgres/postgres.h"

namespace pgbackup::pgbackrest {
namespace {

constexpr const char* kDefaultConf = "/etc/pgbackrest/pgbackrest.conf";
constexpr const char* kDefaultIncludeDir = "/etc/pgbackrest/conf.d";
constexpr auto kConnectTimeout = std::chrono::seconds(5);

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// The words of a shell command line as a shell would split it (quotes removed), enough to read
// an archive_command; nothing is run.
std::vector<std::string> words(const std::string& command) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : command) {
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|') {
      if (in_word) out.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(word);
  return out;
}

std::string suggested_command(const std::string& stanza) {
  return "archive_command = 'pgbackrest --stanza=" + stanza + " archive-push %p'";
}

// The stanza named by --stanza=NAME or --stanza NAME among `w`, or nullopt.
std::optional<std::string> stanza_option(const std::vector<std::string>& w) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (w[i].rfind("--stanza=", 0) == 0) return w[i].substr(9);
    if (w[i] == "--stanza" && i + 1 < w.size()) return w[i + 1];
  }
  return std::nullopt;
}

bool runs_pgbackrest(const std::vector<std::string>& w) {
  return std::any_of(w.begin(), w.end(), [](const std::string& s) {
    return s == "pgbackrest" || (s.size() > 11 && s.compare(s.size() - 11, 11, "/pgbackrest") == 0);
  });
}

ConfFile read_conf(const std::string& path) {
  ConfFile conf{path, std::nullopt, false, ""};
  std::ifstream in(path);
  if (!in) {
    conf.missing = errno == ENOENT;
    conf.read_error = std::strerror(errno);
    return conf;
  }
  std::ostringstream text;
  text << in.rdbuf();
  conf.text = text.str();
  return conf;
}

// The *.conf files of `dir`, by name; none when it does not exist or cannot be listed.
std::vector<ConfFile> read_conf_dir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > 5 && name.ends_with(".conf")) names.push_back(it->path().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<ConfFile> out;
  for (const std::string& name : names) out.push_back(read_conf(name));
  return out;
}

// What pgBackRest reads for `config`: the file it names, else the default and its include dir.
ConfFile read_effective_conf(const PgBackRestConfig& config) {
  if (!config.config.empty()) return read_conf(config.config.string());
  return merge_conf_files(read_conf(kDefaultConf), read_conf_dir(kDefaultIncludeDir));
}

}  // namespace

ConfFile merge_conf_files(const ConfFile& main, const std::vector<ConfFile>& includes) {
  ConfFile out = main;
  std::size_t read = 0;
  for (const ConfFile& f : includes) {
    if (!f.text) continue;
    out.text = out.text.value_or("") + "\n" + *f.text;
    ++read;
  }
  if (read > 0) {
    out.path +=
        " (and " + std::to_string(read) + " file" + (read == 1 ? "" : "s") + " in its conf.d)";
    out.missing = false;
    out.read_error.clear();
  }
  return out;
}

std::optional<PreflightProblem> check_conf_stanza(const ConfFile& conf, const std::string& stanza) {
  if (!conf.text) {
    if (conf.missing) {
      return PreflightProblem{true, "pgbackrest.conf " + conf.path + " does not exist",
                              "write it with a [" + stanza +
                                  "] section (pg1-path, repo1-path), or set pgbackrest.config "
                                  "to the file pgBackRest uses"};
    }
    return PreflightProblem{true,
                            "cannot read pgbackrest.conf " + conf.path + ": " + conf.read_error,
                            "let the agent's user read it (pgBackRest only needs it readable)"};
  }
  std::istringstream in(*conf.text);
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.size() < 2 || line.front() != '[' || line.back() != ']') continue;
    const std::string section = line.substr(1, line.size() - 2);
    if (section == stanza || section.rfind(stanza + ":", 0) == 0) return std::nullopt;
  }
  return PreflightProblem{true, "pgbackrest.conf " + conf.path + " has no [" + stanza + "] section",
                          "add [" + stanza +
                              "] with pg1-path, or set pgbackrest.stanza to a "
                              "stanza the file names"};
}

std::optional<PreflightProblem> check_archive_mode(const std::string& archive_mode) {
  if (archive_mode == "on" || archive_mode == "always") return std::nullopt;
  return PreflightProblem{true, "archive_mode is " + archive_mode,
                          "set archive_mode = on in postgresql.conf and restart"};
}

std::optional<PreflightProblem> check_archive_command(const std::string& archive_command,
                                                      const std::string& stanza) {
  const std::string command = trim(archive_command);
  if (command.empty() || command == "(disabled)") {
    return PreflightProblem{true,
                            "archive_command is " + (command.empty() ? "empty" : command) +
                                ": no WAL reaches the repository",
                            "set " + suggested_command(stanza) + " in postgresql.conf and reload"};
  }
  const std::vector<std::string> w = words(command);
  const bool pushes =
      runs_pgbackrest(w) && std::find(w.begin(), w.end(), "archive-push") != w.end();
  if (!pushes) {
    return PreflightProblem{false,
                            "archive_command '" + command +
                                "' does not run pgbackrest archive-push: the agent cannot "
                                "tell whether WAL reaches stanza " +
                                stanza,
                            "if it is a wrapper, make sure it runs pgbackrest --stanza=" + stanza +
                                " archive-push %p; the WAL-continuity check will show gaps"};
  }
  const std::optional<std::string> named = stanza_option(w);
  if (!named) {
    return PreflightProblem{false, "archive_command '" + command + "' names no --stanza",
                            "name it: " + suggested_command(stanza)};
  }
  if (*named != stanza) {
    return PreflightProblem{
        true, "archive_command pushes to stanza " + *named + ", not " + stanza,
        "set " + suggested_command(stanza) +
            " in postgresql.conf and reload, or set pgbackrest.stanza: " + *named};
  }
  return std::nullopt;
}

std::optional<PreflightProblem> check_archive_library(const std::string& archive_library) {
  const std::string library = trim(archive_library);
  if (library.empty()) return std::nullopt;
  return PreflightProblem{true,
                          "archive_library is '" + library +
                              "': the server archives through it and ignores archive_command, so "
                              "no WAL reaches the stanza through pgbackrest archive-push",
                          "ALTER SYSTEM RESET archive_library, then reload"};
}

std::string effective_conf_path(const PgBackRestConfig& config) {
  return config.config.empty() ? kDefaultConf : config.config.string();
}

std::vector<PreflightProblem> check_preflight(const TargetConfig& target) {
  std::vector<PreflightProblem> problems;
  const PgBackRestConfig settings = target.pgbackrest.value_or(PgBackRestConfig{});
  const auto add = [&](std::optional<PreflightProblem> p) {
    if (p) problems.push_back(std::move(*p));
  };
  add(check_conf_stanza(read_effective_conf(settings), settings.stanza));
  std::unique_ptr<pqxx::connection> conn;
  try {
    DatabaseConfig db = target.database;
    db.connect_timeout = std::min<std::chrono::seconds>(db.connect_timeout, kConnectTimeout);
    conn = DatabaseEndpoint(db).connect();
  } catch (const std::exception& e) {
    problems.push_back({false,
                        "archive_mode and archive_command not checked: the database cannot be "
                        "reached (" +
                            std::string(e.what()) + ")",
                        "they are checked again at the next config-check or start-up"});
  }
  if (conn) {
    try {
      pqxx::nontransaction tx(*conn);
      add(check_archive_mode(tx.exec1("SHOW archive_mode")[0].as<std::string>()));
      add(check_archive_command(tx.exec1("SHOW archive_command")[0].as<std::string>(),
                                settings.stanza));
      // NULL before PostgreSQL 15, which has no archive_library.
      const pqxx::row library = tx.exec1("SELECT current_setting('archive_library', true)");
      if (!library[0].is_null()) add(check_archive_library(library[0].as<std::string>()));
    } catch (const std::exception& e) {
      problems.push_back({false,
                          std::string("cannot read archive_mode and archive_command: ") + e.what(),
                          "grant the agent's role pg_read_all_settings"});
    }
  }
  std::stable_partition(problems.begin(), problems.end(),
                        [](const PreflightProblem& p) { return p.error; });
  return problems;
}

}  // namespace pgbackup::pgbackrest
