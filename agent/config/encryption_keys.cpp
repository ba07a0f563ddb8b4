// The keys of a target's `encryption` section (age, agent/crypto/age.h): each table drives
// parse_config, render_config (config-check) and the configuration reference.
#include <yaml-cpp/yaml.h>

#include "agent/config/target_keys.h"
#include "agent/core/file_io.h"
#include "agent/core/text.h"
#include "agent/crypto/age.h"

namespace pgbackup {
namespace {

using E = EncryptionConfig;

ConfigKey<E> recipients_key() {
  return ConfigKey<E>{"recipients",
                      [](const Section& s, const char* k, E& e) {
                        if (!s.has(k)) return;
                        e.recipients = s.string_list(k);
                        std::size_t i = 0;
                        for (const auto& item : s.get(k)) {
                          const std::string problem = recipient_problem(e.recipients[i]);
                          if (!problem.empty()) {
                            s.fail(item, s.key_path(k) + "[" + std::to_string(i) + "] \"" +
                                             e.recipients[i] + "\" is not an age recipient: it " +
                                             problem);
                          }
                          ++i;
                        }
                      },
                      [](YAML::Emitter& out, const char* k, const E& e) {
                        if (e.recipients.empty()) return;
                        out << YAML::Key << k << YAML::Value << YAML::Flow << e.recipients;
                      }}
      .kind("list of age recipients (`age1...`)")
      .defaults_to("none")
      .doc(
          "The public keys every new dump is encrypted to (`age-keygen -y KEYFILE` prints one); "
          "any one of their identities decrypts it. Public: the agent host needs no secret to "
          "encrypt.");
}

ConfigKey<E> recipients_file_key() {
  return ConfigKey<E>{"recipients_file",
                      [](const Section& s, const char* k, E& e) {
                        if (!s.has(k)) return;
                        e.recipients_file = s.required_string(k);
                        try {
                          for (const RecipientLine& r : parse_recipients_file(
                                   read_file(e.recipients_file), e.recipients_file.string())) {
                            e.file_recipients.push_back(r.recipient);
                          }
                        } catch (const std::exception& error) {
                          s.fail(s.get(k), s.key_path(k) + ": " + error.what());
                        }
                      },
                      [](YAML::Emitter& out, const char* k, const E& e) {
                        if (e.recipients_file.empty()) return;
                        out << YAML::Key << k << YAML::Value << e.recipients_file.string();
                        if (!e.file_recipients.empty()) {
                          out << YAML::Comment(join(e.file_recipients, " "));
                        }
                      }}
      .kind("path")
      .defaults_to("none")
      .doc(
          "A file of more recipients, one a line, `#` comments allowed (as `age -R` reads "
          "it); read when the config is loaded.");
}

ConfigKey<E> identity_file_key() {
  return ConfigKey<E>{"identity_file",
                      [](const Section& s, const char* k, E& e) {
                        if (s.has(k)) e.identity_file = s.required_string(k);
                      },
                      [](YAML::Emitter& out, const char* k, const E& e) {
                        if (!e.identity_file.empty()) {
                          out << YAML::Key << k << YAML::Value << e.identity_file.string();
                        }
                      }}
      .kind("path")
      .defaults_to("none")
      .doc(
          "The age identity file (`age-keygen -o FILE`, mode 0600, owned by the agent's user; "
          "it may hold several keys, old and new) used where a backup must be decrypted: "
          "restore, restore tests, `verify --deep`. Only the path is shown, never the keys. "
          "Keep it off the database host when no restore runs there.");
}

}  // namespace

std::vector<std::string> EncryptionConfig::all_recipients() const {
  std::vector<std::string> out = recipients;
  out.insert(out.end(), file_recipients.begin(), file_recipients.end());
  return out;
}

const KeyTable<EncryptionConfig>& encryption_keys() {
  static const KeyTable<E> table = {recipients_key(), recipients_file_key(), identity_file_key()};
  return table;
}

void parse_encryption(const Section& section, TargetConfig& target) {
  E e;
  parse_keys(section, encryption_keys(), e);
  if (e.all_recipients().empty()) {
    section.fail(section.node(), section.path() +
                                     " has no recipients: list age public keys under recipients "
                                     "or in recipients_file (hint: `age-keygen -o key.txt` "
                                     "makes a key and prints its public key)");
  }
  target.encryption = std::move(e);
}

}  // namespace pgbackup
