// The configuration reference has one source, the key tables parse_config validates against:
// docs/configuration.md and pgbackup-agent.yml(5) hold what config_reference() makes of them.
// After changing a key, run `PGBACKUP_UPDATE_GOLDEN=1 build/tests/unit_tests "[reference]"` to
// rewrite both files' generated parts, then review the diff.
#include "agent/config/reference.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/config/config.h"
#include "agent/core/file_io.h"

using namespace pgbackup;

namespace {

const fs::path kSource = PGBACKUP_SOURCE_DIR;

struct GeneratedFile {
  fs::path path;
  std::string begin, end;
  std::string (*make)(const std::vector<ReferenceSection>&);
};

const GeneratedFile kMarkdown{
    kSource / "docs" / "configuration.md",
    "<!-- BEGIN KEYS: generated from the key tables in agent/config (tests/unit/config/"
    "reference_test.cpp) -->",
    "<!-- END KEYS -->", reference_markdown};
const GeneratedFile kManPage{kSource / "packaging" / "man" / "pgbackup-agent.yml.5",
                             ".\\\" BEGIN KEYS: generated from the key tables in agent/config "
                             "(tests/unit/config/reference_test.cpp)",
                             ".\\\" END KEYS", reference_roff};

bool updating_golden() {
  const char* v = std::getenv("PGBACKUP_UPDATE_GOLDEN");
  return v && std::string(v) == "1";
}

// Compares the file's generated part with what the tables make, or rewrites it.
void check_generated(const GeneratedFile& file) {
  const std::string text = read_file(file.path);
  const std::string wanted = file.make(config_reference());
  if (updating_golden()) {
    std::ofstream(file.path, std::ios::binary | std::ios::trunc)
        << replace_generated_block(text, file.begin, file.end, wanted);
    WARN("rewrote the generated part of " << file.path.string());
    return;
  }
  const std::string difference =
      first_difference(wanted, generated_block(text, file.begin, file.end));
  INFO(file.path.string() << ": " << difference
                          << "\nhint: PGBACKUP_UPDATE_GOLDEN=1 build/tests/unit_tests "
                             "\"[reference]\" rewrites it from the tables");
  CHECK(difference.empty());
}

// A section with one documented key and one a change forgot to document.
struct Planted {
  int documented = 1;
  int forgotten = 2;
};
const KeyTable<Planted>& planted_keys() {
  static const KeyTable<Planted> table = {
      keys::whole("documented", &Planted::documented, 0, 9).doc("A key with its meaning."),
      keys::whole("forgotten", &Planted::forgotten, 0, 9),
  };
  return table;
}

}  // namespace

TEST_CASE("every config key has a type, a default and a meaning in its table", "[reference]") {
  const std::vector<ReferenceSection> reference = config_reference();
  CHECK(undocumented_keys(reference) == std::vector<std::string>{});
  std::size_t keys = 0;
  for (const ReferenceSection& section : reference) keys += section.keys.size();
  CHECK(keys > 60);  // every section's keys, not only the top of the file
}

TEST_CASE("docs/configuration.md lists every key as the key tables describe it", "[reference]") {
  check_generated(kMarkdown);
}

TEST_CASE("pgbackup-agent.yml(5) lists every key as the key tables describe it", "[reference]") {
  check_generated(kManPage);
}

TEST_CASE("a key added to a table without doc(...) is reported as undocumented", "[reference]") {
  std::vector<ReferenceSection> reference = config_reference();
  describe_keys(planted_keys(), "planted.", reference[1].keys);
  CHECK(undocumented_keys(reference) ==
        std::vector<std::string>{"undocumented key planted.forgotten (no doc(...) in its table)"});
}

TEST_CASE(
    "the docs check names a key missing from the docs, one unknown to the tables and "
    "another default",
    "[reference]") {
  const std::vector<ReferenceSection> real = config_reference();
  const std::string committed =
      generated_block(read_file(kMarkdown.path), kMarkdown.begin, kMarkdown.end);

  SECTION("a key the tables have and the docs lack") {
    std::vector<ReferenceSection> planted = real;
    describe_keys(planted_keys(), "backup.", planted[1].keys);
    CHECK(first_difference(reference_markdown(planted), committed) ==
          "key backup.documented is in the key tables but not in the file (undocumented)");
    CHECK(first_difference(reference_roff(planted), reference_roff(real)) ==
          "key backup.documented is in the key tables but not in the file (undocumented)");
  }
  SECTION("a key the docs have and the tables lack") {
    std::vector<ReferenceSection> fewer = real;
    fewer[1].keys.erase(fewer[1].keys.begin() + 1);  // database, the second key of a target
    CHECK(first_difference(reference_markdown(fewer), committed) ==
          "key database is in the file but not in the key tables (documented but unknown)");
  }
  SECTION("a default the docs show and the tables do not") {
    std::vector<ReferenceSection> changed = real;
    for (KeyReference& key : changed[1].keys) {
      if (key.path == "backup.timeout") key.default_value = "`3h`";
    }
    CHECK_THAT(first_difference(reference_markdown(changed), committed),
               Catch::StartsWith("key backup.timeout differs: the key tables make \"| "
                                 "`backup.timeout` | duration | `3h` |"));
    CHECK_THAT(first_difference(reference_roff(changed), reference_roff(real)),
               Catch::StartsWith("key backup.timeout differs: the key tables make \"duration; "
                                 "default \\fB3h\\fR.\""));
  }
}

