// The configuration reference as Markdown and roff, made from the key tables (key_table.h's
// describe_keys), and the helpers that keep the committed copies equal to it.
#include "agent/config/reference.h"

#include <cctype>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>

namespace pgbackup {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

// Plain reference text as roff: `code` in bold, backslashes and hyphens escaped, and no line
// that roff would take for a request.
std::string roff_text(const std::string& text) {
  std::string out;
  bool code = false;
  for (const char c : text) {
    if (c == '`') {
      out += (code = !code) ? "\\fB" : "\\fR";
    } else if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out = "\\&" + out;
  return out;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// The key a line of a generated reference describes: a Markdown row's first cell, or the
// `.B` line after the nearest `.TP` above it in roff. Empty when there is none.
std::string key_at(const std::vector<std::string>& lines, std::size_t i) {
  if (i >= lines.size()) return "";
  const std::string& line = lines[i];
  if (line.rfind("| `", 0) == 0) return line.substr(3, line.find('`', 3) - 3);
  for (std::size_t j = i + 1; j-- > 0;) {
    if (lines[j].rfind(".SH", 0) == 0) break;
    if (lines[j] == ".TP" && j + 1 < lines.size() && lines[j + 1].rfind(".B ", 0) == 0) {
      std::string key = lines[j + 1].substr(3);
      for (std::size_t p; (p = key.find("\\-")) != std::string::npos;) key.erase(p, 1);
      return key;
    }
  }
  return "";
}

std::set<std::string> keys_in(const std::vector<std::string>& lines) {
  std::set<std::string> keys;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("| `", 0) == 0 || lines[i] == ".TP") keys.insert(key_at(lines, i));
  }
  keys.erase("");
  return keys;
}

}  // namespace

std::string rendered_default(const std::function<void(YAML::Emitter&)>& render) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  render(out);
  out << YAML::EndMap;
  const YAML::Node map = YAML::Load(out.c_str());
  if (!map.IsMap() || map.size() == 0) return "none";
  const YAML::Node value = map.begin()->second;
  if (value.IsScalar()) return value.Scalar().empty() ? "none" : "`" + value.Scalar() + "`";
  if (!value.IsDefined() || value.IsNull() || value.size() == 0) return "none";
  YAML::Emitter flow;
  flow << YAML::Flow << value;
  return "`" + std::string(flow.c_str()) + "`";
}

std::string keys::range_type(const char* kind, double min, double max) {
  char text[96];
  if (max >= 1e9) {
    std::snprintf(text, sizeof text, "%s, at least %g", kind, min);
  } else {
    std::snprintf(text, sizeof text, "%s, %g to %g", kind, min, max);
  }
  return text;
}

std::string keys::choice_type(const std::vector<std::string_view>& options) {
  std::vector<std::string> named;
  for (const std::string_view o : options) {
    if (!o.empty()) named.push_back("`" + std::string(o) + "`");
  }
  std::string type;
  for (std::size_t i = 0; i < named.size(); ++i) {
    type += (i == 0 ? "" : i + 1 == named.size() ? " or " : ", ") + named[i];
  }
  return type;
}

std::vector<std::string> undocumented_keys(const std::vector<ReferenceSection>& reference) {
  std::vector<std::string> problems;
  for (const ReferenceSection& section : reference) {
    for (const KeyReference& key : section.keys) {
      if (key.meaning.empty()) {
        problems.push_back("undocumented key " + key.path + " (no doc(...) in its table)");
      }
      if (key.type.empty()) {
        problems.push_back("key " + key.path + " has no type (kind(...) in its table)");
      }
    }
  }
  return problems;
}

std::string reference_markdown(const std::vector<ReferenceSection>& reference) {
  std::string out;
  for (const ReferenceSection& section : reference) {
    out += "### " + section.title + "\n\n| key | type | default | meaning |\n|---|---|---|---|\n";
    for (const KeyReference& k : section.keys) {
      out += "| `" + k.path + "` | " + markdown_cell(k.type) + " | " +
             markdown_cell(k.default_value) + " | " + markdown_cell(k.meaning) + " |\n";
    }
    if (&section != &reference.back()) out += "\n";
  }
  return out;
}

std::string reference_roff(const std::vector<ReferenceSection>& reference) {
  std::string out;
  for (const ReferenceSection& section : reference) {
    out += ".SH " + roff_text(upper(section.title)) + "\n";
    for (const KeyReference& k : section.keys) {
      std::string facts = k.type;
      if (k.default_value == "required") {
        facts += "; required";
      } else if (!k.default_value.empty()) {
        facts += "; default " + k.default_value;
      }
      out += ".TP\n.B " + roff_text(k.path) + "\n" + roff_text(facts + ".") + "\n" +
             roff_text(k.meaning) + "\n";
    }
  }
  return out;
}

std::string generated_block(const std::string& text, const std::string& begin,
                            const std::string& end) {
  const std::vector<std::string> lines = lines_of(text);
  std::string block;
  bool inside = false;
  for (const std::string& line : lines) {
    if (line == begin && !inside) {
      inside = true;
    } else if (line == end && inside) {
      return block;
    } else if (inside) {
      block += line + "\n";
    }
  }
  throw std::runtime_error("no generated block: the line \"" + (inside ? end : begin) +
                           "\" is missing");
}

std::string replace_generated_block(const std::string& text, const std::string& begin,
                                    const std::string& end, const std::string& block) {
  generated_block(text, begin, end);  // both markers are there
  const std::size_t from = text.find(begin + "\n") + begin.size() + 1;
  const std::size_t to = text.find("\n" + end, from - 1) + 1;
  return text.substr(0, from) + block + text.substr(to);
}

std::string first_difference(const std::string& from_tables, const std::string& in_file) {
  const std::vector<std::string> want = lines_of(from_tables);
  const std::vector<std::string> have = lines_of(in_file);
  std::size_t i = 0;
  while (i < want.size() && i < have.size() && want[i] == have[i]) ++i;
  if (i == want.size() && i == have.size()) return "";
  const std::set<std::string> table_keys = keys_in(want);
  const std::set<std::string> file_keys = keys_in(have);
  const std::string wanted_key = key_at(want, i);
  const std::string found_key = key_at(have, i);
  const std::string wanted = i < want.size() ? "\"" + want[i] + "\"" : "nothing";
  const std::string found = i < have.size() ? "\"" + have[i] + "\"" : "nothing";
  if (!wanted_key.empty() && !file_keys.count(wanted_key)) {
    return "key " + wanted_key + " is in the key tables but not in the file (undocumented)";
  }
  if (!found_key.empty() && !table_keys.count(found_key)) {
    return "key " + found_key +
           " is in the file but not in the key tables (documented but unknown)";
  }
  const std::string where =
      wanted_key.empty() ? "line " + std::to_string(i + 1) : "key " + wanted_key;
  return where + " differs: the key tables make " + wanted + ", the file has " + found;
}

}  // namespace pgbackup
