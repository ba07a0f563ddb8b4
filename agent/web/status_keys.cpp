// The status page's encryption-keys row: which age-encrypted backups the configured identity
// file cannot open, known from the manifests' recipient fingerprints alone (nothing decrypted).
#include "agent/core/text.h"
#include "agent/web/status_sections.h"

namespace pgbackup {
namespace {

std::string backups_word(std::size_t n) {
  return std::to_string(n) + (n == 1 ? " encrypted backup" : " encrypted backups");
}

}  // namespace

std::string encryption_keys_row(const KeyCoverage& c) {
  std::string cell;
  switch (c.state) {
    case KeyCoverageState::nothing_to_check:
      return "";
    case KeyCoverageState::no_identity:
      cell = "<span class=muted>" + backups_word(c.encrypted) +
             "; no encryption.identity_file here to check them against</span>";
      break;
    case KeyCoverageState::identity_unusable:
      cell = "<span class=bad>the identity file cannot be read</span>: " + escape_html(c.error);
      break;
    case KeyCoverageState::all_open:
      cell = "<span class=ok>the identity file opens all " + backups_word(c.encrypted) + "</span>";
      break;
    case KeyCoverageState::some_unopenable:
      cell = "<span class=bad>" + std::to_string(c.unopenable.size()) + " of " +
             backups_word(c.encrypted) +
             " no key of the identity file opens</span>: " + escape_html(join(c.unopenable, ", ")) +
             " (hint: add the key they were encrypted to to identity_file, which may hold "
             "several)";
      break;
  }
  return "<tr><th>encryption keys</th><td>" + cell + "</td></tr>";
}

nlohmann::json key_coverage_json(const KeyCoverage& c) {
  return {{"state", key_coverage_state_name(c.state)},
          {"encrypted_backups", c.encrypted},
          {"unopenable", c.unopenable},
          {"error", c.error}};
}

}  // namespace pgbackup
