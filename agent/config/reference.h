#pragma once

#include <string>
#include <vector>

#include "agent/config/key_table.h"

namespace pgbackup {

// The configuration reference, made from the key tables parse_config validates against: the
// key tables of docs/configuration.md and the key sections of pgbackup-agent.yml(5) are this
// output (the unit test "the configuration reference ..." keeps them equal).
struct ReferenceSection {
  std::string title;  // "Top-level keys"
  std::vector<KeyReference> keys;
};

// The top-level keys and the keys of each target, in table order.
std::vector<ReferenceSection> config_reference();

// "undocumented key backup.x (no doc(...) in its table)" for every key the reference cannot
// describe: without a meaning or a type. (A default needs no check: describe_keys falls back on
// what render writes, "none" at worst; a section's keys show their own.)
std::vector<std::string> undocumented_keys(const std::vector<ReferenceSection>& reference);

// One Markdown table per section (`### title`), for docs/configuration.md.
std::string reference_markdown(const std::vector<ReferenceSection>& reference);
// One `.SH` per section, a `.TP` per key, for pgbackup-agent.yml(5).
std::string reference_roff(const std::vector<ReferenceSection>& reference);

// The lines of `text` between the line `begin` and the line `end`; throws std::runtime_error
// when either marker is missing.
std::string generated_block(const std::string& text, const std::string& begin,
                            const std::string& end);
// `text` with the lines between the markers replaced by `block`.
std::string replace_generated_block(const std::string& text, const std::string& begin,
                                    const std::string& end, const std::string& block);

// Empty when equal; else which line differs first and how, naming the key of a reference row:
// "key backup.timeout: the file has ..., the key tables make ...".
std::string first_difference(const std::string& from_tables, const std::string& in_file);

}  // namespace pgbackup