TEST_CASE("setting a key to the default the reference shows changes nothing", "[reference]") {
  // Every optional section is present, and only keys without a default are set.
  const std::string base = R"(targets:
  - name: t
    database: {user: u, dbname: d}
    backup: {dir: /backups/t}
    restore_test:
      database: {user: u, dbname: scratch}
    offsite:
      s3: {endpoint: "http://127.0.0.1:9000", bucket: b}
)";
  // The pgbackrest section's keys, on a target of that engine (a pg_dump target refuses it).
  const std::string physical = base + "    engine: pgbackrest\n    pgbackrest: {stanza: s}\n";
  std::size_t tried = 0;
  const std::vector<ReferenceSection> reference = config_reference();
  for (std::size_t s = 0; s < reference.size(); ++s) {
    for (const KeyReference& key : reference[s].keys) {
      const std::string& d = key.default_value;
      const bool one_value =
          d.size() > 2 && d.front() == '`' && d.back() == '`' && d.find('`', 1) == d.size() - 1;
      if (!one_value || key.path.find("[]") != std::string::npos) continue;
      const std::string value = d.substr(1, d.size() - 2);
      const std::string& yaml = key.path.rfind("pgbackrest.", 0) == 0 ? physical : base;
      const std::string plain = render_config(parse_config(yaml, "test.yml"));
      YAML::Node root = YAML::Load(yaml);
      YAML::Node at = s == 0 ? root : root["targets"][0];
      std::string path = key.path;
      for (std::size_t dot; (dot = path.find('.')) != std::string::npos;) {
        at.reset(at[path.substr(0, dot)]);
        path.erase(0, dot + 1);
      }
      at[path] =
          value.front() == '[' || value.front() == '{' ? YAML::Load(value) : YAML::Node(value);
      YAML::Emitter out;
      out << root;
      INFO(key.path << ": " << value << "\n" << out.c_str());
      CHECK(render_config(parse_config(out.c_str(), "test.yml")) == plain);
      ++tried;
    }
  }
  CHECK(tried > 30);
}

namespace {

// The sections of a target that a ```yaml block shows, indented as under `- name:`
// ("    offsite:"), inside a minimal target that has the required sections it lacks.
std::string in_a_target(const std::string& sections) {
  std::string config = "targets:\n  - name: t\n";
  if (!std::regex_search(sections, std::regex("(^|\n)    database:"))) {
    config += "    database: {user: u, dbname: d}\n";
  }
  if (!std::regex_search(sections, std::regex("(^|\n)    backup:"))) {
    config += "    backup: {dir: /backups/t}\n";
  }
  return config + sections;
}

// The ```yaml blocks of a Markdown file that are configurations: whole ones (they have
// `targets:`), and sections of a target (in_a_target). Other YAML (a web config, Prometheus's)
// starts at the first column without `targets:`.
std::vector<std::string> yaml_configs_in(const fs::path& markdown) {
  std::vector<std::string> configs;
  std::istringstream in(read_file(markdown));
  std::string line, block;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      block.clear();
    } else if (inside && line == "```") {
      inside = false;
      if (block.rfind("targets:", 0) == 0 || block.find("\ntargets:") != std::string::npos) {
        configs.push_back(block);
      } else if (std::regex_search(block, std::regex("^    [a-z_]+:"))) {
        configs.push_back(in_a_target(block));
      }
    } else if (inside) {
      block += line + "\n";
    }
  }
  return configs;
}

// The packaged example with its commented-out optional sections switched on: the lines
// "    # restore_test:" and the "    #   ..." lines under it lose their "# ".
std::string with_optional_sections(const std::string& example) {
  static const std::regex section(R"(^(\s*)# (restore_test|offsite|restore):\s*$)");
  std::istringstream in(example);
  std::string out, line, indent;
  bool inside = false;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, section)) {
      indent = m[1];
      inside = true;
      out += indent + m[2].str() + ":\n";
    } else if (inside && line.rfind(indent + "#   ", 0) == 0) {
      out += indent + line.substr(indent.size() + 2) + "\n";
    } else {
      inside = false;
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the example configurations of the README, the docs and the package are valid",
          "[reference]") {
  std::vector<fs::path> pages{kSource / "README.md"};
  for (const fs::directory_entry& e : fs::directory_iterator(kSource / "docs")) {
    if (e.path().extension() == ".md") pages.push_back(e.path());
  }
  std::size_t examples = 0;
  for (const fs::path& page : pages) {
    for (const std::string& yaml : yaml_configs_in(page)) {
      INFO(page.string() << ":\n" << yaml);
      CHECK_NOTHROW(parse_config(yaml, page.string()));
      ++examples;
    }
  }
  // The README's and configuration.md's whole configurations; the offsite, restore_test and
  // restore sections of offsite.md, restore-tests.md and restore.md.
  CHECK(examples >= 5);

  const std::string packaged = read_file(kSource / "packaging" / "pgbackup.yml");
  CHECK_NOTHROW(parse_config(packaged, "pgbackup.yml"));
  const std::string full = with_optional_sections(packaged);
  INFO(full);
  const Config c = parse_config(full, "pgbackup.yml with its optional sections");
  REQUIRE(c.targets.size() == 1);
  CHECK(c.targets[0].restore_test.has_value());
  CHECK(c.targets[0].offsite_s3.has_value());
  CHECK_FALSE(c.targets[0].restore.stop_command.empty());
}
