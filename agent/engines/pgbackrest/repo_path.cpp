#include "agent/engines/pgbackrest/repo_path.h"

#include <algorithm>

namespace pgbackup::pgbackrest {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> option_in_config(std::string_view conf_text, std::string_view stanza,
                                            std::string_view key) {
  // The values of [global] and of [stanza].
  std::optional<std::string> global, own;
  std::optional<std::string>* section = nullptr;
  std::size_t pos = 0;
  while (pos <= conf_text.size()) {
    const std::size_t end = std::min(conf_text.find('\n', pos), conf_text.size());
    const std::string_view line = trimmed(conf_text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      // [global:CMD] and [stanza:CMD] apply to one command only.
      const std::string_view name = line.substr(1, line.size() - 2);
      section = name == "global" ? &global : (name == stanza ? &own : nullptr);
      continue;
    }
    const std::size_t eq = line.find('=');
    if (!section || eq == std::string_view::npos) continue;
    if (trimmed(line.substr(0, eq)) == key) *section = std::string(trimmed(line.substr(eq + 1)));
  }
  return own ? own : global;
}

std::optional<std::string> repo_path_in_config(std::string_view conf_text, std::string_view stanza,
                                               int repo) {
  const std::string prefix = "repo" + std::to_string(repo) + "-";
  const std::optional<std::string> type = option_in_config(conf_text, stanza, prefix + "type");
  if (type && *type != "posix") return std::nullopt;
  return option_in_config(conf_text, stanza, prefix + "path");
}

}  // namespace pgbackup::pgbackrest
