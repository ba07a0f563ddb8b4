#include "agent/engines/pgbackrest/repo_path.h"

#include <map>

namespace pgbackup::pgbackrest {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> stanza_option(std::string_view conf_text, std::string_view stanza,
                                         std::string_view key) {
  // Values of [global] and of [stanza], by key.
  std::map<std::string, std::string, std::less<>> global, own;
  std::map<std::string, std::string, std::less<>>* section = nullptr;
  std::size_t pos = 0;
  while (pos <= conf_text.size()) {
    const std::size_t end = std::min(conf_text.find('\n', pos), conf_text.size());
    const std::string_view line = trimmed(conf_text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      // [global:CMD] and [stanza:CMD] apply to one command only: not the repository's place.
      const std::string_view name = line.substr(1, line.size() - 2);
      section = name == "global" ? &global : (name == stanza ? &own : nullptr);
      continue;
    }
    const std::size_t eq = line.find('=');
    if (!section || eq == std::string_view::npos) continue;
    (*section)[std::string(trimmed(line.substr(0, eq)))] =
        std::string(trimmed(line.substr(eq + 1)));
  }
  if (const auto it = own.find(key); it != own.end()) return it->second;
  if (const auto it = global.find(key); it != global.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> repo_path_in_config(std::string_view conf_text, std::string_view stanza,
                                               int repo) {
  const std::string prefix = "repo" + std::to_string(repo) + "-";
  const std::optional<std::string> type = stanza_option(conf_text, stanza, prefix + "type");
  if (type && *type != "posix") return std::nullopt;
  return stanza_option(conf_text, stanza, prefix + "path");
}

}  // namespace pgbackup::pgbackrest
